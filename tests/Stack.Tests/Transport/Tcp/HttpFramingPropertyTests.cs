using System.Text;
using CsCheck;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>
/// Random pipelines of requests (no body, a Content-Length body, a chunked body with random chunk sizes, extensions
/// and trailers), cut into random segments: the responder answers each exactly once and in order, and refuses none.
/// </summary>
public class HttpFramingPropertyTests
{
    // One request: kind 0 GET, 1 Content-Length body, 2 chunked body; sizes are the body's chunks (or its length).
    private static string Request(int kind, int[] sizes, bool extension, int trailers, int index)
    {
        var r = new StringBuilder();
        string filler(int n) => new((char)('a' + (index % 26)), n);
        switch (kind)
        {
            case 0:
                r.Append("GET /").Append(index).Append(" HTTP/1.1\r\nHost: x\r\n\r\n");
                break;
            case 1:
                int length = sizes.Sum();
                r.Append("POST /").Append(index).Append(" HTTP/1.1\r\nHost: x\r\nContent-Length: ").Append(length).Append("\r\n\r\n").Append(filler(length));
                break;
            default:
                r.Append("POST /").Append(index).Append(" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
                foreach (int size in sizes.Where(s => s > 0))
                {
                    r.Append(size.ToString(index % 2 == 0 ? "x" : "X", System.Globalization.CultureInfo.InvariantCulture));
                    if (extension)
                        r.Append(";n=\"v\"");
                    r.Append("\r\n").Append(filler(size)).Append("\r\n");
                }
                r.Append("0\r\n");
                for (int t = 0; t < trailers; t++)
                    r.Append("T").Append(t).Append(": v\r\n");
                r.Append("\r\n");
                break;
        }
        return r.ToString();
    }

    [Fact]
    public void AnyPipelineAnyCuts_EachRequestAnsweredOnceInOrder()
    {
        Gen.Select(Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3000].Array[1, 5], Gen.Bool, Gen.Int[0, 2]).Array[1, 8], Gen.Int[1, 1460].Array[1, 30])
            .Sample((requests, cuts) =>
            {
                var f = new TcpFixture();
                Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80, null, new HttpResponse(200, 3))));
                uint iss = f.Connect(80);
                byte[] stream = Encoding.ASCII.GetBytes(string.Concat(requests.Select((r, i) => Request(r.Item1, r.Item2, r.Item3, r.Item4, i))));
                var answered = new StringBuilder();
                uint acked = iss + 1;
                for (int offset = 0, c = 0; offset < stream.Length; c++)
                {
                    int n = Math.Min(cuts[c % cuts.Length], stream.Length - offset);
                    List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001 + (uint)offset, acked, stream.AsSpan(offset, n), window: 512));
                    foreach (Sent s in sent)
                        answered.Append(Encoding.ASCII.GetString(s.Payload));
                    acked += (uint)sent.Sum(s => s.Payload.Length);
                    offset += n;
                }
                string one = "HTTP/1.1 200 OK\r\nServer: xdpstack\r\nContent-Length: 3\r\n\r\nxxx";
                Assert.Equal(string.Concat(Enumerable.Repeat(one, requests.Length)), HttpResponderTests.WithoutDate(answered.ToString()));
                Assert.Equal((requests.Length, 0), (f[StatCounter.HttpRequests], f[StatCounter.HttpBadRequests]));
                Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
            }, iter: 300);
    }
}
