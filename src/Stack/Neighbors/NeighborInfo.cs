using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Neighbors;

/// <summary>A read-only copy of one neighbor entry, for the control plane and tests.</summary>
/// <param name="Address">The neighbor's network address.</param>
/// <param name="LinkAddress">Its link address, or zero while unresolved.</param>
/// <param name="State">The NUD state.</param>
/// <param name="QueuedPackets">Packets waiting for resolution.</param>
public readonly record struct NeighborInfo<TAddress>(TAddress Address, MacAddress LinkAddress, NeighborState State, int QueuedPackets)
    where TAddress : struct, IEquatable<TAddress>;
