namespace XdpStack.Appliance.Workers;

/// <summary>Why a run worker dropped a frame outside the stack, counted per interface (<see cref="RunWorkerCounters.Drops"/>).</summary>
/// <remarks>Frames the stack drops are counted by the stack (<c>StatCounter</c>); a TX ring with no room by <see cref="RunPort.TxRingFullDrops"/>.</remarks>
internal enum WorkerDrop
{
    /// <summary>No free UMEM frame (or a frame larger than a UMEM frame) for a frame the stack built or another worker handed over.</summary>
    PoolEmpty,

    /// <summary>The owner worker's hand-off ring from this worker was full.</summary>
    HandoffFull,

    /// <summary>The owner worker's hand-off ring from control threads was full (written by control threads under the producer lock).</summary>
    ControlHandoffFull,

    /// <summary>A fast-path verdict named an interface with no link (it went away).</summary>
    NoEgressLink,

    /// <summary>Received while the interface's NIC was detached from the stack.</summary>
    Detached,

    /// <summary>A packet larger than the worker can hold: a received chain longer than the interfaces' MTU allows, or a frame to send larger than one UMEM frame without multi-buffer.</summary>
    Oversize,

    /// <summary>The worker's lane to the punt thread was full (or the frame, a reassembled datagram, longer than its slots): the kernel twin did not get it.</summary>
    PuntFull,

    /// <summary>An 802.1Q-tagged frame whose VLAN id no sub-interface of the receiving interface has (Linux drops these too).</summary>
    UnknownVlan,

    /// <summary>An 802.1ad (QinQ, TPID 0x88A8) frame on an interface with sub-interfaces: no sub-interface terminates service tags.</summary>
    ServiceTag,

    /// <summary>TPID 0x8100 in a frame too short for the rest of the tag.</summary>
    TruncatedVlanTag,
}
