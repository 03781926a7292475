namespace XdpStack.Stack.Network;

/// <summary>Where an arriving fragment's data falls against the fragments of its datagram already held.</summary>
internal enum FragmentPlacement
{
    /// <summary>It touches no range held.</summary>
    New,

    /// <summary>It covers exactly a range held: a retransmission, ignored.</summary>
    Duplicate,

    /// <summary>It overlaps a range held in any other way, which makes the whole datagram suspect (RFC 5722).</summary>
    Overlap,
}
