namespace XdpStack.Stack.Neighbors;

/// <summary>Neighbor Unreachability Detection states (RFC 4861 §7.3.2, plus gVisor's Unknown, Static and Unreachable).</summary>
public enum NeighborState
{
    /// <summary>Just created; nothing sent yet.</summary>
    Unknown,

    /// <summary>Resolving: multicast (NDP) or broadcast (ARP) probes are out and packets wait in the queue.</summary>
    Incomplete,

    /// <summary>Confirmed reachable within the last ReachableTime.</summary>
    Reachable,

    /// <summary>Has a link address nobody has confirmed lately; still used, and the first use starts Delay.</summary>
    Stale,

    /// <summary>Used while Stale; waits DelayFirstProbeTime for upper-layer confirmation before probing.</summary>
    Delay,

    /// <summary>Sending unicast probes to the known link address.</summary>
    Probe,

    /// <summary>Configured by hand: never probed, never evicted, not counted against the dynamic limit.</summary>
    Static,

    /// <summary>Resolution or probing failed; the next packet starts resolution again.</summary>
    Unreachable,
}
