using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using XdpStack.Appliance.Demo;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// Debian's Prometheus and node_exporter run inside a lab namespace with deploy/prometheus/prometheus.yml as it is:
/// a fresh namespace has its own loopback, so the file's targets (127.0.0.1:9469 and :9100) are the appliance and
/// the node_exporter started there, and nothing of the host is scraped or disturbed.
/// </summary>
internal sealed class LabPrometheus : IDisposable
{
    private const string PrometheusAddress = "127.0.0.1:9090";

    private readonly NetNamespace _ns;
    private readonly string _dataDirectory;
    private readonly LabProcess _nodeExporter;
    private readonly LabProcess _prometheus;
    private readonly HttpClient _http;

    public LabPrometheus(NetNamespace ns)
    {
        _ns = ns;
        _dataDirectory = DeployFiles.TempDirectory();
        _nodeExporter = LabProcess.Start(ns, "prometheus-node-exporter", "prometheus-node-exporter", "--web.listen-address=127.0.0.1:9100");
        _prometheus = LabProcess.Start(ns, "prometheus", "prometheus", "--config.file=" + DeployFiles.PrometheusConfig,
            "--storage.tsdb.path=" + _dataDirectory, "--web.listen-address=" + PrometheusAddress, "--log.level=warn");
        // The sockets are made in the namespace; once connected they work from any thread.
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = (context, _) => ValueTask.FromResult<Stream>(new NetworkStream(Connect(context.DnsEndPoint.Port), ownsSocket: true)),
        };
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
        try
        {
            WaitUntilReady(TimeSpan.FromSeconds(60));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Prometheus listens only after it has opened its TSDB, which on a machine that has just installed it (cold page
    /// cache, a test run beside it) took over 3 s in a fresh-clone CI run: queries before that are refused.
    /// </summary>
    private void WaitUntilReady(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_prometheus.HasExited)
                Assert.Fail($"prometheus exited before it was ready.\nprometheus: {_prometheus.Output}");
            try
            {
                using HttpResponseMessage response = _http.GetAsync($"http://{PrometheusAddress}/-/ready").GetAwaiter().GetResult();
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (clock.Elapsed > timeout)
                Assert.Fail($"prometheus was not ready within {timeout}.\nprometheus: {_prometheus.Output}");
            Thread.Sleep(200);
        }
    }

    /// <summary>GET http://127.0.0.1:PORT/PATH inside the namespace.</summary>
    public string Get(int port, string pathAndQuery)
    {
        using HttpResponseMessage response = _http.GetAsync($"http://127.0.0.1:{port}{pathAndQuery}").GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, $"GET {pathAndQuery}: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>An instant query; the result vector (or the error Prometheus gave).</summary>
    public (JsonElement[] Result, string? Error) Query(string expr)
    {
        using HttpResponseMessage response = _http.GetAsync($"http://{PrometheusAddress}/api/v1/query?query={Uri.EscapeDataString(expr)}").GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        JsonElement root = doc.RootElement;
        if (root.GetProperty("status").GetString() != "success")
            return ([], root.GetProperty("error").GetString());
        return (root.GetProperty("data").GetProperty("result").EnumerateArray().Select(e => e.Clone()).ToArray(), null);
    }

    /// <summary>The values of <paramref name="label"/> on series matching <paramref name="match"/>.</summary>
    public string[] LabelValues(string label, string match)
    {
        using var doc = JsonDocument.Parse(Get(9090, $"/api/v1/label/{label}/values?match[]={Uri.EscapeDataString(match)}"));
        return doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    /// <summary>The state (pending or firing) of each active alert, by name.</summary>
    public Dictionary<string, string> Alerts()
    {
        using var doc = JsonDocument.Parse(Get(9090, "/api/v1/alerts"));
        var alerts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonElement a in doc.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray())
            alerts[a.GetProperty("labels").GetProperty("alertname").GetString()!] = a.GetProperty("state").GetString()!;
        return alerts;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling every second; fails with the processes' output otherwise.</summary>
    public void WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                Assert.Fail($"{what} within {timeout}.\nprometheus: {_prometheus.Output}\nnode_exporter: {_nodeExporter.Output}");
            Thread.Sleep(1000);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _prometheus.Dispose();
        _nodeExporter.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private Socket Connect(int port) => NamespaceThread.Run(_ns, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    });

    /// <summary>A program run under <c>ip netns exec</c> (which execs in place), killed at dispose.</summary>
    private sealed class LabProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private LabProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output { get { lock (_output) return _output.ToString(); } }

        public bool HasExited => _process.HasExited;

        public static LabProcess Start(NetNamespace ns, string package, string program, params string[] args)
        {
            Assert.True(Shell.Exists(program), $"{program} is not installed: apt-get install {package} (./test.sh installs it through .ci/setup)");
            var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in (string[])["netns", "exec", ns.Name, program, .. args])
                psi.ArgumentList.Add(a);
            return new LabProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start " + program));
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
