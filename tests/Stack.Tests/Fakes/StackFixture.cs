using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>A stack with one NIC (id 1) over a channel endpoint, owning 198.18.0.2/24 unless told otherwise.</summary>
internal sealed class StackFixture
{
    public static readonly NicId Nic1 = new(1);

    public StackFixture(int workers = 1, bool addAddress = true, LinkCapabilities capabilities = LinkCapabilities.ResolutionRequired, int mtu = 1500, TimeSpan? icmpPeerInterval = null, TimeProvider? wallClock = null)
    {
        Stack = new NetworkStack(new StackOptions
        {
            Workers = workers,
            Clock = Clock,
            IcmpPeerInterval = icmpPeerInterval ?? new StackOptions().IcmpPeerInterval,
            Icmpv6PeerInterval = icmpPeerInterval ?? new StackOptions().Icmpv6PeerInterval,
            WallClock = wallClock ?? TimeProvider.System,
        });
        Link = new ChannelEndpoint(Packets.StackMac, mtu: mtu, workers: workers, capabilities: capabilities);
        Assert.Equal(StackError.None, Stack.CreateNic(Nic1, Link, "eth0"));
        if (addAddress)
            Assert.Equal(StackError.None, Stack.AddAddress(Nic1, Packets.StackIp, 24));
        // Drop the gratuitous ARP the address add sent.
        Link.Clear();
    }

    public NetworkStack Stack { get; }

    public ChannelEndpoint Link { get; }

    public ManualClock Clock { get; } = new();

    public Nic Nic => Stack.Nics[Nic1];

    public long this[StatCounter counter] => Nic.Stats[counter];

    /// <summary>Injects a frame and returns everything the stack sent in response.</summary>
    public List<byte[]> Exchange(byte[] frame, int worker = 0)
    {
        Link.InjectInbound(frame, worker);
        return Link.ReadAll();
    }

    /// <summary>
    /// Bytes this thread allocated while it injected <paramref name="frames"/> one at a time, in
    /// order, <paramref name="rounds"/> times over, draining what the stack sent after each round.
    /// </summary>
    public long AllocatedWhileInjecting(List<byte[]> frames, int rounds)
    {
        byte[] sink = new byte[2048];
        return AllocationWindow.Measure(() =>
        {
            for (int r = 0; r < rounds; r++)
            {
                foreach (byte[] frame in frames)
                    Link.InjectInbound(frame);
                while (Link.Read(sink) >= 0)
                {
                }
            }
        });
    }

    public static Ipv4Address Ip(string text) => Ipv4Address.Parse(text);
}
