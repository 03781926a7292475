namespace XdpStack.Stack.Routing;

/// <summary>Ready-made <see cref="INicFilter"/> implementations.</summary>
public static class NicFilters
{
    /// <summary>Accepts every NIC.</summary>
    public readonly struct Any : INicFilter
    {
        public bool IsUsable(int nic) => true;
    }

    /// <summary>Accepts only one NIC (gVisor's FindRoute with a bound NIC).</summary>
    public readonly struct Only(int nic) : INicFilter
    {
        public bool IsUsable(int candidate) => candidate == nic;
    }

    /// <summary>Adapts a delegate, for control-path callers; the data path should use a struct filter.</summary>
    public readonly struct Predicate(Func<int, bool> isUsable) : INicFilter
    {
        public bool IsUsable(int nic) => isUsable(nic);
    }
}
