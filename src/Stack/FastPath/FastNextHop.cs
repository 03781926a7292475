using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>One resolved next hop of the fast path: the egress NIC, the 12 bytes of Ethernet addresses to write, and the egress MTU.</summary>
/// <remarks>NIC 0 marks the "hand to the full stack" entry that local addresses and unresolved routes point at.</remarks>
public readonly struct FastNextHop
{
    public FastNextHop(int nic, MacAddress source, MacAddress destination, int mtu)
    {
        Nic = nic;
        Mtu = mtu;
        Span<byte> header = stackalloc byte[12];
        destination.CopyTo(header);
        source.CopyTo(header[MacAddress.Length..]);
        // Stored in memory order so the data path writes them with two plain stores.
        MacsLow = BinaryPrimitives.ReadUInt64LittleEndian(header);
        MacsHigh = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        Source = source;
        Destination = destination;
    }

    /// <summary>The egress NIC id; 0 for the slow-path marker.</summary>
    public int Nic { get; }

    /// <summary>The egress link MTU: larger packets go to the full stack (fragmentation or Fragmentation Needed).</summary>
    public int Mtu { get; }

    /// <summary>The egress NIC's MAC.</summary>
    public MacAddress Source { get; }

    /// <summary>The next hop's MAC.</summary>
    public MacAddress Destination { get; }

    internal ulong MacsLow { get; }

    internal uint MacsHigh { get; }
}
