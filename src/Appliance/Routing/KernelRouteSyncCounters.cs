namespace XdpStack.Appliance.Routing;

/// <summary>What the kernel route sync skipped and did; written by the sync thread only.</summary>
internal sealed class KernelRouteSyncCounters
{
    /// <summary>Route messages of another routing table than the one followed.</summary>
    public long OtherTable;

    /// <summary>Route cache entries (RTM_F_CLONED), which are no FIB routes.</summary>
    public long Cloned;

    /// <summary>Routes of a type other than unicast (blackhole, unreachable, prohibit, local, ...), by the name <c>ip route</c> gives the type.</summary>
    public Dictionary<string, long> NotUnicast { get; } = new(StringComparer.Ordinal);

    /// <summary>Unicast route messages none of whose next hops goes through an interface the appliance owns.</summary>
    public long NoOwnedInterface;

    /// <summary>Next hops left out because their gateway is of the other family (RTA_VIA).</summary>
    public long OtherFamilyGateway;

    /// <summary>Route tables published for kernel changes.</summary>
    public long Publications;

    /// <summary>Full dumps reconciled against the mirror: the first, and one per notification overrun.</summary>
    public long Resyncs;

    public long NotUnicastTotal => NotUnicast.Values.Sum();
}
