using System.Diagnostics.CodeAnalysis;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

/// <summary>An IPv4 or IPv6 address, for the control-path APIs that take either (gVisor's <c>tcpip.Address</c>).</summary>
/// <remarks>
/// The receive path never uses this type: it reads <see cref="Ipv4Address"/> or
/// <see cref="Ipv6Address"/> from the packet and looks them up in per-protocol snapshots.
/// </remarks>
public readonly struct IpAddress : IEquatable<IpAddress>
{
    private readonly Ipv6Address _bits;

    public IpAddress(Ipv4Address address)
    {
        _bits = new Ipv6Address(0, address.Value);
        IsIpv4 = true;
    }

    public IpAddress(Ipv6Address address)
    {
        _bits = address;
        IsIpv4 = false;
    }

    public bool IsIpv4 { get; }

    public bool IsIpv6 => !IsIpv4;

    /// <summary>The network protocol of the address, as gVisor numbers network protocols: by EtherType.</summary>
    public EtherType Protocol => IsIpv4 ? EtherType.Ipv4 : EtherType.Ipv6;

    /// <summary>The IPv4 address; meaningful only when <see cref="IsIpv4"/>.</summary>
    public Ipv4Address V4 => new((uint)_bits.Low);

    /// <summary>The IPv6 address; meaningful only when <see cref="IsIpv6"/>.</summary>
    public Ipv6Address V6 => _bits;

    public bool IsUnspecified => IsIpv4 ? V4.IsUnspecified : V6.IsUnspecified;

    public bool IsMulticast => IsIpv4 ? V4.IsMulticast : V6.IsMulticast;

    /// <summary>The number of bits in an address of this protocol.</summary>
    public int BitLength => IsIpv4 ? 32 : 128;

    public static implicit operator IpAddress(Ipv4Address address) => new(address);

    public static implicit operator IpAddress(Ipv6Address address) => new(address);

    public static IpAddress Parse(string text) =>
        Ipv4Address.TryParse(text, out Ipv4Address v4) ? new IpAddress(v4) : new IpAddress(Ipv6Address.Parse(text));

    public bool Equals(IpAddress other) => IsIpv4 == other.IsIpv4 && _bits == other._bits;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is IpAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(IsIpv4, _bits);

    public static bool operator ==(IpAddress left, IpAddress right) => left.Equals(right);

    public static bool operator !=(IpAddress left, IpAddress right) => !left.Equals(right);

    public override string ToString() => IsIpv4 ? V4.ToString() : V6.ToString();
}
