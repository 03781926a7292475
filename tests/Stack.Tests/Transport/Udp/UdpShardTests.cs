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
}
