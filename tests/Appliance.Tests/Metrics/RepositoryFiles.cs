namespace XdpStack.Appliance.Tests.Metrics;

/// <summary>Files of the repository the tests hold the code to (docs/metrics.md).</summary>
internal static class RepositoryFiles
{
    /// <summary>The repository's root: the first directory above the test assembly that holds XdpStack.sln.</summary>
    public static string Root
    {
        get
        {
            for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "XdpStack.sln")))
                    return d.FullName;
            }
            throw new InvalidOperationException("XdpStack.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));
}
