using XdpStack.Appliance.Links;
using XdpStack.Stack;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Workers;

/// <summary>One worker's AF_XDP socket on one interface, with the TX descriptors it has queued this round and its counters.</summary>
/// <remarks>Only the owning worker touches it; the control thread reads the counters (plain 64-bit loads, never torn on the platforms we run on).</remarks>
internal sealed class RunPort
{
    public RunPort(XskSocket socket, XdpNicLink link, int pendingCapacity, ulong prefilled, int nicSlots)
    {
        ForwardedTo = new ulong[nicSlots];
        Socket = socket;
        Link = link;
        PendingAddresses = new ulong[pendingCapacity];
        PendingLengths = new uint[pendingCapacity];
        PendingOptions = new uint[pendingCapacity];
        FillSubmitted = prefilled;
    }

    public XskSocket Socket { get; }

    public XdpNicLink Link { get; }

    public NicId NicId => Link.NicId;

    /// <summary>The demux of the interface's VLAN sub-interfaces, or null when it has none (tagged frames then go to the stack, which drops them).</summary>
    public VlanDemux? Vlans { get; init; }

    public readonly ulong[] PendingAddresses;
    public readonly uint[] PendingLengths;

    /// <summary><see cref="XdpDescriptor.PacketContinues"/> on every descriptor of a multi-buffer chain but its last.</summary>
    public readonly uint[] PendingOptions;
    public int PendingCount;

    public ulong RxPackets;
    public ulong RxBytes;
    public ulong TxPackets;
    public ulong TxBytes;

    /// <summary>RX descriptors consumed: <see cref="RxPackets"/> plus the extra descriptors of multi-buffer chains.</summary>
    public ulong RxDescriptors;

    /// <summary>TX descriptors submitted: <see cref="TxPackets"/> plus the extra descriptors of multi-buffer chains.</summary>
    public ulong TxDescriptors;

    /// <summary>Frames ever put on the fill ring (prefill included); minus <see cref="RxDescriptors"/>, the frames the fill ring, the kernel and the RX ring hold.</summary>
    public ulong FillSubmitted;

    /// <summary>Frames whose completion came back; <see cref="TxDescriptors"/> minus this is what the TX ring and the kernel hold.</summary>
    public ulong Completed;

    /// <summary>True while the rest of a chain too long to gather is being skipped (its head was dropped in an earlier round).</summary>
    public bool DiscardingChain;

    /// <summary>Packets dropped because the TX ring had no room.</summary>
    public ulong TxRingFullDrops;

    /// <summary>sendto() kicks of the TX ring.</summary>
    public ulong TxWakeups;

    /// <summary>RX-side wake-up syscalls: busy-poll recvfrom() on this socket, and each idle poll() over the worker's sockets (one poll serves every socket's fill ring, so it counts on each).</summary>
    public ulong RxWakeups;

    /// <summary>ForwardedTo[n]: frames received here that a fast path sent out of the NIC with id value n.</summary>
    public readonly ulong[] ForwardedTo;
}
