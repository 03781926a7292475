using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport.Udp;

public class UdpShardTests
{
    [Fact]
    public async Task FourWorkersThreeEndpoints_ConcurrentDrain_NoLossNoDuplicatePerFlowOrder()
    {
        const int workers = 4;
        const int endpoints = 3;
        const int flowsPerWorker = 6;
        const int perFlow = 2000;
        var u = new UdpFixture(workers);
        var eps = new UdpEndpoint[endpoints];
        for (int e = 0; e < endpoints; e++)
        {
            eps[e] = u.Udp.CreateEndpoint(ringCapacity: 4096, maxDatagram: 64);
            Assert.Equal(StackError.None, eps[e].Bind(Ipv6Address.Any, (ushort)(6000 + e)));
        }

        // Each worker owns some flows (as RSS would); a flow is (source port, endpoint).
        Task[] producers = new Task[workers];
        for (int w = 0; w < workers; w++)
        {
            int worker = w;
            producers[w] = Task.Factory.StartNew(() =>
            {
                var frames = new byte[flowsPerWorker][];
                for (int seq = 0; seq < perFlow; seq++)
                {
                    for (int flow = 0; flow < flowsPerWorker; flow++)
                    {
                        ushort sourcePort = (ushort)(10000 + (worker * 100) + flow);
                        int endpoint = flow % endpoints;
                        byte[] payload = new byte[8];
                        BinaryPrimitives.WriteInt32BigEndian(payload, sourcePort);
                        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), seq);
                        // Keep each ring below its capacity: the test is about loss in the rings, not overflow.
                        while (eps[endpoint].Available > 3000)
                            Thread.Yield();
                        u.F.Link.InjectInbound(UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, sourcePort, (ushort)(6000 + endpoint), payload), worker);
                    }
                }
            }, TaskCreationOptions.LongRunning);
        }

        int expected = workers * flowsPerWorker * perFlow;
        var next = new Dictionary<int, int>();
        int received = 0;
        byte[] buffer = new byte[64];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (received < expected && DateTime.UtcNow < deadline)
        {
            bool any = false;
            for (int e = 0; e < endpoints; e++)
            {
                while (eps[e].TryReceive(buffer, out UdpDatagramInfo info, out int length))
                {
                    any = true;
                    Assert.Equal(8, length);
                    int sourcePort = BinaryPrimitives.ReadInt32BigEndian(buffer);
                    int seq = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(4));
                    Assert.Equal(sourcePort, info.RemotePort);
                    Assert.Equal(6000 + e, info.LocalPort);
                    // In order, no gap (loss) and no repeat (duplicate) within the flow.
                    Assert.Equal(next.GetValueOrDefault(sourcePort), seq);
                    next[sourcePort] = seq + 1;
                    received++;
                }
            }
            if (!any)
                Thread.Yield();
        }
        await Task.WhenAll(producers);
        Assert.Equal(expected, received);
        Assert.Equal(workers * flowsPerWorker, next.Count);
        Assert.All(next.Values, n => Assert.Equal(perFlow, n));
        Assert.Equal(0, u.F[StatCounter.UdpReceiveBufferErrors]);
        foreach (UdpEndpoint ep in eps)
        {
            Assert.False(ep.TryReceive(buffer, out _, out _));
            ep.Dispose();
        }
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public void IcmpError_OnAnyWorkerOfFour_DeliveredToSendingEndpointOnly(bool ipv6, int worker)
    {
        var u = new UdpFixture(workers: 4);
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        using UdpEndpoint other = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, ep.Bind(ipv6 ? Ipv6Address.Any : Ipv4Address.Any, 5000));
        Assert.Equal(StackError.None, other.Bind(ipv6 ? Ipv6Address.Any : Ipv4Address.Any, 5001));
        byte[] payload = [1, 2, 3, 4];
        byte[] frame;
        if (ipv6)
        {
            // ICMPv6 Destination Unreachable, port unreachable (RFC 4443 §3.1: type 1, code 4).
            byte[] ours = UdpFixture.Udp6(Packets6.StackIp, Packets6.HostIp, 5000, 9000, payload);
            frame = Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 58, Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 1, 4, 0, ours.AsSpan(14)));
        }
        else
        {
            // ICMP Destination Unreachable, port unreachable (RFC 792: type 3, code 3).
            byte[] ours = UdpFixture.Udp4(Packets.StackIp, Packets.HostIp, 5000, 9000, payload);
            frame = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 1, Packets.Icmp(3, 3, [0, 0, 0, 0, .. ours.AsSpan(14)]));
        }
        Assert.Empty(u.F.Exchange(frame, worker));
        Assert.True(ep.TryTakeError(out UdpDatagramInfo error));
        Assert.Equal(ipv6 ? 1 : 3, error.IcmpType);
        Assert.Equal(ipv6 ? 4 : 3, error.IcmpCode);
        Assert.Equal(worker, error.Worker);
        Assert.Equal(ipv6 ? (IpAddress)Packets6.HostIp : Packets.HostIp, error.RemoteAddress);
        Assert.Equal(9000, error.RemotePort);
        Assert.Equal(5000, error.LocalPort);
        Assert.False(ep.TryTakeError(out _));
        Assert.False(other.TryTakeError(out _));
        Assert.Equal(1, u.F[StatCounter.UdpIcmpErrorsDelivered]);
    }
}
