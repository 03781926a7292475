namespace XdpStack.Stack;

/// <summary>An interface address with its prefix length, such as 198.18.0.1/24 (gVisor <c>tcpip.AddressWithPrefix</c>).</summary>
/// <remarks>Unlike a route prefix, the host bits are the point: they name the interface.</remarks>
public readonly record struct AddressWithPrefix(IpAddress Address, int PrefixLength)
{
    public override string ToString() => $"{Address}/{PrefixLength}";
}
