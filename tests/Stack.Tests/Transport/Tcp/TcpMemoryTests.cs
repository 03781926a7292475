using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using Xunit.Abstractions;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

public class TcpMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void EstablishedPath_EchoDataAndAcks_AllocatesNothing()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        uint iss = f.Connect(7);
        const int Rounds = 300;
        const int Size = 100;
        // Warm-up: the first segment's path (the send ring's first use, JIT) before the window.
        f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[Size], window: 512));
        var frames = new List<byte[]>();
        for (int i = 1; i <= Rounds; i++)
            frames.Add(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001 + (uint)(i * Size), iss + 1 + (uint)(i * Size), new byte[Size], window: 512));
        long sentBefore = f[StatCounter.TcpSegmentsSent];
        long allocated = f.Stack.AllocatedWhileInjecting(frames, rounds: 1);
        Assert.Equal(0, allocated);
        Assert.Equal(Rounds, f[StatCounter.TcpSegmentsSent] - sentBefore);
        Assert.Equal((Rounds + 1) * Size, f[StatCounter.TcpBytesSent]);
    }

    [Fact]
    public void SackPaths_BlocksOutAndRecoveryIn_AllocateNothing()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        // Two connections run the same script: the first warms the paths up (JIT, the send ring's first use), the second is measured.
        List<byte[]> Script(ushort port)
        {
            uint iss = f.Connect(7, clientPort: port);
            uint S(int i) => iss + 1 + (uint)(i * 1460);
            const uint Ack = 1001 + 14600;
            return
            [
                // The second half first: our ACK carries a SACK block; then the first half, and ten segments of echo go out.
                Segment(7, TcpFlags.Ack, 1001 + 7300, iss + 1, new byte[7300], window: 512, clientPort: port),
                Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[7300], window: 512, clientPort: port),
                // S1 and S3 lost: SACK recovery retransmits both, then everything is ACKed.
                Segment(7, TcpFlags.Ack, Ack, S(1), window: 512, clientPort: port),
                Segment(7, TcpFlags.Ack, Ack, S(1), window: 512, clientPort: port, sack: Sack((S(4), S(6)), (S(2), S(3)))),
                Segment(7, TcpFlags.Ack, Ack, S(1), window: 512, clientPort: port, sack: Sack((S(4), S(8)), (S(2), S(3)))),
                Segment(7, TcpFlags.Ack, Ack, S(3), window: 512, clientPort: port, sack: Sack((S(4), S(8)))),
                Segment(7, TcpFlags.Ack, Ack, S(10), window: 512, clientPort: port),
            ];
        }
        List<byte[]> warm = Script(41000);
        List<byte[]> measured = Script(41001);
        f.Stack.AllocatedWhileInjecting(warm, rounds: 1);
        long allocated = f.Stack.AllocatedWhileInjecting(measured, rounds: 1);
        Assert.Equal(4, f[StatCounter.TcpSackRetransmits]);
        Assert.Equal(2, f[StatCounter.TcpSackRecoveries]);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void IdleEstablishedConnection_BytesBesideItsBuffers()
    {
        const int Connections = 2000;
        var settings = new TcpSettings();
        var f = new TcpFixture(settings);
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Discard, 9)));
        var syns = new List<byte[]>();
        for (int i = 0; i < Connections; i++)
            syns.Add(Segment(9, TcpFlags.Syn, 1000, 0, mss: 1460, windowScale: 7, sackPermitted: true, timestamps: new TcpTimestamps(1, 0), clientPort: (ushort)(20000 + i)));
        byte[] sink = new byte[2048];
        var synAcks = new List<uint>();
        long halfOpen = AllocationWindow.Measure(() =>
        {
            foreach (byte[] syn in syns)
            {
                f.Stack.Link.InjectInbound(syn);
                f.Stack.Link.Read(sink);
            }
        });
        foreach (TcpConnection c in f.Tcp.ConnectionsOf(0))
            Assert.Equal(TcpState.SynReceived, c.State);
        // The ISNs, from the connections' SYN-ACKs: rebuild them by asking each again (a retransmitted SYN).
        for (int i = 0; i < Connections; i++)
        {
            f.Stack.Link.InjectInbound(syns[i]);
            synAcks.Add(Parse(f.Stack.Link.Read()!).Sequence);
        }
        var acks = new List<byte[]>();
        for (int i = 0; i < Connections; i++)
            acks.Add(Segment(9, TcpFlags.Ack, 1001, synAcks[i] + 1, window: 512, timestamps: new TcpTimestamps(2, 0), clientPort: (ushort)(20000 + i)));
        long established = AllocationWindow.Measure(() =>
        {
            foreach (byte[] ack in acks)
                f.Stack.Link.InjectInbound(ack);
        });
        Assert.Equal(Connections, f.Tcp.ConnectionsOf(0).Count(c => c.State == TcpState.Established));
        long buffers = (long)Connections * (settings.ReceiveBufferSize + settings.SendBufferSize);
        double perConnection = (double)(halfOpen + established - buffers) / Connections;
        output.WriteLine($"{Connections} connections: half-open {halfOpen / (double)Connections:F0} B each (object, table entry, growth); established adds {(established - buffers) / (double)Connections:F0} B beside the two buffers of {settings.ReceiveBufferSize} + {settings.SendBufferSize} B; total beside buffers {perConnection:F0} B");
        // Issue 13's target: at most 1 KiB per idle established connection beside its buffers.
        Assert.InRange(perConnection, 100, 1024);
    }
}
