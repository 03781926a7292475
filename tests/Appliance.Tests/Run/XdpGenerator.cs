using System.Buffers.Binary;
using XdpStack.Appliance.Demo;
using XdpStack.Lab;
using XdpStack.Stack.Wire;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>A load generator for tests: sends a fixed list of frames round-robin, as fast as one AF_XDP TX socket on a lab veth allows.</summary>
/// <remarks>
/// Each UMEM frame holds one template for good, so sending is only recycling descriptors; the generator never
/// receives (no XDP program on its device), so every frame it sends is counted once, by its completion.
/// </remarks>
internal static class XdpGenerator
{
    /// <summary>
    /// Sends <paramref name="count"/> frames out of <paramref name="device"/> in <paramref name="ns"/>, at most
    /// <paramref name="rate"/> per second (0: no limit); returns how many the kernel completed. With
    /// <paramref name="consumed"/> (frames the receiver has taken so far), at most <paramref name="window"/> frames are
    /// ever ahead of the receiver: a closed loop that a busy 2-CPU runner cannot overrun.
    /// </summary>
    public static long Send(NetNamespace ns, string device, IReadOnlyList<byte[]> templates, long count, TimeSpan limit,
        double rate = 0, Func<long>? consumed = null, int window = 512) =>
        NamespaceThread.Run(ns, () => SendHere(device, templates, count, limit, rate, consumed, window));

    private static long SendHere(string deviceName, IReadOnlyList<byte[]> templates, long count, TimeSpan limit, double rate,
        Func<long>? consumed, int window)
    {
        NetDevice device = NetDevice.Open(deviceName);
        const int frames = 4096;
        using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = frames });
        using XskSocket socket = XskSocket.Create(device, 0, umem, new XskSocketOptions { PrefillFrames = 0, Mode = XskBindMode.Copy });
        var addresses = new List<ulong>();
        while (umem.Frames.TryGet(out ulong a))
            addresses.Add(a);
        // Template i lives in frame i for good; its length goes with it.
        var lengthOf = new Dictionary<ulong, uint>();
        for (int i = 0; i < addresses.Count; i++)
        {
            byte[] t = templates[i % templates.Count];
            t.CopyTo(umem.GetFrame(addresses[i], t.Length));
            lengthOf[addresses[i]] = (uint)t.Length;
        }
        var free = new Queue<ulong>(addresses);
        long sent = 0, completed = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (completed < count && clock.Elapsed < limit)
        {
            int n = socket.Completion.Peek(256, out uint ci);
            for (int i = 0; i < n; i++)
                free.Enqueue(umem.FrameStart(socket.Completion[ci + (uint)i]));
            socket.Completion.Release(n);
            completed += n;
            long allowed = rate > 0 ? (long)(clock.Elapsed.TotalSeconds * rate) + 64 : count;
            if (consumed is not null)
                allowed = Math.Min(allowed, consumed() + window);
            int want = (int)Math.Max(0, Math.Min(Math.Min(free.Count, 64), Math.Min(count, allowed) - sent));
            if (want > 0)
            {
                int reserved = socket.Tx.Reserve(want, out uint ti);
                for (int i = 0; i < reserved; i++)
                {
                    ulong a = free.Dequeue();
                    ref XdpDescriptor d = ref socket.Tx.Descriptor(ti + (uint)i);
                    d.Address = a;
                    d.Length = lengthOf[a];
                    d.Options = 0;
                }
                socket.Tx.Submit(reserved);
                sent += reserved;
            }
            if (socket.Tx.NeedsWakeup && socket.Tx.Outstanding > 0)
                socket.WakeTx();
            if (n == 0 && want == 0)
                Thread.Yield();
        }
        return completed;
    }

    /// <summary>An Ethernet + IPv4 + UDP frame with a correct header checksum and no UDP checksum (RFC 768 allows 0).</summary>
    public static byte[] Udp4(MacAddress from, MacAddress to, Ipv4Address src, Ipv4Address dst, ushort srcPort, ushort dstPort, int payload, byte ttl = 64, bool corruptHeaderChecksum = false)
    {
        byte[] f = new byte[14 + 20 + 8 + payload];
        Ethernet(f, from, to, 0x0800);
        Ipv4(f, src, dst, 17, 8 + payload, ttl, corruptHeaderChecksum);
        Span<byte> udp = f.AsSpan(34);
        BinaryPrimitives.WriteUInt16BigEndian(udp, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload));
        for (int i = 8; i < udp.Length; i++)
            udp[i] = (byte)i;
        return f;
    }

    /// <summary>An ICMP echo request to <paramref name="dst"/>.</summary>
    public static byte[] Echo4(MacAddress from, MacAddress to, Ipv4Address src, Ipv4Address dst, ushort id, int payload)
    {
        byte[] f = new byte[14 + 20 + 8 + payload];
        Ethernet(f, from, to, 0x0800);
        Ipv4(f, src, dst, 1, 8 + payload, 64, false);
        Span<byte> icmp = f.AsSpan(34);
        icmp[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], 1);
        for (int i = 8; i < icmp.Length; i++)
            icmp[i] = (byte)i;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum.Compute(icmp));
        return f;
    }

    /// <summary>An Ethernet + IPv6 + UDP frame with a correct UDP checksum.</summary>
    public static byte[] Udp6(MacAddress from, MacAddress to, Ipv6Address src, Ipv6Address dst, ushort srcPort, ushort dstPort, int payload)
    {
        byte[] f = new byte[14 + 40 + 8 + payload];
        Ethernet(f, from, to, 0x86DD);
        Span<byte> ip = f.AsSpan(14);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(8 + payload));
        ip[6] = 17;
        ip[7] = 64;
        src.CopyTo(ip[8..]);
        dst.CopyTo(ip[24..]);
        Span<byte> udp = f.AsSpan(54);
        BinaryPrimitives.WriteUInt16BigEndian(udp, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload));
        for (int i = 8; i < udp.Length; i++)
            udp[i] = (byte)i;
        byte[] pseudo = new byte[40 + udp.Length];
        ip.Slice(8, 32).CopyTo(pseudo);
        BinaryPrimitives.WriteUInt32BigEndian(pseudo.AsSpan(32), (uint)udp.Length);
        pseudo[39] = 17;
        udp.CopyTo(pseudo.AsSpan(40));
        ushort sum = Checksum.Compute(pseudo);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], sum == 0 ? (ushort)0xFFFF : sum);
        return f;
    }

    private static void Ethernet(Span<byte> f, MacAddress from, MacAddress to, ushort type)
    {
        to.CopyTo(f);
        from.CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], type);
    }

    private static void Ipv4(Span<byte> f, Ipv4Address src, Ipv4Address dst, byte protocol, int payload, byte ttl, bool corrupt)
    {
        Span<byte> ip = f.Slice(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + payload));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0x1234);
        ip[8] = ttl;
        ip[9] = protocol;
        src.CopyTo(ip[12..]);
        dst.CopyTo(ip[16..]);
        ushort sum = Checksum.Compute(ip);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], corrupt ? (ushort)(sum ^ 0x5A5A) : sum);
    }
}
