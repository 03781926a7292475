using System.Numerics;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

/// <summary>
/// The flow label of an IPv6 packet the stack sends itself, as Linux's automatic flow labels give them
/// (net.ipv6.auto_flowlabels = 1, ip6_make_flowlabel): a keyed hash of the flow, the same for every packet of
/// one flow and never 0, so that routers that spread flows by label (RFC 6437, RFC 7098) keep each one on one
/// path. Neighbor Discovery and Redirect messages keep label 0, as Linux's ndisc sends them.
/// </summary>
internal static class Ipv6FlowLabel
{
    private const uint Mask = 0x000F_FFFF;

    // Per process, like Linux's per-boot hash secret: the labels tell an observer nothing about the addresses.
    private static readonly ulong s_key = (ulong)Random.Shared.NextInt64() | 1;

    /// <summary>The label of the flow from <paramref name="source"/> to <paramref name="destination"/> with these upper-layer ports (0 for ICMPv6).</summary>
    public static uint For(Ipv6Address source, Ipv6Address destination, IpProtocol protocol, ushort sourcePort = 0, ushort destinationPort = 0)
    {
        ulong h = s_key;
        h = Mix(h ^ source.High);
        h = Mix(h ^ source.Low);
        h = Mix(h ^ destination.High);
        h = Mix(h ^ destination.Low);
        h = Mix(h ^ (((ulong)(byte)protocol << 32) | ((ulong)sourcePort << 16) | destinationPort));
        // As Linux: rotate the hash before taking the low 20 bits.
        uint label = BitOperations.RotateLeft((uint)h, 16) & Mask;
        return label == 0 ? 1 : label;
    }

    private static ulong Mix(ulong x)
    {
        x *= 0x9E37_79B9_7F4A_7C15UL;
        return x ^ (x >> 29);
    }
}
