using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using XdpStack.Xdp.Tests.Lab;

namespace XdpStack.Xdp.Tests;

/// <summary>AF_XDP against the real kernel, in namespaces the tests make; Linux in the peer is the oracle.</summary>
[Trait("Category", "Root")]
public sealed class XskSocketTests
{
    private const int Port = 9000;

    [Fact]
    public void Rx_DatagramsFromPeer_AllArriveWithIdenticalPayload()
    {
        const int count = 1000;
        using var lab = new VethLab();
        VethLink link = lab.Link;
        using Socket sender = VethLab.UdpSocket(link.Peer, link.PeerAddress, 0);
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 4096 });
            using XskSocket xsk = XskSocket.Create(device, 0, umem);
            using XskRedirectProgram program = XskRedirectProgram.Attach(device);
            program.Register(0, xsk);

            var received = new Dictionary<int, byte[]>();
            var target = new IPEndPoint(link.LocalAddress, Port);
            var watch = Stopwatch.StartNew();
            int sent = 0;
            while (received.Count < count && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                // Interleave sending and draining so no ring or veth queue ever overflows.
                for (int i = 0; i < 32 && sent < count; i++, sent++)
                    sender.SendTo(UdpFrame.Payload(sent, 100 + sent % 200), target);
                Drain(xsk, umem, (seq, payload) => received[seq] = payload);
                if (sent == count)
                    xsk.Poll(10);
            }

            Assert.Equal(count, received.Count);
            for (int i = 0; i < count; i++)
                Assert.Equal(UdpFrame.Payload(i, 100 + i % 200), received[i]);
            Assert.Equal(0ul, xsk.GetStatistics().RxDropped);
        }
    }

    [Fact]
    public void Tx_FramesWrittenToSocket_ArriveIdenticalAtPeer()
    {
        const int count = 500;
        using var lab = new VethLab();
        VethLink link = lab.Link;
        using Socket receiver = VethLab.UdpSocket(link.Peer, link.PeerAddress, Port);
        receiver.ReceiveTimeout = 2000;
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 1024 });
            using XskSocket xsk = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 512, PrefillFrames = 512 });
            int poolAtStart = umem.Frames.Available;

            var received = new Dictionary<int, byte[]>();
            byte[] buffer = new byte[2048];
            int sent = 0;
            var watch = Stopwatch.StartNew();
            while (received.Count < count && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                Reap(xsk, umem);
                int batch = Math.Min(32, count - sent);
                int n = xsk.Tx.Reserve(batch, out uint index);
                for (int i = 0; i < n; i++)
                {
                    Assert.True(umem.Frames.TryGet(out ulong address));
                    int length = UdpFrame.Write(umem.GetFrame(address, 2048), link.PeerMac, link.LocalMac,
                        link.LocalAddress, link.PeerAddress, 12345, Port, UdpFrame.Payload(sent + i, 64 + (sent + i) % 300));
                    xsk.Tx.Descriptor(index + (uint)i) = new XdpDescriptor(address, (uint)length);
                }
                xsk.Tx.Submit(n);
                sent += n;
                if (xsk.Tx.NeedsWakeup)
                    xsk.WakeTx();
                while (receiver.Available > 0)
                {
                    int r = receiver.Receive(buffer);
                    received[BinaryPrimitives.ReadInt32BigEndian(buffer)] = buffer[..r];
                }
                if (n == 0)
                    Thread.Sleep(1);
            }
            // The last frames may still be in flight.
            while (received.Count < count && receiver.Poll(2_000_000, SelectMode.SelectRead))
            {
                int r = receiver.Receive(buffer);
                received[BinaryPrimitives.ReadInt32BigEndian(buffer)] = buffer[..r];
            }

            Assert.Equal(count, sent);
            Assert.Equal(count, received.Count);
            for (int i = 0; i < count; i++)
                Assert.Equal(UdpFrame.Payload(i, 64 + i % 300), received[i]);
            WaitFor(() => { Reap(xsk, umem); return umem.Frames.Available == poolAtStart; });
            Assert.Equal(poolAtStart, umem.Frames.Available);
            Assert.Equal(0ul, xsk.GetStatistics().TxInvalidDescs);
        }
    }

    /// <summary>Peeks RX, hands matching payloads to <paramref name="onPayload"/>, and recycles every frame into the fill ring.</summary>
    internal static int Drain(XskSocket xsk, Umem umem, Action<int, byte[]> onPayload)
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

    internal static void Refill(XskSocket xsk, Umem umem)
    {
        int n = xsk.Fill.Reserve(umem.Frames.Available, out uint index);
        for (int i = 0; i < n; i++)
        {
            umem.Frames.TryGet(out ulong address);
            xsk.Fill[index + (uint)i] = address;
        }
        xsk.Fill.Submit(n);
    }

    internal static int Reap(XskSocket xsk, Umem umem)
    {
        int n = xsk.Completion.Peek(256, out uint index);
        for (int i = 0; i < n; i++)
            umem.Frames.Put(xsk.Completion[index + (uint)i]);
        xsk.Completion.Release(n);
        return n;
    }

    internal static void WaitFor(Func<bool> condition, int timeoutMs = 3000)
    {
        var watch = Stopwatch.StartNew();
        while (!condition() && watch.ElapsedMilliseconds < timeoutMs)
            Thread.Sleep(5);
    }
}
