using XdpStack.Stack.Neighbors;

namespace XdpStack.Stack;

/// <summary>Settings fixed when a <see cref="NetworkStack"/> is created.</summary>
public sealed class StackOptions
{
    /// <summary>Number of workers (receive queues) that may deliver batches; each gets its own counters and scratch space.</summary>
    public int Workers { get; init; } = 1;

    /// <summary>The clock for neighbour timers, reassembly timeouts and rate limits; tests pass a manual one.</summary>
    public IClock Clock { get; init; } = SystemClock.Instance;

    /// <summary>Neighbour Unreachability Detection settings of every NIC's ARP cache.</summary>
    public NudConfiguration Nud { get; init; } = NudConfiguration.Default;

    /// <summary>ICMP error token bucket refill rate, per second (gVisor and Linux: 1000).</summary>
    public int IcmpErrorsPerSecond { get; init; } = 1000;

    /// <summary>ICMP error token bucket size (gVisor: 50).</summary>
    public int IcmpErrorBurst { get; init; } = 50;

    /// <summary>
    /// The time that earns one ICMPv4 error toward one destination (Linux net.ipv4.icmp_ratelimit, 1000 ms; a destination
    /// saves up six); <see cref="TimeSpan.Zero"/> turns the per-destination limit off.
    /// </summary>
    public TimeSpan IcmpPeerInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The same for ICMPv6 errors: net.ipv6.icmp.ratelimit, 100 ms on the Linux this follows (6.18, checked on the wire:
    /// six at once, then one every 100 ms toward a host on a connected /64); <see cref="TimeSpan.Zero"/> turns it off.
    /// </summary>
    public TimeSpan Icmpv6PeerInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Bytes of fragments each worker may hold for reassembly (Linux ipfrag_high_thresh is 4 MiB).</summary>
    public int ReassemblyMemoryLimit { get; init; } = 4 << 20;

    /// <summary>How long an incomplete datagram's fragments are kept (RFC 791 suggests 15 s, Linux uses 30 s).</summary>
    public TimeSpan ReassemblyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Datagrams each worker reassembles at once.</summary>
    public int ReassemblySlots { get; init; } = 64;

    /// <summary>Follow IPv4 Loose and Strict Source Route options (RFC 1812 §5.2.4.1); off, as Linux's accept_source_route=0, drops every packet carrying one.</summary>
    public bool AcceptSourceRoute { get; init; }

    /// <summary>Send ICMP Redirects (RFC 1812 §5.2.7.2) and NDP Redirects (RFC 4861 §8.2) when a forwarded packet leaves by the NIC it came in on; on by default, as Linux's send_redirects (Linux has no switch for IPv6's: it always sends them).</summary>
    public bool SendRedirects { get; init; } = true;

    /// <summary>Wall-clock time for the IPv4 Timestamp option, which wants milliseconds since UTC midnight; <see cref="Clock"/> is monotonic from an arbitrary origin, so it cannot say.</summary>
    public TimeProvider WallClock { get; init; } = TimeProvider.System;

    /// <summary>The fields that pick one next hop of a multipath route: ports too for TCP and UDP by default (VPP's default, Linux's policy 1); <see cref="NetworkStack.SetMultipathHashPolicy"/> changes it later.</summary>
    public Routing.MultipathHashPolicy MultipathHashPolicy { get; init; } = Routing.MultipathHashPolicy.Layer4;

    /// <summary>Keys the multipath flow hash; null (the default) draws a random one, so that routers in a chain do not all choose alike. Tests fix it to be repeatable.</summary>
    public ulong? MultipathHashSeed { get; init; }
}
