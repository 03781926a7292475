using CsCheck;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>Random stream, random cuts, random order with duplicates and drops, random ACK timing: the echo returns the stream exactly.</summary>
public class TcpReorderPropertyTests
{
    [Fact]
    public void Echo_AnyArrivalOrder_StreamComesBackIntact()
    {
        Gen.Select(Gen.Int[1, 12_000], Gen.Int[1, 1460].Array[1, 40], Gen.Int[0, 1_000_000].Array[8, 120], Gen.Int[0, 4])
            .Sample((length, cuts, schedule, bufferShape) =>
            {
                var settings = new TcpSettings
                {
                    ReceiveBufferSize = 2048 << bufferShape,
                    SendBufferSize = 1024 << (4 - bufferShape),
                };
                var f = new TcpFixture(settings);
                Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
                uint iss = f.Connect(7);
                byte[] stream = new byte[length];
                for (int i = 0; i < length; i++)
                    stream[i] = (byte)((i * 7 + (i >> 8)) % 253);

                // The segments: the stream cut at sizes taken in turn from cuts.
                var segments = new List<(int Offset, int Length)>();
                for (int offset = 0, c = 0; offset < length; c++)
                {
                    int n = Math.Min(cuts[c % cuts.Length], length - offset);
                    segments.Add((offset, n));
                    offset += n;
                }

                byte[] echoed = new byte[length];
                bool[] seen = new bool[length];
                uint highestEchoed = iss + 1;
                void Collect(List<Sent> sent)
                {
                    foreach (Sent s in sent)
                    {
                        int at = (int)(s.Sequence - (iss + 1));
                        Assert.True(at >= 0 && at + s.Payload.Length <= length, $"echo of [{at}, {at + s.Payload.Length}) is outside the stream");
                        for (int i = 0; i < s.Payload.Length; i++)
                        {
                            // A retransmission must carry the same octets as the first copy.
                            Assert.True(!seen[at + i] || echoed[at + i] == s.Payload[i], $"octet {at + i} echoed twice with different values");
                            echoed[at + i] = s.Payload[i];
                            seen[at + i] = true;
                        }
                        uint end = s.Sequence + (uint)s.Payload.Length;
                        if (TcpSequence.GreaterThan(end, highestEchoed))
                            highestEchoed = end;
                    }
                }
                // The client's SND.NXT: its pure ACKs carry it, as Linux's do.
                uint clientNext = 1001;
                byte[] Data(int index)
                {
                    uint end = 1001 + (uint)(segments[index].Offset + segments[index].Length);
                    if (TcpSequence.GreaterThan(end, clientNext))
                        clientNext = end;
                    return DataSegment(index);
                }
                byte[] DataSegment(int index) => Segment(7, TcpFlags.Ack, 1001 + (uint)segments[index].Offset, iss + 1, stream.AsSpan(segments[index].Offset, segments[index].Length));

                // The scripted part: each step sends a random segment (again, out of order, or never), ACKs what came back, or lets 40 ms pass.
                foreach (int step in schedule)
                {
                    switch (step % 5)
                    {
                        case 0:
                        case 1:
                        case 2:
                            Collect(f.Send(Data(step / 5 % segments.Count)));
                            break;
                        case 3:
                            Collect(f.Send(Segment(7, TcpFlags.Ack, clientNext, highestEchoed)));
                            break;
                        default:
                            Collect(f.Advance(TimeSpan.FromMilliseconds(40)));
                            break;
                    }
                }
                // Then a well-behaved client: everything in order, ACKing all that comes back, until the echo is whole.
                for (int round = 0; round < 200 && !(highestEchoed == iss + 1 + (uint)length && seen.All(b => b)); round++)
                {
                    for (int i = 0; i < segments.Count; i++)
                    {
                        Collect(f.Send(Data(i)));
                        Collect(f.Send(Segment(7, TcpFlags.Ack, 1001 + (uint)length, highestEchoed)));
                    }
                    Collect(f.Advance(TimeSpan.FromMilliseconds(250)));
                }
                TcpConnection conn = f.Tcp.ConnectionsOf(0).Single();
                Assert.True(seen.All(b => b), $"not every octet came back: first missing {Array.IndexOf(seen, false)} of {length}, echoed to {highestEchoed - iss - 1}; {conn.State} available {conn.Available} sendspace {conn.SendSpace} cwnd {conn.CongestionWindow} rto {conn.RetransmissionTimeout} rx {f[StatCounter.TcpBytesReceived]} tx {f[StatCounter.TcpBytesSent]} retx {f[StatCounter.TcpRetransmits]}");
                Assert.Equal(stream, echoed);
            }, iter: 300);
    }
}
