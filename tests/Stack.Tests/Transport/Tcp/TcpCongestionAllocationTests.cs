using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

public class TcpCongestionAllocationTests
{
    [Theory]
    [InlineData(TcpCongestionControl.Cubic)]
    [InlineData(TcpCongestionControl.NewReno)]
    public void LossThenCongestionAvoidance_AllocatesNothing(TcpCongestionControl algorithm)
    {
        var f = new TcpFixture(new TcpSettings { CongestionControl = algorithm });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        const int Rounds = 40;
        // Four segments of echo out, three duplicate ACKs (fast retransmit: ssthresh falls, CUBIC takes W_max), the
        // full ACK (recovery ends), then two segments in and one ACKed per round: the echo's queue grows, so cwnd is
        // what holds it back (cwnd grows only then, as in Linux) and every further ACK runs congestion avoidance.
        List<byte[]> Script(ushort port)
        {
            uint iss = f.Connect(7, clientPort: port);
            const uint Data = 1001 + 5840;
            var frames = new List<byte[]> { Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[5840], window: 512, clientPort: port) };
            for (int i = 0; i < 3; i++)
                frames.Add(Segment(7, TcpFlags.Ack, Data, iss + 1, window: 512, clientPort: port));
            for (int k = 0; k < Rounds; k++)
            {
                for (int j = 0; j < 2; j++)
                    frames.Add(Segment(7, TcpFlags.Ack, Data + (uint)((2 * k + j) * 1460), iss + 1 + 5840 + (uint)(k * 1460), new byte[1460], window: 512, clientPort: port));
            }
            return frames;
        }
        List<byte[]> warm = Script(41000);
        List<byte[]>[] measured = [Script(41001), Script(41002), Script(41003)];
        f.Stack.AllocatedWhileInjecting(warm, rounds: 1);
        byte[] sink = new byte[2048];
        int runs = 0;
        long allocated = AllocationWindow.Measure(() =>
        {
            foreach (byte[] frame in measured[runs])
            {
                f.Stack.Link.InjectInbound(frame);
                while (f.Stack.Link.Read(sink) >= 0)
                {
                }
            }
            runs++;
        }, attempts: measured.Length);
        Assert.Equal(0, allocated);
        Assert.Equal(1 + runs, f[StatCounter.TcpFastRetransmits]);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0), c => c.RemotePort == 41000 + runs);
        Assert.Equal(algorithm, c.CongestionControl);
        // The measured ACKs ran congestion avoidance: cwnd grew past the ssthresh the loss left.
        Assert.Equal(algorithm == TcpCongestionControl.Cubic ? 7 * 1460 : 5 * 1460, c.SlowStartThreshold);
        Assert.True(c.CongestionWindow > c.SlowStartThreshold + 1460, $"cwnd {c.CongestionWindow}, ssthresh {c.SlowStartThreshold}");
    }
}
