using System.Text;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>A bulk transfer over the in-memory link with segments and ACKs dropped: it completes intact under each congestion control, with and without SACK.</summary>
public class TcpCongestionTransferTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData(TcpCongestionControl.Cubic, true)]
    [InlineData(TcpCongestionControl.Cubic, false)]
    [InlineData(TcpCongestionControl.NewReno, true)]
    [InlineData(TcpCongestionControl.NewReno, false)]
    public void HttpBody_RandomDropsBothWays_ArrivesIntact(TcpCongestionControl algorithm, bool sack)
    {
        const int Body = 300_000;
        const int LossPercent = 3;
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80, null, new HttpResponse(200, Body), CongestionControl: algorithm)));
        uint iss = f.Connect(80);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(algorithm, c.CongestionControl);
        // The Date's 29 octets are whatever second the response was built in; they are checked apart.
        const string DatePrefix = "HTTP/1.1 200 OK\r\nServer: xdpstack\r\nDate: ";
        byte[] expected = [.. Encoding.ASCII.GetBytes($"{DatePrefix}{new string('?', 29)}\r\nContent-Length: {Body}\r\n\r\n"), .. Enumerable.Repeat((byte)'x', Body)];
        byte[] received = new byte[expected.Length];
        var held = new List<(int Start, int End)>(); // received ranges of the response, sorted, merged
        var random = new Random(9438);
        bool Lost() => random.Next(100) < LossPercent;
        int Cumulative() => held.Count > 0 && held[0].Start == 0 ? held[0].End : 0;
        bool avoidance = false;

        byte[] Ack()
        {
            var blocks = default(TcpSackBlocks);
            if (sack)
            {
                foreach ((int start, int end) in held.Where(r => r.Start > 0).Take(TcpSackBlocks.MaxBlocks))
                    blocks.Add(iss + 1 + (uint)start, iss + 1 + (uint)end);
            }
            return Segment(80, TcpFlags.Ack, 1001 + 27, iss + 1 + (uint)Cumulative(), window: 512, sack: blocks);
        }

        // The client takes each segment that is not dropped and ACKs it at once (its ACKs dropped alike); what our
        // side sends in answer is taken in turn. Then 10 ms pass, which lets a timeout fire when all else was lost.
        var pending = new Queue<Sent>(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, window: 512)));
        int rounds = 0;
        for (; rounds < 5000 && Cumulative() < expected.Length; rounds++)
        {
            while (pending.Count > 0)
            {
                Sent s = pending.Dequeue();
                if (Lost() || s.Payload.Length == 0)
                    continue;
                int at = (int)(s.Sequence - (iss + 1));
                Assert.True(at >= 0 && at + s.Payload.Length <= expected.Length, $"[{at}, {at + s.Payload.Length}) is outside the response");
                s.Payload.CopyTo(received, at);
                Hold(held, at, at + s.Payload.Length);
                if (!Lost())
                {
                    foreach (Sent answer in f.Send(Ack()))
                        pending.Enqueue(answer);
                }
                avoidance |= c.SlowStartThreshold != int.MaxValue && c.CongestionWindow > c.SlowStartThreshold;
            }
            foreach (Sent answer in f.Advance(TimeSpan.FromMilliseconds(10)))
                pending.Enqueue(answer);
        }
        output.WriteLine($"{algorithm} sack={sack}: {rounds} rounds, {f[StatCounter.TcpRetransmits]} retransmissions, {f[StatCounter.TcpFastRetransmits]} fast retransmits, {f[StatCounter.TcpTimeouts]} timeouts; cwnd {c.CongestionWindow}, ssthresh {c.SlowStartThreshold}");
        Assert.True(Cumulative() == expected.Length, $"after {rounds} rounds the client holds [0, {Cumulative()}) of {expected.Length}");
        Assert.True(DateTime.TryParseExact(Encoding.ASCII.GetString(received, DatePrefix.Length, 29), "R", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _));
        received.AsSpan(DatePrefix.Length, 29).CopyTo(expected.AsSpan(DatePrefix.Length));
        Assert.Equal(expected, received);
        // The drops were repaired by fast retransmit (not only by timeouts), and the window grew past ssthresh again
        // afterwards: the algorithm's congestion avoidance ran.
        Assert.True(f[StatCounter.TcpFastRetransmits] > 0, "no fast retransmit");
        Assert.True(avoidance, "never in congestion avoidance");
        if (sack)
            Assert.True(f[StatCounter.TcpSackRecoveries] > 0, "no SACK recovery");
    }

    private static void Hold(List<(int Start, int End)> held, int start, int end)
    {
        held.Add((start, end));
        held.Sort();
        for (int i = 0; i + 1 < held.Count;)
        {
            if (held[i + 1].Start <= held[i].End)
            {
                held[i] = (held[i].Start, Math.Max(held[i].End, held[i + 1].End));
                held.RemoveAt(i + 1);
            }
            else
            {
                i++;
            }
        }
    }
}
