using System.Net.Sockets;
using XdpStack.Appliance.Demo;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Metrics;

/// <summary>An HttpClient whose connections start inside a lab namespace (its loopback is not the test's).</summary>
internal static class NamespaceHttp
{
    /// <remarks>A socket belongs to the namespace of the thread that created it, so only the creation runs there.</remarks>
    public static HttpClient Client(NetNamespace ns, string baseAddress)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                Socket socket = NamespaceThread.Run(ns, () => new Socket(SocketType.Stream, ProtocolType.Tcp));
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(10) };
    }

    public static string Get(HttpClient client, string path)
    {
        using HttpResponseMessage response = client.GetAsync(path).GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }
}
