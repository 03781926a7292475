using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>Removes and inserts the IEEE 802.1Q tag of an Ethernet frame in place, for links that carry VLAN sub-interfaces.</summary>
/// <remarks>
/// <para>
/// The tag sits between the source MAC and the EtherType (layout in <see cref="EthernetFrame"/>), so stripping it
/// moves the two MACs 4 octets towards the payload and inserting it moves them back: 12 octets copied either way,
/// and the payload never moves. Both work on a region that holds the tagged frame, the untagged frame being its
/// last <c>Length - 4</c> octets, so a received frame keeps its buffer and only its start moves.
/// </para>
/// <para>
/// VLAN ids 0 and 4095 are reserved (IEEE 802.1Q Table 9-2): 0 marks a priority-tagged frame that belongs to the
/// untagged link, 4095 is never assigned. Sub-interfaces use 1 to 4094, as <c>ip link add … type vlan id</c> does.
/// </para>
/// </remarks>
public static class VlanTag
{
    /// <summary>The lowest VLAN id a sub-interface can have.</summary>
    public const int MinId = 1;

    /// <summary>The highest VLAN id a sub-interface can have (4095 is reserved).</summary>
    public const int MaxId = 4094;

    /// <summary>Octets from the frame start to the TPID: the two MACs, which move when the tag comes or goes.</summary>
    private const int AddressesLength = 12;

    private const int TagControlOffset = 14;

    /// <summary>
    /// Reads the outer TPID and, when it is 0x8100, the VLAN id; false when the frame is too short for what its
    /// EtherType announces (shorter than 14 octets, or tagged and shorter than 18).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out EtherType outerType, out ushort vlanId)
    {
        vlanId = 0;
        outerType = default;
        if (frame.Length < EthernetFrame.UntaggedHeaderLength)
            return false;
        outerType = (EtherType)BinaryPrimitives.ReadUInt16BigEndian(frame[AddressesLength..]);
        if (outerType != EtherType.Vlan)
            return true;
        if (frame.Length < EthernetFrame.UntaggedHeaderLength + EthernetFrame.VlanTagLength)
            return false;
        vlanId = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame[TagControlOffset..]) & 0x0FFF);
        return true;
    }

    /// <summary>
    /// Removes the tag of the tagged frame <paramref name="tagged"/> (checked by <see cref="TryRead"/>): afterwards
    /// the untagged frame is <c>tagged[4..]</c>, with the inner EtherType where the EtherType belongs.
    /// </summary>
    public static void Strip(Span<byte> tagged) =>
        tagged[..AddressesLength].CopyTo(tagged[EthernetFrame.VlanTagLength..]);

    /// <summary>
    /// Tags the untagged frame that lies at <c>region[4..]</c>, using the 4 octets in front of it: afterwards
    /// <paramref name="region"/> is the frame with a tag of <paramref name="vlanId"/>, priority 0 and DEI 0.
    /// </summary>
    public static void Insert(Span<byte> region, ushort vlanId)
    {
        region.Slice(EthernetFrame.VlanTagLength, AddressesLength).CopyTo(region);
        BinaryPrimitives.WriteUInt16BigEndian(region[AddressesLength..], (ushort)EtherType.Vlan);
        BinaryPrimitives.WriteUInt16BigEndian(region[TagControlOffset..], (ushort)(vlanId & 0x0FFF));
    }

    /// <summary>
    /// Copies the untagged frame <paramref name="untagged"/> into <paramref name="destination"/> with a tag of
    /// <paramref name="vlanId"/> (priority 0, DEI 0); returns the tagged length, or 0 when the source is shorter
    /// than an Ethernet header or the destination has no room.
    /// </summary>
    public static int CopyTagged(ReadOnlySpan<byte> untagged, Span<byte> destination, ushort vlanId)
    {
        int length = untagged.Length + EthernetFrame.VlanTagLength;
        if (untagged.Length < EthernetFrame.UntaggedHeaderLength || destination.Length < length)
            return 0;
        untagged[AddressesLength..].CopyTo(destination[(AddressesLength + EthernetFrame.VlanTagLength)..]);
        untagged[..AddressesLength].CopyTo(destination);
        BinaryPrimitives.WriteUInt16BigEndian(destination[AddressesLength..], (ushort)EtherType.Vlan);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TagControlOffset..], (ushort)(vlanId & 0x0FFF));
        return length;
    }
}
