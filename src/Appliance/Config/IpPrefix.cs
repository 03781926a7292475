using XdpStack.Stack;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

/// <summary>An IPv4 or an IPv6 route prefix: the family comes from how it was written.</summary>
internal readonly struct IpPrefix : IEquatable<IpPrefix>
{
    private readonly Ipv4Prefix _v4;
    private readonly Ipv6Prefix _v6;

    public IpPrefix(Ipv4Prefix prefix)
    {
        _v4 = prefix;
        IsIpv4 = true;
    }

    public IpPrefix(Ipv6Prefix prefix)
    {
        _v6 = prefix;
    }

    public bool IsIpv4 { get; }

    public bool IsIpv6 => !IsIpv4;

    /// <summary>The IPv4 prefix; meaningful only when <see cref="IsIpv4"/>.</summary>
    public Ipv4Prefix V4 => _v4;

    /// <summary>The IPv6 prefix; meaningful only when <see cref="IsIpv6"/>.</summary>
    public Ipv6Prefix V6 => _v6;

    public int Length => IsIpv4 ? _v4.Length : _v6.Length;

    /// <summary>The prefix of <paramref name="length"/> bits around <paramref name="address"/>: an interface address's subnet.</summary>
    public static IpPrefix Containing(IpAddress address, int length) =>
        address.IsIpv4 ? new IpPrefix(Ipv4Prefix.Containing(address.V4, length)) : new IpPrefix(Ipv6Prefix.Containing(address.V6, length));

    /// <summary>True when <paramref name="address"/> is of this family and inside the prefix.</summary>
    public bool Contains(IpAddress address) =>
        address.IsIpv4 == IsIpv4 && (IsIpv4 ? _v4.Contains(address.V4) : _v6.Contains(address.V6));

    public bool Equals(IpPrefix other) => IsIpv4 == other.IsIpv4 && (IsIpv4 ? _v4 == other._v4 : _v6 == other._v6);

    public override bool Equals(object? obj) => obj is IpPrefix other && Equals(other);

    public override int GetHashCode() => IsIpv4 ? _v4.GetHashCode() : _v6.GetHashCode();

    public static bool operator ==(IpPrefix left, IpPrefix right) => left.Equals(right);

    public static bool operator !=(IpPrefix left, IpPrefix right) => !left.Equals(right);

    public override string ToString() => IsIpv4 ? _v4.ToString() : _v6.ToString();
}
