using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Arp;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

/// <summary>A network interface of the stack: one link endpoint, its addresses, its flags and its counters (gVisor <c>nic</c>).</summary>
/// <remarks>
/// Control operations (addresses, groups, flags) run on any thread under <c>_controlLock</c> and
/// publish a new <see cref="AddressSnapshot"/> with one <see cref="Volatile.Write{T}(ref T, T)"/>.
/// The receive path (<see cref="DeliverNetworkPackets"/>) reads the enabled flag and the snapshot
/// once per batch and takes no lock. The flags are single volatile fields so both sides agree on
/// them without a lock (gVisor 4f326de47 made them atomic for the same reason).
/// </remarks>
public sealed partial class Nic : INetworkDispatcher
{
    private readonly NetworkStack _stack;
    private readonly Lock _controlLock = new();
    private volatile bool _enabled;
    private volatile bool _promiscuous;
    private volatile bool _spoofing;
    private volatile bool _ipv4Forwarding;
    private volatile bool _ipv6Forwarding;
    private IPuntHandler? _punt;

    internal Nic(NetworkStack stack, NicId id, string name, ILinkEndpoint link)
    {
        _stack = stack;
        Id = id;
        Name = name;
        Link = link;
        Stats = new NicStats(stack.Workers);
        _fragmentScratch = new byte[stack.Workers][];
        Arp = new ArpEndpoint(this);
        Ipv4 = new Ipv4Endpoint(this);
        Neighbors = new NeighborCache<Ipv4Address>(stack.Clock, Arp, stack.Options.Nud);
        Neighbors.Changed += stack.OnIpv4NeighborsChanged;
        Ipv6 = new Ipv6Endpoint(this);
        Ipv6Neighbors = new NeighborCache<Ipv6Address>(stack.Clock, Ipv6, stack.Options.Nud);
        Ipv6Neighbors.Changed += stack.OnIpv6NeighborsChanged;
    }

    public NicId Id { get; }

    public string Name { get; }

    public ILinkEndpoint Link { get; }

    public NicStats Stats { get; }

    public NetworkStack Stack => _stack;

    public bool Enabled => _enabled;

    /// <summary>Accept packets to addresses the NIC does not own (and frames to other MACs); expired addresses receive again.</summary>
    public bool Promiscuous => _promiscuous;

    /// <summary>Allow routes with local addresses the NIC does not own; expired addresses may send again.</summary>
    public bool Spoofing => _spoofing;

    public bool IsLoopback => (Link.Capabilities & LinkCapabilities.Loopback) != 0;

    /// <summary>The ARP neighbour cache of this NIC.</summary>
    public NeighborCache<Ipv4Address> Neighbors { get; }

    internal ArpEndpoint Arp { get; }

    internal Ipv4Endpoint Ipv4 { get; }

    /// <summary>The addresses as the receive path sees them now.</summary>
    public AddressSnapshot Addresses => Volatile.Read(ref _snapshot);

    internal bool IsForwarding(EtherType protocol) => protocol == EtherType.Ipv4 ? _ipv4Forwarding : _ipv6Forwarding;

    internal bool SetForwarding(EtherType protocol, bool enable)
    {
        lock (_controlLock)
        {
            bool previous = IsForwarding(protocol);
            if (protocol == EtherType.Ipv4)
                _ipv4Forwarding = enable;
            else
                _ipv6Forwarding = enable;
            return previous;
        }
    }

    /// <summary>Where frames for a control plane outside the stack go, or null (the stack answers or drops everything itself).</summary>
    /// <remarks>Read by the receive path per packet that would go there; written by control threads.</remarks>
    public IPuntHandler? PuntHandler => Volatile.Read(ref _punt);

    /// <summary>Starts (a handler) or stops (null) punting this NIC's control-plane frames (see <see cref="IPuntHandler"/>).</summary>
    public void SetPuntHandler(IPuntHandler? handler) => Volatile.Write(ref _punt, handler);

    internal void SetPromiscuous(bool enable) => _promiscuous = enable;

    internal void SetSpoofing(bool enable) => _spoofing = enable;

