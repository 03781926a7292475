using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

/// <summary>Takes copies of received frames that belong to a control plane outside the stack (a kernel TAP twin of the NIC, as VPP's linux-cp has).</summary>
/// <remarks>
/// <para>
/// A NIC with a handler (<see cref="Nic.SetPuntHandler"/>) hands it, on the receiving worker, every frame the stack
/// itself does not answer: packets to its own addresses for a protocol or port no endpoint serves (instead of a TCP
/// RST, ICMP Port or Protocol Unreachable or Parameter Problem), and copies of what both sides need to see: ARP
/// packets whose target is one of its addresses, ICMP and ICMPv6 other than echo requests (NDP, echo replies,
/// errors), link-local multicast (224.0.0.0/24, ff02::/16), and IPv6 unicast to link-local addresses the stack does
/// not own. Docs: docs/punt.md.
/// </para>
/// <para>
/// <see cref="Punt"/> runs on the data path: it must not allocate, lock, block or make a syscall, and
/// the frame is valid only during the call (the stack may turn it into a reply afterwards).
/// </para>
/// </remarks>
public interface IPuntHandler
{
    /// <summary>Takes a copy of <paramref name="frame"/> (Ethernet header first) received on <paramref name="nic"/> by <paramref name="worker"/>.</summary>
    void Punt(Nic nic, int worker, ReadOnlySpan<byte> frame);
}
