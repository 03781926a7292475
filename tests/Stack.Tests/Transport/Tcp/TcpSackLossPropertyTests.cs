using CsCheck;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>Random stream, random loss both ways, a client that SACKs what it holds: the echo comes back exactly, in bounded time, and SACK recovery is what repairs it.</summary>
public class TcpSackLossPropertyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Echo_RandomLossWithSack_StreamComesBackIntact()
    {
        long recoveries = 0, sackRetransmits = 0, timeouts = 0;
        Gen.Select(Gen.Int[1, 60_000], Gen.Int[0, 20], Gen.Int, Gen.Bool).Sample((length, lossPercent, seed, timestamps) =>
        {
            var random = new Random(seed);
            var f = new TcpFixture();
            Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
            uint iss = f.Connect(7, timestamps: timestamps);
            byte[] stream = new byte[length];
            random.NextBytes(stream);
            byte[] echoed = new byte[length];
            var held = new List<(int Start, int End)>(); // the client's received ranges of the echo, sorted, merged
            (int Start, int End) newest = (0, 0);
            int clientAcked = 0; // octets of the client's stream our ACKs cover
            uint tsValue = 200, tsEcho = 0;

            TcpTimestamps? Ts() => timestamps ? new TcpTimestamps(tsValue++, tsEcho) : null;
            bool Lost() => random.Next(100) < lossPercent;
            int Cumulative() => held.Count > 0 && held[0].Start == 0 ? held[0].End : 0;

            void Hold(int start, int end)
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
                newest = (start, end);
            }

            void Receive(List<Sent> sent)
            {
                foreach (Sent s in sent)
                {
                    if (Lost())
                        continue;
                    if (s.Header.Timestamps is { } ts)
                        tsEcho = ts.Value;
                    clientAcked = Math.Max(clientAcked, (int)(s.Ack - 1001));
                    int at = (int)(s.Sequence - (iss + 1));
                    if (s.Payload.Length == 0)
                        continue;
                    Assert.True(at >= 0 && at + s.Payload.Length <= length, $"echo of [{at}, {at + s.Payload.Length}) is outside the stream");
                    Assert.True(stream.AsSpan(at, s.Payload.Length).SequenceEqual(s.Payload), $"echo of [{at}, {at + s.Payload.Length}) differs from the stream");
                    s.Payload.CopyTo(echoed, at);
                    Hold(at, at + s.Payload.Length);
                }
            }

            // The client's ACK: cumulative, and SACK blocks for what it holds beyond, the newest first (RFC 2018 §4).
            byte[] Ack()
            {
                int cumulative = Cumulative();
                var sack = default(TcpSackBlocks);
                int max = timestamps ? 3 : 4;
                var ranges = held.Where(r => r.Start > cumulative).ToList();
                var first = ranges.FirstOrDefault(r => r.Start <= newest.Start && newest.End <= r.End);
                if (first != default)
                    sack.Add(iss + 1 + (uint)first.Start, iss + 1 + (uint)first.End);
                foreach (var r in ranges.Where(r => r != first).Take(max - sack.Count))
                    sack.Add(iss + 1 + (uint)r.Start, iss + 1 + (uint)r.End);
                return Segment(7, TcpFlags.Ack, 1001 + (uint)length, iss + 1 + (uint)cumulative, window: 512, timestamps: Ts(), sack: sack);
            }

            int rounds = 0;
            for (; rounds < 4000 && Cumulative() < length; rounds++)
            {
                // The client sends what our window takes of its stream from what we ACKed (again, after a loss), MSS at a time.
                for (int at = clientAcked, n = 0; at < length && n < 8; at += 1460, n++)
                {
                    int size = Math.Min(1460, length - at);
                    byte[] data = Segment(7, TcpFlags.Ack, 1001 + (uint)at, iss + 1 + (uint)Cumulative(), stream.AsSpan(at, size), window: 512, timestamps: Ts());
                    if (!Lost())
                        Receive(f.Send(data));
                }
                // Its ACKs for what came back, a few per round as a real client sends one per segment or two.
                for (int k = 0; k < 4; k++)
                {
                    byte[] ack = Ack();
                    if (!Lost())
                        Receive(f.Send(ack));
                }
                Receive(f.Advance(TimeSpan.FromMilliseconds(50)));
            }
            Assert.True(Cumulative() == length, $"after {rounds} rounds the client holds [0, {Cumulative()}) of {length} at {lossPercent}% loss; retransmits {f[StatCounter.TcpRetransmits]}, timeouts {f[StatCounter.TcpTimeouts]}");
            Assert.Equal(stream, echoed);
            recoveries += f[StatCounter.TcpSackRecoveries];
            sackRetransmits += f[StatCounter.TcpSackRetransmits];
            timeouts += f[StatCounter.TcpTimeouts];
        }, iter: 100);
        output.WriteLine($"100 runs: {recoveries} SACK recoveries, {sackRetransmits} SACK retransmissions, {timeouts} timeouts");
        // Over the runs, SACK recovery did the repairs that loss called for (the property would hold with timeouts alone).
        Assert.True(recoveries > 0 && sackRetransmits > timeouts, $"recoveries {recoveries}, SACK retransmits {sackRetransmits}, timeouts {timeouts}");
    }
}
