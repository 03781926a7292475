using XdpStack.Lab;

namespace XdpStack.Appliance.Demo;

/// <summary>Checks the Linux tools a demo drives before it touches anything, and installs the missing ones on Debian when it can.</summary>
internal static class DemoPrerequisites
{
    /// <summary>Each tool the demos run and the Debian package that has it.</summary>
    public static readonly (string Tool, string Package)[] Tools =
    [
        ("ip", "iproute2"),
        ("ethtool", "ethtool"),
        ("ping", "iputils-ping"),
        ("traceroute", "traceroute"),
    ];

    /// <summary>Returns normally when every tool is there (installing missing ones with apt-get as root); otherwise throws with the one line that installs them.</summary>
    public static void Ensure(TextWriter o)
    {
        string[] missing = [.. Tools.Where(t => !Shell.Exists(t.Tool)).Select(t => t.Package).Distinct()];
        if (missing.Length == 0)
            return;
        string install = "apt-get install -y " + string.Join(' ', missing);
        if (!Environment.IsPrivilegedProcess || !Shell.Exists("apt-get"))
            throw new ApplianceException($"the demo needs {string.Join(", ", missing)}: run 'sudo {install}' first");
        o.WriteLine($"Installing what the demo needs: {install}");
        o.Flush();
        CommandResult update = Shell.Run("apt-get", ["update", "-qq"], TimeSpan.FromMinutes(5));
        CommandResult result = Shell.Run("apt-get", ["install", "-y", "-qq", .. missing], TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0 || Tools.Any(t => missing.Contains(t.Package) && !Shell.Exists(t.Tool)))
            throw new ApplianceException($"could not install {string.Join(", ", missing)} ('{install}' said: {(result.StandardError + update.StandardError).Trim()})");
    }
}
