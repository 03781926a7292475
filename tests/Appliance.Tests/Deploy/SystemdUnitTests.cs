using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// deploy/systemd/xdpstack.service passes `systemd-analyze verify`. The unit starts /usr/local/bin/xdpstack, which
/// verify requires to exist; the test verifies a copy whose ExecStart is the xdpstack the build put next to the
/// tests, and is otherwise the same file.
/// </summary>
public sealed class SystemdUnitTests
{
    private const string InstalledPath = "/usr/local/bin/xdpstack";

    /// <summary>The capabilities the unit grants (AmbientCapabilities, which must equal the bounding set).</summary>
    public static string[] Capabilities()
    {
        string[] lines = File.ReadAllLines(DeployFiles.SystemdUnit);
        string[] ambient = Value(lines, "AmbientCapabilities").Split(' ');
        Assert.Equal(ambient.Order(), Value(lines, "CapabilityBoundingSet").Split(' ').Order());
        return ambient;
    }

    [Fact]
    public void Verify_Unit_IsClean()
    {
        CommandResult r = Verify(File.ReadAllText(DeployFiles.SystemdUnit));
        // verify reports unknown keys and bad values on stderr but may still exit 0: both must be clean.
        Assert.True(r.ExitCode == 0 && r.StandardError.Trim().Length == 0, DeployFiles.Output(r));
    }

    [Theory]
    [InlineData("AmbientCapabilities=", "AmbientCapabilites=")]  // a misspelled key is ignored with a warning
    [InlineData("Type=notify", "Type=notifying")]
    [InlineData("LimitMEMLOCK=infinity", "LimitMEMLOCK=lots")]
    public void Verify_AWrongUnit_IsReported(string original, string changed)
    {
        string unit = File.ReadAllText(DeployFiles.SystemdUnit);
        Assert.Contains(original, unit);
        CommandResult r = Verify(unit.Replace(original, changed, StringComparison.Ordinal));
        Assert.True(r.ExitCode != 0 || r.StandardError.Trim().Length > 0, "verify accepted " + changed);
    }

    [Fact]
    public void Unit_NotifiesReloadsWithHupAndLocksMemory()
    {
        string[] lines = File.ReadAllLines(DeployFiles.SystemdUnit);
        Assert.Equal("notify", Value(lines, "Type"));
        Assert.Equal(InstalledPath + " run -c /etc/xdpstack/xdpstack.toml", Value(lines, "ExecStart"));
        Assert.Equal("/bin/kill -HUP $MAINPID", Value(lines, "ExecReload"));
        Assert.Equal("infinity", Value(lines, "LimitMEMLOCK"));
        Assert.Equal("on-failure", Value(lines, "Restart"));
        Assert.Equal(["CAP_BPF", "CAP_IPC_LOCK", "CAP_NET_ADMIN", "CAP_NET_RAW"], Capabilities().Order());
        // AF_XDP sockets must stay allowed by the address-family filter.
        Assert.Contains("AF_XDP", Value(lines, "RestrictAddressFamilies").Split(' '));
    }

    private static CommandResult Verify(string unit)
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, "xdpstack");
        Assert.True(File.Exists(apphost), "the xdpstack apphost is not in the test output");
        Assert.Contains(InstalledPath + " ", unit);
        string dir = DeployFiles.TempDirectory();
        try
        {
            string path = Path.Combine(dir, "xdpstack.service");
            File.WriteAllText(path, unit.Replace(InstalledPath + " ", apphost + " ", StringComparison.Ordinal));
            return DeployFiles.Tool("systemd-analyze", "systemd", "verify", path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Value(string[] lines, string key)
    {
        string[] matches = lines.Where(l => l.StartsWith(key + "=", StringComparison.Ordinal)).ToArray();
        Assert.True(matches.Length == 1, $"{key}= appears {matches.Length} times in the unit");
        return matches[0][(key.Length + 1)..];
    }
}