    internal void Enable()
    {
        lock (_controlLock)
        {
            if (_enabled)
                return;
            // RFC 919: the limited broadcast address is ours on every enabled IPv4 interface, but
            // never a source address (gVisor TestAddRemoveIPv4BroadcastAddressOnNICEnableDisable).
            AddAddressLocked(new AddressWithPrefix(Ipv4Address.Broadcast, 32), PrimaryEndpointBehavior.NeverPrimary, AddressKind.Permanent, out _);
            _enabled = true;
            PublishLocked();
        }
        Arp.AnnounceAll();
    }

    internal void Disable()
    {
        lock (_controlLock)
        {
            if (!_enabled)
                return;
            _enabled = false;
            RemovePermanentAddressLocked(Ipv4Address.Broadcast);
            PublishLocked();
        }
        Arp.OnNicDisabled();
        Ipv6Neighbors.Clear();
    }

    /// <summary>Receives a batch from the link: the checks of gVisor's <c>DeliverNetworkPacket</c>, each ending in a counter.</summary>
    public void DeliverNetworkPackets(scoped FrameBatch batch)
    {
        int worker = batch.Worker;
        if (!_enabled)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                Stats.Add(worker, StatCounter.DisabledRxPackets);
                Stats.Add(worker, StatCounter.DisabledRxBytes, batch.Frames[i].Length);
            }
            return;
        }
        // One read of each published reference per batch; control threads may publish new ones
        // meanwhile, and this batch finishes on the ones it read.
        AddressSnapshot addresses = Volatile.Read(ref _snapshot);
        for (int i = 0; i < batch.Count; i++)
        {
            ref Frame frame = ref batch.Frames[i];
            Stats.Add(worker, StatCounter.RxPackets);
            Stats.Add(worker, StatCounter.RxBytes, frame.Length);
            DeliverFrame(worker, addresses, batch.Memory.Slice(frame.Offset, frame.Length), ref frame);
            if (frame.Action == FrameAction.Transmit)
            {
                Stats.Add(worker, StatCounter.TxPackets);
                Stats.Add(worker, StatCounter.TxBytes, frame.Length);
            }
        }
    }

    private void DeliverFrame(int worker, AddressSnapshot addresses, Span<byte> bytes, ref Frame frame)
    {
        if (!EthernetFrame.TryCreate(bytes, out EthernetFrame ethernet, out _))
        {
            Stats.Add(worker, StatCounter.MalformedLinkFrames);
            return;
        }
        MacAddress destination = ethernet.Destination;
        if (destination != Link.LinkAddress && !destination.IsMulticast && !_promiscuous)
        {
            Stats.Add(worker, StatCounter.OtherHostFrames);
            return;
        }
        // VLAN tags are not stripped: a tagged frame counts under its outer EtherType (0x8100).
        ushort etherType = (ushort)ethernet.OuterEtherType;
        if (etherType < 0x0600)
        {
            // An 802.3 length field, not an EtherType: no network protocol of ours rides on it.
            Stats.Add(worker, StatCounter.MalformedLinkFrames);
            return;
        }
        switch ((EtherType)etherType)
        {
            case EtherType.Arp:
                Arp.HandlePacket(worker, addresses, bytes, ref frame);
                break;
            case EtherType.Ipv4:
                Ipv4.HandlePacket(worker, addresses, bytes, ref frame);
                break;
            case EtherType.Ipv6:
                Ipv6.HandlePacket(worker, addresses, bytes, ref frame);
                break;
            default:
                Stats.AddUnknownNetwork(worker, etherType);
                break;
        }
    }

    /// <summary>Sends a frame the stack built; counts it as sent or as a link error.</summary>
    internal bool WriteFrame(int worker, ReadOnlySpan<byte> frame)
    {
        if (!Link.WriteFrame(worker, frame))
        {
            Stats.Add(worker, StatCounter.TxErrors);
            return false;
        }
        Stats.Add(worker, StatCounter.TxPackets);
        Stats.Add(worker, StatCounter.TxBytes, frame.Length);
        return true;
    }

    public override string ToString() => $"nic {Id} ({Name})";
}
