using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace XdpStack.Xdp.Tests.Lab;

/// <summary>The small AF_XDP loops the tests share: drain RX, refill, reap completions.</summary>
internal static class XskPump
{
    public const int Port = 9000;

    /// <summary>
    /// Sends <paramref name="count"/> datagrams from the peer to the local address and returns
    /// the payloads that reached the socket, keyed by sequence number. Sending and draining
    /// interleave so no ring or veth queue overflows.
    /// </summary>
    public static Dictionary<int, byte[]> SendFromPeerAndReceive(Socket sender, VethLink link, XskSocket xsk, Umem umem,
        int count, Func<int, int> payloadLength, IPAddress? destination = null)
    {
        var received = new Dictionary<int, byte[]>();
        var target = new IPEndPoint(destination ?? link.LocalAddress, Port);
        var watch = Stopwatch.StartNew();
        int sent = 0;
        while (received.Count < count && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            for (int i = 0; i < 32 && sent < count; i++, sent++)
                sender.SendTo(UdpFrame.Payload(sent, payloadLength(sent)), target);
            Drain(xsk, umem, (seq, payload) => received[seq] = payload);
            if (sent == count)
                xsk.Poll(10);
        }
        return received;
    }

    /// <summary>Peeks RX, hands UDP payloads to <paramref name="onPayload"/>, recycles every frame into the fill ring.</summary>
    public static int Drain(XskSocket xsk, Umem umem, Action<int, byte[]> onPayload)
    {
        int total = 0;
        while (true)
        {
            int n = xsk.Rx.Peek(64, out uint index);
            if (n == 0)
                return total;
            for (int i = 0; i < n; i++)
            {
                XdpDescriptor d = xsk.Rx.Descriptor(index + (uint)i);
                if (UdpFrame.TryGetPayload(umem.GetFrame(d), Port, out ReadOnlySpan<byte> payload))
                    onPayload(BinaryPrimitives.ReadInt32BigEndian(payload), payload.ToArray());
                umem.Frames.Put(d.Address);
            }
            xsk.Rx.Release(n);
            Refill(xsk, umem);
            total += n;
        }
    }

    public static void Refill(XskSocket xsk, Umem umem)
    {
        int n = xsk.Fill.Reserve(umem.Frames.Available, out uint index);
        for (int i = 0; i < n; i++)
        {
            umem.Frames.TryGet(out ulong address);
            xsk.Fill[index + (uint)i] = address;
        }
        xsk.Fill.Submit(n);
    }

    public static int Reap(XskSocket xsk, Umem umem)
    {
        int n = xsk.Completion.Peek(256, out uint index);
        for (int i = 0; i < n; i++)
            umem.Frames.Put(xsk.Completion[index + (uint)i]);
        xsk.Completion.Release(n);
        return n;
    }

    public static void WaitFor(Func<bool> condition, int timeoutMs = 3000)
    {
        var watch = Stopwatch.StartNew();
        while (!condition() && watch.ElapsedMilliseconds < timeoutMs)
            Thread.Sleep(5);
    }
}
