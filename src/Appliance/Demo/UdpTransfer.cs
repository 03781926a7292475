using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using XdpStack.Lab;

namespace XdpStack.Appliance.Demo;

/// <summary>Linux UDP sockets in two namespaces: one sends numbered, patterned datagrams, the other checks every one.</summary>
internal static class UdpTransfer
{
    /// <summary>What arrived: how many datagrams, how many had the right content, and whether they came in order.</summary>
    public readonly record struct Result(int Sent, int Received, int Intact, int Duplicates, bool InOrder)
    {
        public override string ToString() => $"sent {Sent}, received {Received}, intact {Intact}, duplicates {Duplicates}, in order {InOrder}";
    }

    /// <summary>Sends <paramref name="count"/> datagrams of <paramref name="size"/> bytes from <paramref name="from"/> to <paramref name="to"/>:<paramref name="port"/>, paced in bursts so a 2-CPU runner does not drop them in the sockets.</summary>
    public static Result Run(NetNamespace fromNs, string from, NetNamespace toNs, string to, int count, int size = 256,
        int port = 40000, int burst = 64, TimeSpan? settle = null)
    {
        AddressFamily family = IPAddress.Parse(to).AddressFamily;
        using Socket receiver = NamespaceThread.Run(toNs, () =>
        {
            var s = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            s.ReceiveBufferSize = 16 << 20;
            s.Bind(new IPEndPoint(IPAddress.Parse(to), port));
            return s;
        });
        var seen = new int[count];
        int received = 0, intact = 0, duplicates = 0, last = -1;
        bool inOrder = true;
        var done = new ManualResetEventSlim();
        var reader = new Thread(() =>
        {
            byte[] buffer = new byte[65536];
            receiver.ReceiveTimeout = 500;
            int idle = 0;
            while (idle < 6 && received < count)
            {
                int n;
                try
                {
                    n = receiver.Receive(buffer);
                }
                catch (SocketException)
                {
                    idle++;
                    continue;
                }
                catch (ObjectDisposedException)
                {
                    // The sender failed (its namespace went away, say) and the socket was closed under us.
                    break;
                }
                idle = 0;
                received++;
                if (n < 4)
                    continue;
                int seq = BinaryPrimitives.ReadInt32BigEndian(buffer);
                if ((uint)seq >= (uint)count)
                    continue;
                if (seen[seq]++ > 0)
                    duplicates++;
                if (seq < last)
                    inOrder = false;
                last = seq;
                if (n == size && Matches(buffer.AsSpan(0, n), seq))
                    intact++;
            }
            done.Set();
        })
        { IsBackground = true };
        reader.Start();

        NamespaceThread.Run(fromNs, () =>
        {
            using var sender = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            sender.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
            var target = new IPEndPoint(IPAddress.Parse(to), port);
            byte[] datagram = new byte[size];
            for (int i = 0; i < count; i++)
            {
                Fill(datagram, i);
                sender.SendTo(datagram, target);
                if (i % burst == burst - 1)
                    Thread.Sleep(1);
            }
            return 0;
        });
        done.Wait(settle ?? TimeSpan.FromSeconds(30));
        return new Result(count, received, intact, duplicates, inOrder);
    }

    /// <summary>What arrived from many flows: totals, and whether every flow came complete, once and in order.</summary>
    public readonly record struct FlowsResult(int Sent, int Received, int Lost, int Duplicates, int FlowsOutOfOrder)
    {
        public override string ToString() => $"sent {Sent}, received {Received}, lost {Lost}, duplicates {Duplicates}, flows out of order {FlowsOutOfOrder}";
    }

    /// <summary>
    /// <paramref name="flows"/> sockets (one source port each) send <paramref name="perFlow"/> numbered datagrams each,
    /// interleaved, to one receiver, which checks each flow for loss, duplicates and order.
    /// </summary>
    public static FlowsResult RunFlows(NetNamespace fromNs, string from, NetNamespace toNs, string to, int flows, int perFlow, int port = 40001)
    {
        AddressFamily family = IPAddress.Parse(to).AddressFamily;
        using Socket receiver = NamespaceThread.Run(toNs, () =>
        {
            var s = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            s.ReceiveBufferSize = 16 << 20;
            s.Bind(new IPEndPoint(IPAddress.Parse(to), port));
            return s;
        });
        var seen = new Dictionary<int, int>();
        var last = new Dictionary<int, int>();
        int received = 0, duplicates = 0;
        var outOfOrder = new HashSet<int>();
        var reader = new Thread(() =>
        {
            byte[] buffer = new byte[2048];
            EndPoint remote = new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            receiver.ReceiveTimeout = 500;
            int idle = 0;
            while (idle < 6 && received < flows * perFlow)
            {
                int n;
                try
                {
                    n = receiver.ReceiveFrom(buffer, ref remote);
                }
                catch (SocketException)
                {
                    idle++;
                    continue;
                }
                idle = 0;
                received++;
                int flow = ((IPEndPoint)remote).Port;
                int seq = BinaryPrimitives.ReadInt32BigEndian(buffer);
                int key = flow * 100_000 + seq;
                if (!seen.TryAdd(key, 1))
                    duplicates++;
                if (last.TryGetValue(flow, out int previous) && seq < previous)
                    outOfOrder.Add(flow);
                last[flow] = seq;
            }
        })
        { IsBackground = true };
        reader.Start();
        NamespaceThread.Run(fromNs, () =>
        {
            var senders = new Socket[flows];
            try
            {
                for (int f = 0; f < flows; f++)
                {
                    senders[f] = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
                    senders[f].Bind(new IPEndPoint(IPAddress.Parse(from), 0));
                }
                var target = new IPEndPoint(IPAddress.Parse(to), port);
                byte[] datagram = new byte[64];
                for (int i = 0; i < perFlow; i++)
                {
                    for (int f = 0; f < flows; f++)
                    {
                        Fill(datagram, i);
                        senders[f].SendTo(datagram, target);
                    }
                    Thread.Sleep(1);
                }
            }
            finally
            {
                foreach (Socket s in senders)
                    s?.Dispose();
            }
            return 0;
        });
        reader.Join(TimeSpan.FromSeconds(30));
        return new FlowsResult(flows * perFlow, received, flows * perFlow - seen.Count, duplicates, outOfOrder.Count);
    }

    private static void Fill(Span<byte> datagram, int seq)
    {
        BinaryPrimitives.WriteInt32BigEndian(datagram, seq);
        for (int i = 4; i < datagram.Length; i++)
            datagram[i] = (byte)(seq * 31 + i * 7);
    }

    private static bool Matches(ReadOnlySpan<byte> datagram, int seq)
    {
        for (int i = 4; i < datagram.Length; i++)
        {
            if (datagram[i] != (byte)(seq * 31 + i * 7))
                return false;
        }
        return true;
    }
}
