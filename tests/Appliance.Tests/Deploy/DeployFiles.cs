using System.Text.Json;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>Paths of the deployment files in the repository, and the external checkers the tests run on them.</summary>
internal static class DeployFiles
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string PrometheusConfig => Path.Combine(RepoRoot, "deploy", "prometheus", "prometheus.yml");
    public static string AlertRules => Path.Combine(RepoRoot, "deploy", "prometheus", "alerts.yml");
    public static string AlertTests => Path.Combine(RepoRoot, "deploy", "prometheus", "alerts.test.yml");
    public static string Dashboard => Path.Combine(RepoRoot, "deploy", "grafana", "dashboards", "xdpstack.json");
    public static string DataSource => Path.Combine(RepoRoot, "deploy", "grafana", "provisioning", "datasources", "prometheus.yml");
    public static string DashboardProvider => Path.Combine(RepoRoot, "deploy", "grafana", "provisioning", "dashboards", "xdpstack.yml");
    public static string DashboardCheck => Path.Combine(RepoRoot, "tools", "dashboard-check");
    public static string Compose => Path.Combine(RepoRoot, "docker-compose.yml");
    public static string Dockerfile => Path.Combine(RepoRoot, "deploy", "docker", "Dockerfile");
    public static string SystemdUnit => Path.Combine(RepoRoot, "deploy", "systemd", "xdpstack.service");
    public static string MetricsDoc => Path.Combine(RepoRoot, "docs", "metrics.md");

    /// <summary>Runs a checker that .ci/setup installs; a missing one fails with the package to install, not a vague error.</summary>
    public static CommandResult Tool(string program, string debianPackage, params string[] args)
    {
        Assert.True(Shell.Exists(program), $"{program} is not installed: apt-get install {debianPackage} (./test.sh installs it through .ci/setup)");
        return Shell.Run(program, args, TimeSpan.FromMinutes(2));
    }

    /// <summary>Reads a YAML file through Python's yaml module (installed with docker-compose), as JSON.</summary>
    public static JsonElement Yaml(string path)
    {
        CommandResult r = Tool("python3", "python3-yaml", "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", path);
        Assert.True(r.ExitCode == 0, $"cannot read {path} as YAML: {r.StandardError}");
        using var doc = JsonDocument.Parse(r.StandardOutput);
        return doc.RootElement.Clone();
    }

    public static JsonElement Json(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    /// <summary>A fresh directory for mutated copies of the deployment files, removed by the caller.</summary>
    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "xdpstack-deploy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static string Output(CommandResult r) => $"exit {r.ExitCode}\nstdout:\n{r.StandardOutput}\nstderr:\n{r.StandardError}";

    private static string FindRepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "XdpStack.sln")))
            dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("XdpStack.sln not found above " + AppContext.BaseDirectory);
    }
}
