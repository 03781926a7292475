using XdpStack.Appliance.Cli;

namespace XdpStack.Appliance.Run;

/// <summary>What the data plane needs to know about one interface.</summary>
/// <param name="Name">The device name in the appliance's network namespace.</param>
/// <param name="Queues">The queue indexes to serve, or null for every queue of the device.</param>
internal sealed record DataPlaneInterface(string Name, int[]? Queues)
{
    /// <summary>The name of the kernel TAP twin the control plane is punted to (docs/punt.md), or null for none.</summary>
    public string? PuntTap { get; init; }
}

/// <summary>An 802.1Q VLAN sub-interface: a NIC of its own whose frames ride on its parent's sockets, tagged with its id.</summary>
/// <param name="Name">Its name (routes, neighbours and services refer to it by that name).</param>
/// <param name="Parent">The <see cref="DataPlaneInterface.Name"/> it rides on.</param>
/// <param name="VlanId">Its VLAN id, 1 to 4094, unique on the parent.</param>
/// <param name="Mtu">Its MTU, at most the parent's; null for the parent's.</param>
internal sealed record DataPlaneVlan(string Name, string Parent, ushort VlanId, int? Mtu)
{
    /// <summary>The name of the kernel TAP twin the sub-interface's control plane is punted to, or null for none.</summary>
    public string? PuntTap { get; init; }
}

/// <summary>The AF_XDP side of <c>xdpstack run</c>: interfaces, workers, sockets, rings and UMEM.</summary>
internal sealed record DataPlaneSettings(IReadOnlyList<DataPlaneInterface> Interfaces)
{
    /// <summary>CPUs for the workers, in worker order (worker i serves the i-th smallest queue index); null: no pinning.</summary>
    public int[]? Cores { get; init; }

    /// <summary>VLAN sub-interfaces; their NICs come after the interfaces' ones, in this order.</summary>
    public IReadOnlyList<DataPlaneVlan> Vlans { get; init; } = [];

    public int Batch { get; init; } = 64;

    /// <summary>The workers' nice value (<c>[workers] nice</c>); 0 leaves them at the process's.</summary>
    public int WorkerNice { get; init; }

    public CopyMode CopyMode { get; init; } = CopyMode.Auto;

    public AttachMode AttachMode { get; init; } = AttachMode.Auto;

    public bool BusyPoll { get; init; }

    /// <summary>Replace an XDP program that is already attached to an interface, instead of refusing to start.</summary>
    public bool ReplaceProgram { get; init; }

    public int RxRingSize { get; init; } = 2048;

    public int TxRingSize { get; init; } = 2048;

    /// <summary>Twice the RX ring by default: when a worker falls behind, frames wait in the RX ring instead of being dropped for want of a fill entry.</summary>
    public int FillRingSize { get; init; } = 4096;

    public int CompletionRingSize { get; init; } = 2048;

    public int FrameSize { get; init; } = 4096;

    public int FramesPerWorker { get; init; } = 16384;

    public bool UmemHugePages { get; init; }

    /// <summary>Transparent huge pages for the IPv4 LPM's 64 MiB table (madvise).</summary>
    public bool LpmHugePages { get; init; } = true;

    /// <summary>Frames each hand-off ring between two workers (and from control threads) holds.</summary>
    public int HandoffCapacity { get; init; } = 1024;
}
