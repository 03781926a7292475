using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

/// <summary>A way out of the stack to one remote address: the outgoing NIC, the local address held for it, and the next hop (gVisor <c>stack.Route</c>).</summary>
/// <remarks>
/// A route holds a reference on its local <see cref="AddressEndpoint"/> until <see cref="Release"/>,
/// so the address can be removed while the route lives: it then turns PermanentExpired and
/// <see cref="WritePacket"/> fails with <see cref="StackError.InvalidEndpointState"/> unless the NIC
/// spoofs (behaviour 6). Routes are for locally generated traffic on control or application
/// threads; the forwarding fast path uses the route table directly.
/// </remarks>
public sealed class Route : IDisposable
{
    // Identification for datagrams the stack originates; unique enough for unfragmented packets (RFC 6864).
    private static int s_identification;

    private readonly AddressEndpoint _local;
    private int _released;

    internal Route(Nic nic, AddressEndpoint local, IpAddress localAddress, IpAddress remoteAddress, IpAddress nextHop, MacAddress? remoteLinkAddress)
    {
        Nic = nic;
        _local = local;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        NextHop = nextHop;
        RemoteLinkAddress = remoteLinkAddress;
    }

    public Nic Nic { get; }

    public NicId NicId => Nic.Id;

    public IpAddress LocalAddress { get; }

    public IpAddress RemoteAddress { get; }

    /// <summary>The address to resolve on the link: the gateway, or <see cref="RemoteAddress"/> when on-link.</summary>
    public IpAddress NextHop { get; }

    /// <summary>The destination MAC when no resolution is needed (broadcast, multicast, a link without ARP); null otherwise.</summary>
    public MacAddress? RemoteLinkAddress { get; }

    public bool IsResolutionRequired => RemoteLinkAddress is null;

    /// <summary>The local address endpoint this route holds a reference on.</summary>
    public AddressEndpoint LocalEndpoint => _local;

    public bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>
    /// Sends <paramref name="payload"/> as one IPv4 packet of <paramref name="protocol"/> over this
    /// route. Fails with InvalidEndpointState when the route was released, its NIC is down, or its
    /// local address was removed and the NIC does not spoof (behaviours 6, 15).
    /// </summary>
    public StackError WritePacket(IpProtocol protocol, ReadOnlySpan<byte> payload, byte ttl = 64)
    {
        if (IsReleased || !Nic.Enabled || !_local.IsValidForOutgoing)
            return StackError.InvalidEndpointState;
        if (!LocalAddress.IsIpv4)
            return StackError.UnknownProtocol;
        int ipLength = Ipv4Packet.MinHeaderLength + payload.Length;
        if (ipLength > Nic.Link.Mtu)
            return StackError.MessageTooLong;
        byte[] frame = new byte[EthernetFrame.UntaggedHeaderLength + ipLength];
        Span<byte> ip = frame.AsSpan(EthernetFrame.UntaggedHeaderLength);
        new Ipv4Header(LocalAddress.V4, RemoteAddress.V4, protocol, ttl, payload.Length)
        {
            Identification = (ushort)Interlocked.Increment(ref s_identification),
        }.Emit(ip);
        payload.CopyTo(ip[Ipv4Packet.MinHeaderLength..]);
        return Nic.SendIpv4(frame, this);
    }

    /// <summary>Drops the route's reference on its local address; safe to call more than once, and after the address was removed.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            _local.DecRef();
    }

    public void Dispose() => Release();

    public override string ToString() => $"{LocalAddress} -> {RemoteAddress} via {NextHop} on {Nic}";

}
