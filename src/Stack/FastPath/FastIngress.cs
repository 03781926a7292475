using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>What the fast path needs to know about a receiving NIC: whether it may take frames from it at all, and the MAC they must be sent to.</summary>
/// <param name="Enabled">True when the NIC is enabled, forwards the fast path's protocol, is not promiscuous and the full stack's forwarder for that protocol is the one the fast path mirrors (<see cref="Network.Ipv4.Ipv4Forwarder"/>, <see cref="Network.Ipv6.Ipv6Forwarder"/>).</param>
/// <param name="MacKey">The NIC's MAC as the low 48 bits of a little-endian read of the frame's first 8 bytes.</param>
/// <param name="HairpinAllowed">True when a frame may leave by this same NIC without the full stack: false while <see cref="StackOptions.SendRedirects"/> is on, since such a frame may call for an ICMP or NDP Redirect.</param>
public readonly record struct FastIngress(bool Enabled, ulong MacKey, bool HairpinAllowed = true)
{
    /// <summary>The entry for <paramref name="nic"/>: enabled when the family's full-stack forwarder is installed and the NIC is up, forwards <paramref name="protocol"/> and is not promiscuous.</summary>
    public static FastIngress For(Nic nic, EtherType protocol, bool forwarderInstalled, bool hairpinAllowed = true)
    {
        Span<byte> macBytes = stackalloc byte[8];
        macBytes.Clear();
        nic.Link.LinkAddress.CopyTo(macBytes);
        return new FastIngress(
            forwarderInstalled && nic.Enabled && nic.IsForwarding(protocol) && !nic.Promiscuous,
            BinaryPrimitives.ReadUInt64LittleEndian(macBytes) & 0xFFFF_FFFF_FFFFUL,
            hairpinAllowed);
    }
}
