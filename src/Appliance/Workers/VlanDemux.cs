using XdpStack.Appliance.Links;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Workers;

/// <summary>Sorts the frames one interface receives between it and its 802.1Q sub-interfaces, stripping the tag of the ones it hands on.</summary>
/// <remarks>
/// Built once at start (the sub-interfaces of a parent cannot change without a restart) and read only by the workers
/// that own a socket on the parent, so it needs no publication. The lookup is one array index per frame: 4096 entries
/// of 2 bytes per parent interface, paid once, instead of a search per frame.
/// </remarks>
internal sealed class VlanDemux
{
    private const int IdCount = 4096;

    private readonly short[] _subOfId = new short[IdCount];

    /// <param name="links">The parent's sub-interfaces: <c>links[i].VlanId</c> (1 to 4094, distinct) is sub-interface i.</param>
    public VlanDemux(IReadOnlyList<XdpNicLink> links)
    {
        Array.Fill(_subOfId, (short)-1);
        for (int i = 0; i < links.Count; i++)
        {
            ushort id = links[i].VlanId;
            if (id is < VlanTag.MinId or > VlanTag.MaxId)
                throw new ArgumentException($"{links[i].Name}: VLAN id {id} is outside {VlanTag.MinId}-{VlanTag.MaxId}", nameof(links));
            if (_subOfId[id] >= 0)
                throw new ArgumentException($"{links[i].Name}: VLAN id {id} is already {links[_subOfId[id]].Name}", nameof(links));
            _subOfId[id] = (short)i;
        }
        Links = [.. links];
    }

    /// <summary>The sub-interfaces, indexed by the <c>sub</c> that <see cref="Classify"/> returns.</summary>
    public XdpNicLink[] Links { get; }

    /// <summary>
    /// Classifies <paramref name="frame"/> (in <paramref name="memory"/>); for <see cref="VlanVerdict.SubInterface"/>,
    /// and for a priority-tagged frame, strips the tag in place, moving <see cref="Frame.Offset"/> 4 octets on.
    /// <paramref name="sub"/> is the sub-interface's index for <see cref="VlanVerdict.SubInterface"/>, otherwise −1.
    /// </summary>
    public VlanVerdict Classify(Span<byte> memory, ref Frame frame, out int sub)
    {
        sub = -1;
        Span<byte> bytes = memory.Slice(frame.Offset, frame.Length);
        if (!VlanTag.TryRead(bytes, out EtherType outer, out ushort id))
        {
            // Shorter than an Ethernet header is the parent NIC's to count (malformed_link); a cut tag is ours.
            return outer == EtherType.Vlan ? VlanVerdict.Truncated : VlanVerdict.Untagged;
        }
        if (outer == EtherType.QinQ)
            return VlanVerdict.ServiceTag;
        if (outer != EtherType.Vlan)
            return VlanVerdict.Untagged;
        if (id != 0)
        {
            sub = _subOfId[id];
            if (sub < 0)
                return VlanVerdict.UnknownVlan;
        }
        // VLAN id 0 is a priority tag (IEEE 802.1Q §9.6): Linux strips it and hands the frame to the parent.
        VlanTag.Strip(bytes);
        frame.Offset += EthernetFrame.VlanTagLength;
        frame.Length -= EthernetFrame.VlanTagLength;
        return id == 0 ? VlanVerdict.Untagged : VlanVerdict.SubInterface;
    }
}
