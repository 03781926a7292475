namespace XdpStack.Xdp.Routes;

/// <summary>What a route message asks of a mirror of the kernel's FIB.</summary>
public enum KernelRouteChangeKind
{
    /// <summary>RTM_NEWROUTE without NLM_F_REPLACE, or a dump entry: the route's next hops join any it already has (IPv4 <c>ip route append</c> announces only the added alias; IPv6 announces the whole group).</summary>
    Add,

    /// <summary>RTM_NEWROUTE with NLM_F_REPLACE: the route's next hops replace the ones it had.</summary>
    Replace,

    /// <summary>RTM_DELROUTE: the listed next hops leave the route (IPv4 deletes one alias, IPv6 one sibling or the whole group).</summary>
    Remove,
}
