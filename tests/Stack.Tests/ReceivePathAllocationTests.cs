using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests;

public class ReceivePathAllocationTests
{
    private static long AllocatedFor(StackFixture f, byte[] frame, int batches, int perBatch) =>
        AllocatedFor(f, frame, batches, perBatch, out _);

    // Also counts the frames the stack sent. betweenBatches runs before each batch, outside the measurement.
    private static long AllocatedFor(StackFixture f, byte[] frame, int batches, int perBatch, out int sent, Action? betweenBatches = null)
    {
        byte[] sink = new byte[2048];
        long allocated = 0;
        int frames = 0;
        for (int b = 0; b < batches; b++)
        {
            betweenBatches?.Invoke();
            allocated += AllocationWindow.Measure(() =>
            {
                f.Link.InjectInboundRepeated(frame, perBatch);
                while (f.Link.Read(sink) >= 0)
                    frames++;
            });
        }
        sent = frames;
        return allocated;
    }

    [Fact]
    public void ThousandPings_AfterWarmUp_AllocateNothing()
    {
        var f = new StackFixture();
        byte[] ping = Packets.EchoRequest(Packets.HostIp, Packets.StackIp, dataLength: 56);
        AllocatedFor(f, ping, 2, 100);
        long repliesBefore = f[StatCounter.IcmpEchoRepliesSent];
        Assert.Equal(0, AllocatedFor(f, ping, 10, 100));
        Assert.Equal(1000, f[StatCounter.IcmpEchoRepliesSent] - repliesBefore);
    }

    [Fact]
    public void ThousandArpRequests_AfterWarmUp_AllocateNothing()
    {
        var f = new StackFixture();
        byte[] request = Packets.ArpRequest(Packets.HostIp, Packets.HostMac, Packets.StackIp);
        AllocatedFor(f, request, 2, 100);
        long repliesBefore = f[StatCounter.ArpOutgoingRepliesSent];
        Assert.Equal(0, AllocatedFor(f, request, 10, 100));
        Assert.Equal(1000, f[StatCounter.ArpOutgoingRepliesSent] - repliesBefore);
    }

    [Fact]
    public void ThousandDrops_AfterWarmUp_AllocateNothing()
    {
        // Every drop reason on the path counts without allocating: bad checksum, wrong address,
        // unknown EtherType, another host's MAC.
        var f = new StackFixture();
        byte[] badChecksum = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        badChecksum[24] ^= 1;
        byte[] notOurs = Packets.EchoRequest(Packets.HostIp, Ipv4Address.Parse("198.18.0.99"));
        byte[] unknown = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        unknown[12] = 0x88;
        unknown[13] = 0xB5;
        byte[] otherMac = Packets.EchoRequest(Packets.HostIp, Packets.StackIp, to: MacAddress.Parse("02:00:00:00:00:99"));
        byte[][] frames = [badChecksum, notOurs, unknown, otherMac];
        foreach (byte[] frame in frames)
            AllocatedFor(f, frame, 1, 10);
        long allocated = 0;
        foreach (byte[] frame in frames)
            allocated += AllocatedFor(f, frame, 5, 50);
        Assert.Equal(0, allocated);
        Assert.Equal(260, f[StatCounter.Ipv4MalformedPacketsReceived]);
    }

    [Fact]
    public void ThousandIcmpErrorsAndSubnetDeliveries_AfterWarmUp_AllocateNothing()
    {
        // The slower branches too: an added subnet scanned per packet, ICMP errors built in scratch.
        // Errors to one host: its own limit (6, then 1 a second) is off here, so every error is built and sent.
        var f = new StackFixture(icmpPeerInterval: TimeSpan.Zero);
        f.Stack.AddSubnet(StackFixture.Nic1, Ipv4Prefix.Parse("198.19.0.0/24"));
        byte[] toSubnet = Packets.EchoRequest(Packets.HostIp, Ipv4Address.Parse("198.19.0.7"));
        byte[] unknownProtocol = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 253, new byte[8]);
        // A second between batches refills the error bucket (burst 50), so every one of a batch of 50 gets its
        // Protocol Unreachable: what is measured is errors built and sent, not errors refused by the bucket.
        const int burst = 50;
        void Refill() => f.Clock.Advance(TimeSpan.FromSeconds(1));
        AllocatedFor(f, toSubnet, 1, 10);
        AllocatedFor(f, unknownProtocol, 1, burst, out _, Refill);
        long repliesBefore = f[StatCounter.IcmpEchoRepliesSent];
        long errorsBefore = f[StatCounter.IcmpDestinationUnreachableSent];
        long limitedBefore = f[StatCounter.IcmpRateLimited];
        long allocated = AllocatedFor(f, toSubnet, 5, 100, out int replies) + AllocatedFor(f, unknownProtocol, 20, burst, out int errors, Refill);
        Assert.Equal(0, allocated);
        Assert.Equal(500, replies);
        Assert.Equal(500, f[StatCounter.IcmpEchoRepliesSent] - repliesBefore);
        Assert.Equal(20 * burst, errors);
        Assert.Equal(20 * burst, f[StatCounter.IcmpDestinationUnreachableSent] - errorsBefore);
        Assert.Equal(0, f[StatCounter.IcmpRateLimited] - limitedBefore);
    }
}
