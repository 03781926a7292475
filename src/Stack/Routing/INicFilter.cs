namespace XdpStack.Stack.Routing;

/// <summary>Decides whether a route's NIC may be used, so route lookups can skip routes through down NICs (gVisor TestRouteWithDownNIC).</summary>
/// <remarks>Implement it on a struct and pass it by value: the lookup is then specialised with no delegate or interface call.</remarks>
public interface INicFilter
{
    /// <summary>True when routes through NIC <paramref name="nic"/> may be chosen.</summary>
    bool IsUsable(int nic);
}
