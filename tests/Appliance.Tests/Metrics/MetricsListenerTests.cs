using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using XdpStack.Appliance.Metrics;

namespace XdpStack.Appliance.Tests.Metrics;

/// <summary>The management listener on loopback, with an ephemeral port.</summary>
public sealed class MetricsListenerTests
{
    [Fact]
    public void Get_Metrics_AnswersTheExposition_OtherPathsAndMethodsAreRefused()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        using IDisposable _ = metrics.Attach(new ProcessMetricsSource("run", new ConfigReloadCounters()));
        using MetricsListener listener = MetricsListener.Start(new IPEndPoint(IPAddress.Loopback, 0), metrics, "test", []);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{MetricsListener.Format(listener.Endpoint)}/") };

        using HttpResponseMessage ok = client.GetAsync("metrics").GetAwaiter().GetResult();
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.StartsWith("text/plain", ok.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        string body = ok.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.Equal(1, Exposition.Parse(body).Value("xdpstack_build_info", "command=run"));

        // Query strings are ignored, as Prometheus's own exporters do.
        using HttpResponseMessage query = client.GetAsync("metrics?x=1").GetAwaiter().GetResult();
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        using HttpResponseMessage missing = client.GetAsync("other").GetAwaiter().GetResult();
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using HttpResponseMessage post = client.PostAsync("metrics", new StringContent("")).GetAwaiter().GetResult();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public void Start_PortInUse_ErrorNamesTheAddressAndTheSetting()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        using MetricsListener first = MetricsListener.Start(new IPEndPoint(IPAddress.Loopback, 0), metrics, "[management] listen", []);

        var e = Assert.Throws<ApplianceException>(() => MetricsListener.Start(first.Endpoint, metrics, "[management] listen", []));

        Assert.Contains($"127.0.0.1:{first.Endpoint.Port}", e.Message);
        Assert.Contains("[management] listen", e.Message);
        Assert.Contains("in use", e.Message);
    }

    [Fact]
    public void Dispose_StopsListening_AndThePortCanBeBoundAgainAtOnce()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        MetricsListener listener = MetricsListener.Start(new IPEndPoint(IPAddress.Loopback, 0), metrics, "test", []);
        IPEndPoint endpoint = listener.Endpoint;
        using (var client = new HttpClient())
            Assert.Equal(HttpStatusCode.OK, client.GetAsync($"http://{MetricsListener.Format(endpoint)}/metrics").GetAwaiter().GetResult().StatusCode);
        listener.Dispose();

        // The connection just served sits in TIME_WAIT on the listener's side; a restart must still bind.
        using MetricsListener again = MetricsListener.Start(endpoint, metrics, "test", []);
        Assert.Equal(endpoint, again.Endpoint);
    }

    [Fact]
    public void Dispose_WithAClientThatSendsNothing_DoesNotWaitForItsTimeout()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        MetricsListener listener = MetricsListener.Start(new IPEndPoint(IPAddress.Loopback, 0), metrics, "test", []);
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        stalled.Connect(listener.Endpoint);
        // Let the listener accept it and block reading its request.
        Thread.Sleep(500);

        var clock = Stopwatch.StartNew();
        listener.Dispose();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"Dispose took {clock.Elapsed.TotalSeconds:F1} s (the client timeout is {MetricsListener.ClientTimeoutMilliseconds / 1000} s)");
    }
}
