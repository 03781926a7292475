using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Routing;

/// <summary>The per-flow hash that picks one next hop of a multipath route; the full stack and both fast paths call the same code on the same header bytes, so they choose the same path for every packet.</summary>
/// <remarks>
/// <para>
/// Inputs (<see cref="MultipathHashPolicy.Layer4"/>): source, destination, protocol and both ports for TCP and UDP;
/// source and destination (and the IPv6 flow label) for every other packet. An IPv4 fragment, first or not, always
/// takes the Layer 3 hash, as Linux does, so all fragments of a datagram leave by the same path (a later fragment has
/// no ports to hash). IPv6 looks only at the fixed header's Next Header: a fragment (44) or any other extension
/// header makes it Layer 3, which again keeps the fragments of one packet together. A TCP or UDP packet too short to
/// hold both ports is hashed at Layer 3 too.
/// </para>
/// <para>
/// The mixing is xxHash64's round and avalanche over two 64-bit words, keyed by <see cref="Seed"/>: a few
/// multiplications, no allocation, no table. A random seed per stack (the default) keeps routers in a chain from
/// all choosing alike, which would leave some of the second router's paths unused (hash polarisation).
/// </para>
/// </remarks>
/// <param name="Policy">Which fields are hashed.</param>
/// <param name="Seed">Keys the hash.</param>
public readonly record struct MultipathHash(MultipathHashPolicy Policy, ulong Seed)
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong Prime3 = 0x165667B19E3779F9UL;

    private const byte Tcp = 6;
    private const byte Udp = 17;

    /// <summary>The hash of an IPv4 packet, <paramref name="packet"/> being its header and as much of its payload as its total length says (padding excluded).</summary>
    /// <remarks>Reads the header length from the packet; the caller has checked that the header fits.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint OfIpv4(ReadOnlySpan<byte> packet)
    {
        uint source = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
        uint destination = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
        ulong addresses = ((ulong)source << 32) | destination;
        byte protocol = packet[9];
        int headerLength = (packet[0] & 0xF) * 4;
        // More Fragments or a fragment offset: any fragment (RFC 791 §3.1, flags and offset in octets 6..7).
        bool fragment = (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3FFF) != 0;
        if (Policy == MultipathHashPolicy.Layer4 && (protocol == Tcp || protocol == Udp) && !fragment && packet.Length >= headerLength + 4)
            return Mix(addresses, ((ulong)protocol << 32) | BinaryPrimitives.ReadUInt32BigEndian(packet[headerLength..]));
        return Mix(addresses, 0);
    }

    /// <summary>The hash of an IPv6 packet, <paramref name="packet"/> being the fixed header and as much of the payload as its payload length says.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint OfIpv6(ReadOnlySpan<byte> packet)
    {
        ulong sourceHigh = BinaryPrimitives.ReadUInt64BigEndian(packet[8..]);
        ulong sourceLow = BinaryPrimitives.ReadUInt64BigEndian(packet[16..]);
        ulong destinationHigh = BinaryPrimitives.ReadUInt64BigEndian(packet[24..]);
        ulong destinationLow = BinaryPrimitives.ReadUInt64BigEndian(packet[32..]);
        ulong h = Seed + Prime3;
        h = Round(h, sourceHigh);
        h = Round(h, sourceLow);
        h = Round(h, destinationHigh);
        ulong last;
        byte nextHeader = packet[6];
        if (Policy == MultipathHashPolicy.Layer4 && (nextHeader == Tcp || nextHeader == Udp) && packet.Length >= 44)
            last = ((ulong)nextHeader << 32) | BinaryPrimitives.ReadUInt32BigEndian(packet[40..]);
        else // the flow label (RFC 6437), the low 20 bits of the first word; the marker bit keeps it apart from ports
            last = (1UL << 40) | (BinaryPrimitives.ReadUInt32BigEndian(packet) & 0xF_FFFF);
        return Avalanche(Round(Round(h, destinationLow), last));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Mix(ulong a, ulong b)
    {
        ulong h = Seed + Prime3;
        h = Round(h, a);
        return Avalanche(Round(h, b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Avalanche(ulong h)
    {
        h ^= h >> 33;
        h *= Prime2;
        h ^= h >> 29;
        h *= Prime3;
        h ^= h >> 32;
        return (uint)h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Round(ulong accumulator, ulong input)
    {
        accumulator ^= BitOperations.RotateLeft(input * Prime2, 31) * Prime1;
        return BitOperations.RotateLeft(accumulator, 27) * Prime1 + Prime2;
    }
}
