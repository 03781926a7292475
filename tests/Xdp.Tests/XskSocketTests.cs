using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using XdpStack.Xdp.Tests.Lab;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Xdp.Tests;

/// <summary>AF_XDP against the real kernel, in namespaces the tests make; Linux in the peer is the oracle.</summary>
[Trait("Category", "Root")]
public sealed class XskSocketTests
{
    private const int Port = XskPump.Port;

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

            Dictionary<int, byte[]> received = XskPump.SendFromPeerAndReceive(sender, link, xsk, umem, count, i => 100 + i % 200);

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
                XskPump.Reap(xsk, umem);
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
            XskPump.WaitFor(() => { XskPump.Reap(xsk, umem); return umem.Frames.Available == poolAtStart; });
            Assert.Equal(poolAtStart, umem.Frames.Available);
            Assert.Equal(0ul, xsk.GetStatistics().TxInvalidDescs);
        }
    }

    [Fact]
    public void SharedUmem_ForwardByDescriptorBetweenDevices_LosesNothingAndConservesFrames()
    {
        const int count = 600;
        using var lab = new VethLab(peers: 2);
        VethLink inbound = lab.Links[0], outbound = lab.Links[1];
        // Peer 0 reaches peer 1's subnet through us; peer 1 routes back the same way (rp_filter).
        inbound.Peer.Ip("route", "add", "198.18.1.0/24", "via", "198.18.0.1");
        outbound.Peer.Ip("route", "add", "198.18.0.0/24", "via", "198.18.1.1");
        using Socket sender = VethLab.UdpSocket(inbound.Peer, inbound.PeerAddress, 0);
        using Socket receiver = VethLab.UdpSocket(outbound.Peer, outbound.PeerAddress, Port);
        using (lab.Local.Enter())
        {
            NetDevice deviceIn = NetDevice.Open(inbound.LocalName), deviceOut = NetDevice.Open(outbound.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 4096 });
            using XskSocket rx = XskSocket.Create(deviceIn, 0, umem, new XskSocketOptions { FillRingSize = 2048 });
            using XskSocket tx = XskSocket.Create(deviceOut, 0, umem, new XskSocketOptions { FillRingSize = 1024 });
            Assert.False(rx.SharedUmem);
            Assert.True(tx.SharedUmem);
            Assert.True(tx.OwnsFillAndCompletion);
            Assert.NotSame(rx.Fill, tx.Fill);
            using XskRedirectProgram program = XskRedirectProgram.Attach(deviceIn);
            program.Register(rx);
            int poolAtStart = umem.Frames.Available;

            var received = new HashSet<int>();
            byte[] buffer = new byte[2048];
            var target = new IPEndPoint(outbound.PeerAddress, Port);
            int sent = 0, forwarded = 0;
            var watch = Stopwatch.StartNew();
            while (received.Count < count && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                for (int i = 0; i < 32 && sent < count; i++, sent++)
                    sender.SendTo(UdpFrame.Payload(sent, 80 + sent % 500), target);
                XskPump.Reap(tx, umem);
                int n = rx.Rx.Peek(64, out uint rxIndex);
                int m = tx.Tx.Reserve(n, out uint txIndex);
                Assert.Equal(n, m);     // the TX ring is larger than anything in flight here
                for (int i = 0; i < n; i++)
                {
                    XdpDescriptor d = rx.Rx.Descriptor(rxIndex + (uint)i);
                    Span<byte> frame = umem.GetFrame(d);
                    outbound.PeerMac.CopyTo(frame);
                    outbound.LocalMac.CopyTo(frame[6..]);
                    tx.Tx.Descriptor(txIndex + (uint)i) = d;   // same UMEM: the frame moves by descriptor
                }
                rx.Rx.Release(n);
                tx.Tx.Submit(n);
                forwarded += n;
                if (tx.Tx.NeedsWakeup)
                    tx.WakeTx();
                XskPump.Refill(rx, umem);
                while (receiver.Available > 0)
                {
                    receiver.Receive(buffer);
                    received.Add(BinaryPrimitives.ReadInt32BigEndian(buffer));
                }
                if (sent == count && n == 0)
                    rx.Poll(5);
            }

            Assert.True(count == received.Count, $"sent {sent}, forwarded {forwarded}, received {received.Count}; rx {rx.GetStatistics()}, tx {tx.GetStatistics()}");
            Assert.Equal(count, forwarded);
            XskPump.WaitFor(() => { XskPump.Reap(tx, umem); XskPump.Refill(rx, umem); return umem.Frames.Available == poolAtStart; });
            Assert.Equal(poolAtStart, umem.Frames.Available);
            Assert.Equal(default, rx.GetStatistics() with { RxFillRingEmptyDescs = 0 });
        }
    }

    [Fact]
    public void Create_QueueAlreadyBound_ThrowsClearErrorAndUmemStaysUsable()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(lab.Link.LocalName);
            using var first = new Umem(new UmemOptions { FrameCount = 512 });
            using var second = new Umem(new UmemOptions { FrameCount = 512 });
            XskSocket holder = XskSocket.Create(device, 0, first, new XskSocketOptions { FillRingSize = 256 });

            XdpException e = Assert.Throws<XdpException>(() => XskSocket.Create(device, 0, second, new XskSocketOptions { FillRingSize = 256 }));
            Assert.Equal("EBUSY", e.ErrnoName);
            Assert.Contains("bind(AF_XDP", e.Message);
            Assert.Contains("in use by another AF_XDP socket", e.Message);
            Assert.Equal(second.Frames.Capacity, second.Frames.Available);    // prefilled frames came back
            Assert.Empty(second.Sockets);

            holder.Dispose();
            using XskSocket retry = XskSocket.Create(device, 0, second, new XskSocketOptions { FillRingSize = 256 });
            Assert.Equal(256, second.Frames.Capacity - second.Frames.Available);
        }
    }

    [Fact]
    public void GetStatistics_AppStopsDraining_RxRingFullRises()
    {
        using var lab = new VethLab();
        VethLink link = lab.Link;
        using Socket sender = VethLab.UdpSocket(link.Peer, link.PeerAddress, 0);
        var target = new IPEndPoint(link.LocalAddress, Port);
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 1024 });
            using XskSocket xsk = XskSocket.Create(device, 0, umem, new XskSocketOptions { RxRingSize = 64, FillRingSize = 512 });
            using XskRedirectProgram program = XskRedirectProgram.Attach(device);
            program.Register(xsk);
            Assert.Equal(default, xsk.GetStatistics());

            for (int i = 0; i < 200; i++)
                sender.SendTo(UdpFrame.Payload(i, 64), target);
            XskPump.WaitFor(() => xsk.GetStatistics().RxRingFull > 0);
            XdpStatistics first = xsk.GetStatistics();
            for (int i = 0; i < 100; i++)
                sender.SendTo(UdpFrame.Payload(i, 64), target);
            XskPump.WaitFor(() => xsk.GetStatistics().RxRingFull > first.RxRingFull);
            XdpStatistics second = xsk.GetStatistics();

            Assert.True(first.RxRingFull > 0, $"rx_ring_full stayed 0: {first}");
            Assert.True(second.RxRingFull > first.RxRingFull, $"{first} -> {second}");
            Assert.Equal(64, xsk.Rx.Peek(1000, out _));     // the ring is exactly full
        }
    }

    [Fact]
    public void Create_ModeProbeOnVeth_ReportsCopyAndRefusesZeroCopy()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(lab.Link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameCount = 512 });
            var options = new XskSocketOptions { FillRingSize = 256 };

            using (XskSocket auto = XskSocket.Create(device, 0, umem, options))
            {
                Assert.False(auto.ZeroCopy);
                Assert.Equal(8, auto.BindFlags);    // XDP_USE_NEED_WAKEUP only: the kernel chose copy
            }

            XdpException e = Assert.Throws<XdpException>(() =>
                XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 256, Mode = XskBindMode.ZeroCopy }));
            Assert.Equal("EOPNOTSUPP", e.ErrnoName);
            Assert.Contains("zero-copy", e.Message);

            using XskSocket copy = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 256, Mode = XskBindMode.Copy, NeedWakeup = false });
            Assert.False(copy.ZeroCopy);
            Assert.Equal(2, copy.BindFlags);        // XDP_COPY
        }
    }

    [Fact]
    public void Create_BusyPoll_SetsSocketOptions()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(lab.Link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameCount = 512 });
            using XskSocket xsk = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 256, BusyPoll = true, BusyPollBudget = 32 });
            Assert.True(xsk.BusyPoll);
            Assert.False(xsk.Poll(0));
            xsk.WakeRx();   // nothing pending: must not throw
        }
    }

    [Fact]
    public void Umem_Dispose_ClosesItsSocketsFirst()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(lab.Link.LocalName);
            var umem = new Umem(new UmemOptions { FrameCount = 512 });
            XskSocket xsk = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 256 });
            Assert.True(umem.IsRegistered);
            umem.Dispose();
            Assert.Equal(-1, xsk.Fd);
            Assert.Empty(umem.Sockets);
            Assert.Throws<ObjectDisposedException>(() => xsk.GetStatistics());
            // The queue is free again.
            using var again = new Umem(new UmemOptions { FrameCount = 512 });
            using XskSocket next = XskSocket.Create(device, 0, again, new XskSocketOptions { FillRingSize = 256 });
        }
    }

    [Fact]
    public void Create_QueueOutOfRange_Throws()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(lab.Link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameCount = 64 });
            Assert.Throws<ArgumentOutOfRangeException>(() => XskSocket.Create(device, device.QueueCount, umem));
        }
    }

    [Fact]
    public void DataPath_TxWakeReapAndRxPoll_AllocateNothing()
    {
        using var lab = new VethLab();
        VethLink link = lab.Link;
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 1024 });
            using XskSocket xsk = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 256, TxRingSize = 256 });
            int poolAtStart = umem.Frames.Available;
            byte[] payload = new byte[64];
            Round(xsk, umem, link, payload, 20);    // warm up (JIT, first wakeups)

            int sent = 0;
            long allocated = AllocationWindow.Measure(() => sent = Round(xsk, umem, link, payload, 300));

            Assert.Equal(0, allocated);
            Assert.True(sent > 1000, $"only {sent} frames went out");
            XskPump.WaitFor(() => { XskPump.Reap(xsk, umem); return umem.Frames.Available == poolAtStart; });
            Assert.Equal(poolAtStart, umem.Frames.Available);
        }

        static int Round(XskSocket xsk, Umem umem, VethLink link, byte[] payload, int rounds)
        {
            int sent = 0;
            for (int r = 0; r < rounds; r++)
            {
                int done = xsk.Completion.Peek(64, out uint c);
                for (int i = 0; i < done; i++)
                    umem.Frames.Put(xsk.Completion[c + (uint)i]);
                xsk.Completion.Release(done);

                int n = xsk.Tx.Reserve(Math.Min(32, umem.Frames.Available), out uint index);
                for (int i = 0; i < n; i++)
                {
                    umem.Frames.TryGet(out ulong address);
                    int length = UdpFrame.Write(umem.GetFrame(address, 2048), link.PeerMac, link.LocalMac,
                        link.LocalAddress, link.PeerAddress, 1, 9, payload);
                    xsk.Tx.Descriptor(index + (uint)i) = new XdpDescriptor(address, (uint)length);
                }
                xsk.Tx.Submit(n);
                sent += n;
                if (xsk.Tx.NeedsWakeup)
                    xsk.WakeTx();
                int received = xsk.Rx.Peek(64, out uint rx);
                xsk.Rx.Release(received);
                if (xsk.Fill.NeedsWakeup)
                    xsk.Poll(0);
            }
            return sent;
        }
    }

    [Fact]
    public void SharedUmem_SameQueue_SharesFillAndCompletionAndOutlivesTheFirstSocket()
    {
        using var lab = new VethLab();
        VethLink link = lab.Link;
        using Socket receiver = VethLab.UdpSocket(link.Peer, link.PeerAddress, Port);
        receiver.ReceiveTimeout = 2000;
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 512 });
            XskSocket first = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 256 });
            using XskSocket second = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 256 });
            Assert.True(second.SharedUmem);
            Assert.False(second.OwnsFillAndCompletion);
            Assert.Same(first.Fill, second.Fill);
            Assert.Same(first.Completion, second.Completion);
            Assert.Equal(256, umem.Frames.Available);     // only the first socket prefilled

            // The rings stay mapped for the second socket after the first one closes.
            first.Dispose();
            Assert.Single(umem.Sockets);
            Assert.True(umem.Frames.TryGet(out ulong address));
            int length = UdpFrame.Write(umem.GetFrame(address, 2048), link.PeerMac, link.LocalMac,
                link.LocalAddress, link.PeerAddress, 7, Port, UdpFrame.Payload(77, 33));
            Assert.Equal(1, second.Tx.Reserve(1, out uint index));
            second.Tx.Descriptor(index) = new XdpDescriptor(address, (uint)length);
            second.Tx.Submit(1);
            second.WakeTx();

            byte[] buffer = new byte[2048];
            int r = receiver.Receive(buffer);
            Assert.Equal(UdpFrame.Payload(77, 33), buffer[..r]);
            XskPump.WaitFor(() => second.Completion.Available > 0);
            Assert.Equal(1, second.Completion.Peek(8, out uint c));
            Assert.Equal(address, second.Completion[c]);
            second.Completion.Release(1);
        }
    }
}
