using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport;

public class TransportDemuxerTests
{
    private static readonly IpAddress Local = Ipv4Address.Parse("198.18.0.2");
    private static readonly IpAddress Remote = Ipv4Address.Parse("198.18.0.1");

    private static TransportEndpointId Packet(IpAddress remote, ushort remotePort = 4000) =>
        TransportEndpointId.Create(EtherType.Ipv4, Local, 53, remote, remotePort);

    private static TransportEndpointId Bound(IpAddress local, IpAddress remote = default, ushort remotePort = 0) =>
        TransportEndpointId.Create(EtherType.Ipv4, local, 53, remote, remotePort);

    [Fact]
    public void Register_SameKeyTwiceWithoutReusePort_PortInUse()
    {
        var demux = new TransportDemuxer<object>(1);
        Assert.Equal(StackError.None, demux.Register(Bound(Local), NicId.Any, new object(), reusePort: false));
        Assert.Equal(StackError.PortInUse, demux.Register(Bound(Local), NicId.Any, new object(), reusePort: false));
        Assert.Equal(StackError.PortInUse, demux.Register(Bound(Local), NicId.Any, new object(), reusePort: true));
    }

    [Fact]
    public void Register_ReusePortOnBoth_Shared()
    {
        var demux = new TransportDemuxer<object>(1);
        Assert.Equal(StackError.None, demux.Register(Bound(Local), NicId.Any, new object(), reusePort: true));
        Assert.Equal(StackError.None, demux.Register(Bound(Local), NicId.Any, new object(), reusePort: true));
        Assert.Equal(StackError.PortInUse, demux.Register(Bound(Local), NicId.Any, new object(), reusePort: false));
    }

    [Fact]
    public void Find_LookupOrder_FullThenNoLocalThenNoRemoteThenPortOnly()
    {
        var demux = new TransportDemuxer<string>(1);
        demux.Register(Bound(Local, Remote, 4000), NicId.Any, "full", false);
        demux.Register(Bound(default, Remote, 4000), NicId.Any, "no-local", false);
        demux.Register(Bound(Local), NicId.Any, "no-remote", false);
        demux.Register(Bound(default), NicId.Any, "port-only", false);
        var nic = new NicId(1);
        Assert.Equal("full", demux.Find(0, Packet(Remote), nic));
        Assert.True(demux.Unregister(Bound(Local, Remote, 4000), NicId.Any, "full"));
        Assert.Equal("no-local", demux.Find(0, Packet(Remote), nic));
        Assert.True(demux.Unregister(Bound(default, Remote, 4000), NicId.Any, "no-local"));
        Assert.Equal("no-remote", demux.Find(0, Packet(Remote), nic));
        Assert.True(demux.Unregister(Bound(Local), NicId.Any, "no-remote"));
        Assert.Equal("port-only", demux.Find(0, Packet(Remote), nic));
        Assert.Equal("port-only", demux.Find(0, Packet(Ipv4Address.Parse("198.18.0.9")), nic));
        Assert.Null(demux.Find(0, TransportEndpointId.Create(EtherType.Ipv6, Ipv6Address.Parse("2001:2::2"), 53, Ipv6Address.Parse("2001:2::1"), 4000), nic));
    }

    [Fact]
    public void Find_DeviceBoundAndUnbound_EachNicGetsItsOwnOrTheUnbound()
    {
        var demux = new TransportDemuxer<string>(1);
        Assert.Equal(StackError.None, demux.Register(Bound(default), new NicId(1), "dev1", false));
        Assert.Equal(StackError.None, demux.Register(Bound(default), new NicId(2), "dev2", false));
        Assert.Equal(StackError.None, demux.Register(Bound(default), NicId.Any, "unbound", false));
        Assert.Equal(StackError.PortInUse, demux.Register(Bound(default), new NicId(1), "dev1-again", false));
        Assert.Equal("dev1", demux.Find(0, Packet(Remote), new NicId(1)));
        Assert.Equal("dev2", demux.Find(0, Packet(Remote), new NicId(2)));
        Assert.Equal("unbound", demux.Find(0, Packet(Remote), new NicId(1000)));
        demux.Unregister(Bound(default), NicId.Any, "unbound");
        Assert.Null(demux.Find(0, Packet(Remote), new NicId(1000)));
    }

    [Fact]
    public void Find_FiveReusePortEndpoints_EvenSplitAndStablePerTuple()
    {
        var demux = new TransportDemuxer<string>(1);
        for (int i = 0; i < 5; i++)
            Assert.Equal(StackError.None, demux.Register(Bound(default), NicId.Any, $"ep{i}", true));
        var counts = new Dictionary<string, int>();
        var random = new Random(1234);
        const int flows = 10_000;
        var nic = new NicId(1);
        for (int i = 0; i < flows; i++)
        {
            var remote = new Ipv4Address(0xC612_0000u | (uint)random.Next(1 << 16));
            TransportEndpointId id = Packet(remote, (ushort)random.Next(1024, 65536));
            string chosen = demux.Find(0, id, nic)!;
            counts[chosen] = counts.GetValueOrDefault(chosen) + 1;
            // The same tuple always lands on the same endpoint.
            Assert.Equal(chosen, demux.Find(0, id, nic));
        }
        Assert.Equal(5, counts.Count);
        foreach (int n in counts.Values)
            Assert.InRange(n / (double)flows, 0.18, 0.22);
    }
}
