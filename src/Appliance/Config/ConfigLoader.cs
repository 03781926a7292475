using System.Diagnostics.CodeAnalysis;
using XdpStack.Appliance.Config.Toml;

namespace XdpStack.Appliance.Config;

/// <summary>Reads a config file for <c>xdpstack run</c> and checks all of it, at start and on every reload.</summary>
internal static class ConfigLoader
{
    /// <summary>Reads and checks <paramref name="path"/>; on failure, <paramref name="errors"/> holds every problem in file order.</summary>
    /// <param name="path">The file, as the user named it (errors quote it this way).</param>
    /// <param name="host">The machine to check devices and CPUs against; null skips those checks.</param>
    /// <param name="config">The validated configuration, when the file has no error.</param>
    /// <param name="errors">Every error found; empty on success.</param>
    public static bool TryLoad(string path, IHostFacts? host, [NotNullWhen(true)] out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            config = null;
            errors = [new ConfigError(path, null, "cannot read the config file: " + reason)];
            return false;
        }
        return TryParse(text, path, Path.GetFullPath(path), host, out config, out errors);
    }

    /// <summary>Checks config text; <paramref name="displayPath"/> names it in errors, <paramref name="sourcePath"/> goes into the result.</summary>
    public static bool TryParse(string text, string displayPath, string sourcePath, IHostFacts? host,
        [NotNullWhen(true)] out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors)
    {
        var list = new ConfigErrorList(displayPath);
        TomlTable? root = TomlTreeBuilder.Parse(text, list);
        config = root is null ? null : ConfigBinder.Bind(root, sourcePath, list, host);
        errors = list.Sorted();
        return config is not null && errors.Count == 0;
    }
}
