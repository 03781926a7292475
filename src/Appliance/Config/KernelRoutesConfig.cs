namespace XdpStack.Appliance.Config;

/// <summary>The <c>[kernel_routes]</c> section: whether the appliance mirrors a kernel routing table into its own, and which.</summary>
/// <param name="Sync">Follow the kernel's FIB (off by default: the appliance's routes are then only the config's).</param>
/// <param name="Table">The kernel table id (254 is <c>main</c>).</param>
/// <param name="TableName">How the file named the table, for messages and <c>show routes</c>.</param>
/// <param name="Ipv4">Mirror IPv4 routes.</param>
/// <param name="Ipv6">Mirror IPv6 routes.</param>
internal sealed record KernelRoutesConfig(bool Sync, uint Table, string TableName, bool Ipv4, bool Ipv6)
{
    /// <summary>RT_TABLE_MAIN: where <c>ip route add</c>, BIRD and FRR put routes unless told otherwise.</summary>
    public const uint MainTable = 254;

    /// <summary>No sync; were it switched on, the main table, both families.</summary>
    public static KernelRoutesConfig Default { get; } = new(false, MainTable, "main", true, true);
}
