using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>The parsed form of an Ethernet II header, with an optional 802.1Q tag.</summary>
/// <remarks><see cref="EtherType"/> is the payload's type (the inner one for a tagged frame); a tag is emitted with TPID 0x8100.</remarks>
public readonly record struct EthernetHeader(MacAddress Destination, MacAddress Source, EtherType EtherType)
{
    /// <summary>True when the header has an 802.1Q tag.</summary>
    public bool HasVlanTag { get; init; }

    /// <summary>The tag control information: priority (3 bits), drop eligible (1), VLAN id (12).</summary>
    public ushort TagControl { get; init; }

    public ushort VlanId => (ushort)(TagControl & 0x0FFF);

    public byte Priority => (byte)(TagControl >> 13);

    /// <summary>14, or 18 with a tag.</summary>
    public int HeaderLength => HasVlanTag ? EthernetFrame.UntaggedHeaderLength + EthernetFrame.VlanTagLength : EthernetFrame.UntaggedHeaderLength;

    /// <summary>The octets <see cref="Emit"/> writes.</summary>
    public int BufferLength => HeaderLength;

    /// <summary>A header with an 802.1Q tag.</summary>
    public static EthernetHeader Tagged(MacAddress destination, MacAddress source, EtherType etherType, ushort vlanId, byte priority = 0) =>
        new(destination, source, etherType) { HasVlanTag = true, TagControl = (ushort)((priority << 13) | (vlanId & 0x0FFF)) };

    /// <summary>Reads the header of a checked frame; always succeeds, as <see cref="EthernetFrame.TryCreate"/> checked everything there is to check.</summary>
    public static bool TryParse(EthernetFrame frame, out EthernetHeader header)
    {
        header = new EthernetHeader(frame.Destination, frame.Source, frame.EtherType)
        {
            HasVlanTag = frame.HasVlanTag,
            TagControl = frame.TagControl,
        };
        return true;
    }

    /// <summary>Writes all <see cref="HeaderLength"/> octets.</summary>
    public void Emit(Span<byte> destination)
    {
        _ = destination[HeaderLength - 1];
        Destination.CopyTo(destination);
        Source.CopyTo(destination[6..]);
        if (HasVlanTag)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[12..], (ushort)EtherType.Vlan);
            BinaryPrimitives.WriteUInt16BigEndian(destination[14..], TagControl);
            BinaryPrimitives.WriteUInt16BigEndian(destination[16..], (ushort)EtherType);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[12..], (ushort)EtherType);
        }
    }
}
