using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using Xunit.Abstractions;

namespace XdpStack.Stack.Tests.Robustness;

/// <summary>Floods from random sources, the way an attacker exhausts tables: the neighbour cache and the reassembly buffers stay bounded, and the cost is counted.</summary>
/// <remarks>Bounded by count, not by a heap figure: the heap is the whole test process's, other tests run beside these, and a forced collection would end another test's no-GC allocation window.</remarks>
public sealed class RandomSourceFloodTests(ITestOutputHelper output)
{
    [Fact]
    public void ArpRequestsFromRandomSenders_CacheStaysAt512_EvictionsCounted_EveryRequestAnswered()
    {
        var f = new StackFixture(addAddress: false);
        Assert.Equal(StackError.None, f.Stack.AddAddress(StackFixture.Nic1, Packets.StackIp, 16));
        f.Link.Clear();
        var random = new Random(1);
        const int Senders = 50_000;
        var frames = new byte[Senders][];
        for (int i = 0; i < Senders; i++)
        {
            var sender = new Ipv4Address(198, 18, (byte)random.Next(1, 255), (byte)random.Next(1, 255));
            frames[i] = Packets.ArpRequest(sender, MacAddress.Parse($"02:00:00:00:{random.Next(256):x2}:{random.Next(256):x2}"), Packets.StackIp);
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        byte[] sink = new byte[2048];
        foreach (byte[] frame in frames)
        {
            f.Link.InjectInbound(frame);
            while (f.Link.Read(sink) >= 0)
            {
            }
        }
        clock.Stop();
        output.WriteLine($"{Senders} ARP requests from random senders: {clock.Elapsed.TotalMilliseconds:F0} ms, cache {f.Nic.Neighbors.DynamicCount} entries, {f.Nic.Neighbors.Evictions} evictions");

        Assert.True(f.Nic.Neighbors.DynamicCount <= 512, $"{f.Nic.Neighbors.DynamicCount} entries");
        int distinct = frames.Select(fr => BitConverter.ToUInt32(fr, 28)).Distinct().Count();
        // Every new sender past the 512th costs one eviction; a sender that comes back after its entry went costs another.
        long evictions = f.Nic.Neighbors.Evictions;
        Assert.True(evictions >= distinct - 512 && evictions <= Senders - 512, $"{evictions} evictions for {distinct} distinct senders");
        // Every request was still answered: the flood costs entries, not service.
        Assert.Equal(Senders, f[StatCounter.ArpOutgoingRepliesSent]);
    }

    [Fact]
    public void FirstFragmentsFromRandomSources_ReassemblyMemoryBounded_DropsCounted()
    {
        var f = new StackFixture();
        var random = new Random(2);
        byte[] payload = new byte[1200];
        const int Fragments = 20_000;
        byte[] sink = new byte[2048];
        for (int i = 0; i < Fragments; i++)
        {
            var source = new Ipv4Address(198, 19, (byte)random.Next(256), (byte)random.Next(1, 255));
            // A first fragment (MF set, offset 0) whose rest never comes.
            byte[] frame = Packets.Ipv4(source, Packets.StackIp, (byte)IpProtocol.Udp, payload, id: (ushort)random.Next(65536), flagsFragment: 0x2000);
            f.Link.InjectInbound(frame);
            while (f.Link.Read(sink) >= 0)
            {
            }
        }
        long dropped = f[StatCounter.Ipv4ReassemblyMemoryDrops];
        output.WriteLine($"{Fragments} unfinished first fragments from random sources: {dropped} dropped over the memory limit");
        int limit = new StackOptions().ReassemblyMemoryLimit;
        Assert.True(dropped >= Fragments - (limit / payload.Length) - 1, $"only {dropped} counted drops");
    }
}
