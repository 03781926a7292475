using XdpStack.Appliance.Config;

namespace XdpStack.Appliance.Tests.Config;

/// <summary>Loads config text the way <c>xdpstack run</c> loads a file, under the name <c>test.toml</c>.</summary>
internal static class ConfigText
{
    public const string FileName = "test.toml";
    public const string FullPath = "/etc/xdpstack/test.toml";

    /// <summary>Every error as printed: <c>test.toml:LINE:COLUMN: MESSAGE</c>.</summary>
    public static string[] Errors(string toml, IHostFacts? host = null)
    {
        bool valid = ConfigLoader.TryParse(toml, FileName, FullPath, host, out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors);
        Assert.False(valid, "the config was accepted");
        Assert.Null(config);
        return [.. errors.Select(e => e.ToString())];
    }

    /// <summary>The config, or a failed test listing every error.</summary>
    public static ApplianceConfig Valid(string toml, IHostFacts? host = null)
    {
        bool valid = ConfigLoader.TryParse(toml, FileName, FullPath, host, out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors);
        Assert.True(valid, "config errors:\n" + string.Join('\n', errors));
        Assert.Empty(errors);
        return config!;
    }
}
