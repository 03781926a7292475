using System.Text.Json;
using System.Text.RegularExpressions;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// docker-compose.yml and the appliance's Dockerfile. No image can be pulled or built here, so the compose file is
/// checked by Debian's docker-compose (`config`), and the rest by reading what it and the Dockerfile refer to.
/// </summary>
public sealed partial class ComposeFileTests
{
    [Fact]
    public void ComposeConfig_IsValid()
    {
        CommandResult r = DeployFiles.Tool("docker-compose", "docker-compose", "-f", DeployFiles.Compose, "config", "-q");
        Assert.True(r.ExitCode == 0 && r.StandardError.Length == 0, DeployFiles.Output(r));
    }

    [Fact]
    public void ComposeConfig_AMisspelledKey_Fails()
    {
        string dir = DeployFiles.TempDirectory();
        try
        {
            string path = Path.Combine(dir, "docker-compose.yml");
            File.WriteAllText(path, File.ReadAllText(DeployFiles.Compose).Replace("    ulimits:", "    ulimit:", StringComparison.Ordinal));
            CommandResult r = DeployFiles.Tool("docker-compose", "docker-compose", "-f", path, "config", "-q");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("ulimit", r.StandardError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Appliance_HostNetworkCapabilitiesMemlockBpffsAndTheExampleConfig()
    {
        JsonElement xdpstack = Services().GetProperty("xdpstack");
        Assert.Equal("host", xdpstack.GetProperty("network_mode").GetString());
        Assert.Equal(["ALL"], Strings(xdpstack.GetProperty("cap_drop")));
        // The same set as the systemd unit; DeployCapabilitiesTests shows that xdpstack runs with exactly these.
        Assert.Equal(SystemdUnitTests.Capabilities().Select(c => c["CAP_".Length..]).Order(), Strings(xdpstack.GetProperty("cap_add")).Order());
        JsonElement memlock = xdpstack.GetProperty("ulimits").GetProperty("memlock");
        Assert.Equal(-1, memlock.GetProperty("soft").GetInt32());
        Assert.Equal(-1, memlock.GetProperty("hard").GetInt32());
        string[] volumes = Strings(xdpstack.GetProperty("volumes"));
        Assert.Contains("/sys/fs/bpf:/sys/fs/bpf", volumes);
        Assert.Contains(volumes, v => v.StartsWith("./deploy/examples/", StringComparison.Ordinal) && v.EndsWith(":/etc/xdpstack/xdpstack.toml:ro", StringComparison.Ordinal));
        Assert.Equal("deploy/docker/Dockerfile", xdpstack.GetProperty("build").GetProperty("dockerfile").GetString());
    }

    [Fact]
    public void EveryBindMountedRepositoryPath_Exists()
    {
        foreach (JsonProperty service in Services().EnumerateObject())
        {
            if (!service.Value.TryGetProperty("volumes", out JsonElement volumes))
                continue;
            foreach (string volume in Strings(volumes).Where(v => v.StartsWith("./", StringComparison.Ordinal)))
            {
                string path = Path.Combine(DeployFiles.RepoRoot, volume[2..volume.IndexOf(':', StringComparison.Ordinal)]);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{service.Name} mounts {volume}, which is not in the repository");
            }
        }
    }

    [Fact]
    public void Provisioning_ProviderLoadsTheFolderComposeMountsTheDashboardsIn()
    {
        string path = DeployFiles.Yaml(DeployFiles.DashboardProvider).GetProperty("providers")[0].GetProperty("options").GetProperty("path").GetString()!;
        string[] grafanaVolumes = Services().GetProperty("grafana").GetProperty("volumes")
            .EnumerateArray().Select(v => v.GetString()!).ToArray();
        Assert.Contains($"./deploy/grafana/dashboards:{path}:ro", grafanaVolumes);
    }

    [Fact]
    public void Grafana_IsTheReleaseWhoseSchemaTheDashboardIsCheckedAgainst()
    {
        string image = Services().GetProperty("grafana").GetProperty("image").GetString()!;
        string schema = DeployFiles.Json(Path.Combine(DeployFiles.DashboardCheck, "package.json"))
            .GetProperty("devDependencies").GetProperty("@grafana/schema").GetString()!;
        Assert.Equal("grafana/grafana:" + schema, image);
    }

    [Fact]
    public void Prometheus_UsesTheConfigOfDeployPrometheusOnLoopback()
    {
        JsonElement prometheus = Services().GetProperty("prometheus");
        Assert.Contains("./deploy/prometheus:/etc/prometheus:ro", Strings(prometheus.GetProperty("volumes")));
        string[] command = Strings(prometheus.GetProperty("command"));
        Assert.Contains("--config.file=/etc/prometheus/prometheus.yml", command);
        // The Grafana data source's URL.
        string url = DeployFiles.Yaml(DeployFiles.DataSource).GetProperty("datasources")[0].GetProperty("url").GetString()!;
        Assert.Contains("--web.listen-address=" + new Uri(url).Authority, command);
    }

    [Fact]
    public void Dockerfile_CopiesEveryProjectTheApplianceReferences()
    {
        // The restore layer copies project files one by one: a project the appliance comes to reference must be added.
        string dockerfile = File.ReadAllText(DeployFiles.Dockerfile);
        var copied = CopiedProject().Matches(dockerfile).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var needed = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(["src/Appliance/Appliance.csproj"]);
        while (pending.TryPop(out string? project))
        {
            if (!needed.Add(project))
                continue;
            string dir = Path.GetDirectoryName(project)!;
            foreach (Match m in ProjectReference().Matches(File.ReadAllText(Path.Combine(DeployFiles.RepoRoot, project))))
                pending.Push(Path.GetRelativePath(DeployFiles.RepoRoot, Path.GetFullPath(Path.Combine(DeployFiles.RepoRoot, dir, m.Groups[1].Value.Replace('\\', '/')))));
        }
        Assert.Equal(needed.Order(), copied.Order());
        foreach (string file in (string[])["global.json", "Directory.Build.props", "Directory.Packages.props", ".editorconfig"])
            Assert.Contains(file, dockerfile);
        Assert.Contains("dotnet publish src/Appliance/Appliance.csproj", dockerfile);
    }

    private static JsonElement Services() => DeployFiles.Yaml(DeployFiles.Compose).GetProperty("services");

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    [GeneratedRegex(@"^COPY (src/\S+\.csproj) ", RegexOptions.Multiline)]
    private static partial Regex CopiedProject();

    [GeneratedRegex(@"<ProjectReference Include=""([^""]+)""")]
    private static partial Regex ProjectReference();
}
