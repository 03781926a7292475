namespace XdpStack.Stack.Network;

/// <summary>Where an arriving fragment's data falls against the fragments of its datagram already held.</summary>
internal enum FragmentPlacement
{
    /// <summary>It touches no range held.</summary>
    New,

    /// <summary>It lies inside a run of data held: a retransmission, ignored (Linux's IPFRAG_DUP).</summary>
    Duplicate,

    /// <summary>It overlaps what is held in any other way, or contradicts the datagram's end, which makes the whole datagram suspect (RFC 5722): it is dropped.</summary>
    Overlap,
}
