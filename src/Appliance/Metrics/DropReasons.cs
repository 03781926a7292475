using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using static XdpStack.Appliance.Metrics.ProtocolFamily;

namespace XdpStack.Appliance.Metrics;

/// <summary>
/// The closed set of <c>reason</c> labels of <c>xdpstack_drops_total</c>, and the role of every counter the stack keeps:
/// each <see cref="StatCounter"/> is either a drop with exactly one reason or an event of one protocol family.
/// </summary>
/// <remarks>
/// <para>
/// A drop is a frame or packet the appliance received (or built) and let go without doing what it was for. Counters
/// that only say why an ICMP error was not sent (<see cref="StatCounter.IcmpRateLimited"/>) are events: the packet
/// that caused the error is counted under its own reason. Counters of a link that refused a frame the stack built
/// (<see cref="StatCounter.TxErrors"/>, the outgoing errors) are events too: the worker counts the same frame under
/// the reason it was refused (<c>umem_pool_empty</c>, <c>handoff_full</c>), so the drop is not counted twice.
/// Counters that are a subset of another drop counter (<see cref="StatCounter.UdpChecksumErrors"/> inside
/// <see cref="StatCounter.MalformedTransportPackets"/>) are events for the same reason.
/// </para>
/// <para>
/// <see cref="Role"/> throws for a counter it does not know, and a test walks every <see cref="StatCounter"/>, so a
/// new counter cannot ship without a decision.
/// </para>
/// </remarks>
internal static class DropReasons
{
    /// <summary>A TX ring with no room (run: <see cref="RunPort.TxRingFullDrops"/>; reflect: <see cref="WorkerCounters.TxRingFullDrops"/>).</summary>
    public const string TxRingFull = "tx_ring_full";

    /// <summary>A frame shorter than an Ethernet header or with an 802.3 length (stack, and reflect's <see cref="WorkerCounters.ShortFrameDrops"/>).</summary>
    public const string MalformedLink = "malformed_link";

    /// <summary>The reason of each worker drop.</summary>
    public static string Of(WorkerDrop drop) => drop switch
    {
        WorkerDrop.PoolEmpty => "umem_pool_empty",
        WorkerDrop.HandoffFull => "handoff_full",
        WorkerDrop.ControlHandoffFull => "control_handoff_full",
        WorkerDrop.NoEgressLink => "no_egress_link",
        WorkerDrop.Detached => "nic_detached",
        WorkerDrop.Oversize => "oversize",
        WorkerDrop.PuntFull => "punt_full",
        WorkerDrop.UnknownVlan => "vlan_unknown",
        WorkerDrop.ServiceTag => "vlan_service_tag",
        WorkerDrop.TruncatedVlanTag => "malformed_vlan",
        _ => throw new ArgumentOutOfRangeException(nameof(drop), drop, "a worker drop with no reason"),
    };

    /// <summary>Every reason a drop counter can carry, in a stable order (every device exports each, zero included).</summary>
    public static IReadOnlyList<string> All { get; } = BuildAll();

    /// <summary>The role of <paramref name="counter"/> in the export.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The counter has no role yet.</exception>
    public static CounterRole Role(StatCounter counter) => counter switch
    {
        // Frames the stack's NICs saw; the socket families count every frame, these count the slow path's part.
        StatCounter.RxPackets => CounterRole.Event(StackFrames, "received"),
        StatCounter.RxBytes => CounterRole.Event(StackBytes, "received"),
        StatCounter.TxPackets => CounterRole.Event(StackFrames, "sent"),
        StatCounter.TxBytes => CounterRole.Event(StackBytes, "sent"),
        StatCounter.TxErrors => CounterRole.Event(StackFrames, "send_failed"),
        StatCounter.DisabledRxPackets => CounterRole.Drop("nic_disabled"),
        StatCounter.DisabledRxBytes => CounterRole.Event(StackBytes, "received_while_disabled"),
        StatCounter.OtherHostFrames => CounterRole.Drop("other_host"),
        StatCounter.MalformedLinkFrames => CounterRole.Drop(MalformedLink),
        StatCounter.UnknownNetworkProtocolPackets => CounterRole.Drop("unknown_ethertype"),
        StatCounter.UnknownTransportProtocolPackets => CounterRole.Drop("unknown_ip_protocol"),
        StatCounter.MalformedTransportPackets => CounterRole.Drop("malformed_transport"),

        StatCounter.Ipv4PacketsReceived => CounterRole.Event(Ip, "ipv4", "received"),
        StatCounter.Ipv4ValidPacketsReceived => CounterRole.Event(Ip, "ipv4", "valid_received"),
        StatCounter.Ipv4MalformedPacketsReceived => CounterRole.Drop("malformed_ip"),
        StatCounter.Ipv4InvalidSourceAddressesReceived => CounterRole.Drop("invalid_source"),
        StatCounter.Ipv4InvalidDestinationAddressesReceived => CounterRole.Drop("invalid_destination"),
        StatCounter.Ipv4PacketsDelivered => CounterRole.Event(Ip, "ipv4", "delivered"),
        StatCounter.Ipv4PacketsSent => CounterRole.Event(Ip, "ipv4", "sent"),
        StatCounter.Ipv4OutgoingPacketErrors => CounterRole.Event(Ip, "ipv4", "send_failed"),
        StatCounter.Ipv4PacketsForwarded => CounterRole.Event(Ip, "ipv4", "forwarded"),
        StatCounter.Ipv4FragmentsReceived => CounterRole.Event(Ip, "ipv4", "fragment_received"),
        StatCounter.Ipv4MalformedFragmentsReceived => CounterRole.Drop("malformed_fragment"),
        StatCounter.Ipv4PacketsReassembled => CounterRole.Event(Ip, "ipv4", "reassembled"),
        StatCounter.Ipv4ReassemblyTimeouts => CounterRole.Drop("reassembly_timeout"),
        StatCounter.Ipv4ReassemblyMemoryDrops => CounterRole.Drop("reassembly_memory"),

        StatCounter.IcmpPacketsReceived => CounterRole.Event(Icmp, "ipv4", "received"),
        StatCounter.IcmpInvalidReceived => CounterRole.Drop("malformed_icmp"),
        StatCounter.IcmpEchoRequestsReceived => CounterRole.Event(Icmp, "ipv4", "echo_request_received"),
        StatCounter.IcmpEchoRepliesSent => CounterRole.Event(Icmp, "ipv4", "echo_reply_sent"),
        StatCounter.IcmpTimestampRequestsReceived => CounterRole.Event(Icmp, "ipv4", "timestamp_request_received"),
        StatCounter.IcmpTimestampRepliesSent => CounterRole.Event(Icmp, "ipv4", "timestamp_reply_sent"),
        StatCounter.IcmpDestinationUnreachableSent => CounterRole.Event(Icmp, "ipv4", "dest_unreachable_sent"),
        StatCounter.IcmpTimeExceededSent => CounterRole.Event(Icmp, "ipv4", "time_exceeded_sent"),
        StatCounter.IcmpParameterProblemSent => CounterRole.Event(Icmp, "ipv4", "parameter_problem_sent"),
        StatCounter.IcmpRateLimited => CounterRole.Event(Icmp, "ipv4", "error_rate_limited"),
        StatCounter.IcmpRateLimitedHost => CounterRole.Event(Icmp, "ipv4", "error_rate_limited_host"),
        StatCounter.IcmpErrorsSuppressed => CounterRole.Event(Icmp, "ipv4", "error_suppressed"),
        StatCounter.IcmpRedirectsSent => CounterRole.Event(Icmp, "ipv4", "redirect_sent"),

        StatCounter.ArpPacketsReceived => CounterRole.Event(Arp, "received"),
        StatCounter.ArpMalformedPacketsReceived => CounterRole.Drop("malformed_arp"),
        StatCounter.ArpRequestsReceived => CounterRole.Event(Arp, "request_received"),
        StatCounter.ArpRequestsReceivedUnknownTargetAddress => CounterRole.Event(Arp, "request_other_target"),
        StatCounter.ArpRepliesReceived => CounterRole.Event(Arp, "reply_received"),
        StatCounter.ArpOutgoingRepliesSent => CounterRole.Event(Arp, "reply_sent"),
        StatCounter.ArpOutgoingRequestsSent => CounterRole.Event(Arp, "request_sent"),
        StatCounter.ArpOutgoingErrors => CounterRole.Event(Arp, "send_failed"),

        StatCounter.Ipv6PacketsReceived => CounterRole.Event(Ip, "ipv6", "received"),
        StatCounter.Ipv6MalformedPacketsReceived => CounterRole.Drop("malformed_ip"),
        StatCounter.Ipv6InvalidSourceAddressesReceived => CounterRole.Drop("invalid_source"),
        StatCounter.Ipv6InvalidDestinationAddressesReceived => CounterRole.Drop("invalid_destination"),
        StatCounter.Ipv6PacketsDelivered => CounterRole.Event(Ip, "ipv6", "delivered"),
        StatCounter.Ipv6PacketsSent => CounterRole.Event(Ip, "ipv6", "sent"),
        StatCounter.Ipv6OutgoingPacketErrors => CounterRole.Event(Ip, "ipv6", "send_failed"),
        StatCounter.Ipv6FragmentsReceived => CounterRole.Event(Ip, "ipv6", "fragment_received"),
        StatCounter.Ipv6MalformedFragmentsReceived => CounterRole.Drop("malformed_fragment"),
        StatCounter.Ipv6PacketsReassembled => CounterRole.Event(Ip, "ipv6", "reassembled"),
        StatCounter.Ipv6ReassemblyTimeouts => CounterRole.Drop("reassembly_timeout"),
        StatCounter.Ipv6ReassemblyMemoryDrops => CounterRole.Drop("reassembly_memory"),
        StatCounter.Ipv6PacketsFragmented => CounterRole.Event(Ip, "ipv6", "fragmented"),
        StatCounter.Ipv6FragmentsCreated => CounterRole.Event(Ip, "ipv6", "fragment_created"),
        StatCounter.Ipv6FragmentationFailures => CounterRole.Drop("fragmentation_failed"),
        StatCounter.Ipv6UnknownOptionDrops => CounterRole.Drop("ipv6_unknown_option"),
        StatCounter.Ipv6PacketsForwarded => CounterRole.Event(Ip, "ipv6", "forwarded"),

        StatCounter.Icmpv6PacketsReceived => CounterRole.Event(Icmp, "ipv6", "received"),
        StatCounter.Icmpv6InvalidReceived => CounterRole.Drop("malformed_icmp"),
        StatCounter.Icmpv6EchoRequestsReceived => CounterRole.Event(Icmp, "ipv6", "echo_request_received"),
        StatCounter.Icmpv6EchoRepliesSent => CounterRole.Event(Icmp, "ipv6", "echo_reply_sent"),
        StatCounter.Icmpv6ErrorsSent => CounterRole.Event(Icmp, "ipv6", "error_sent"),
        StatCounter.Icmpv6RedirectsSent => CounterRole.Event(Icmp, "ipv6", "redirect_sent"),
        StatCounter.Icmpv6RateLimited => CounterRole.Event(Icmp, "ipv6", "error_rate_limited"),
        StatCounter.Icmpv6RateLimitedHost => CounterRole.Event(Icmp, "ipv6", "error_rate_limited_host"),
        StatCounter.Icmpv6ErrorsSuppressed => CounterRole.Event(Icmp, "ipv6", "error_suppressed"),

        StatCounter.NdpSolicitationsReceived => CounterRole.Event(Ndp, "solicitation_received"),
        StatCounter.NdpAdvertisementsReceived => CounterRole.Event(Ndp, "advertisement_received"),
        StatCounter.NdpSolicitationsSent => CounterRole.Event(Ndp, "solicitation_sent"),
        StatCounter.NdpAdvertisementsSent => CounterRole.Event(Ndp, "advertisement_sent"),
        StatCounter.NdpInvalidReceived => CounterRole.Drop("malformed_ndp"),
        StatCounter.NdpSolicitationsUnknownTarget => CounterRole.Event(Ndp, "solicitation_other_target"),

        StatCounter.UdpDatagramsReceived => CounterRole.Event(Udp, "received"),
        StatCounter.UdpUnknownPortErrors => CounterRole.Drop("udp_no_port"),
        StatCounter.UdpReceiveBufferErrors => CounterRole.Drop("udp_receive_buffer_full"),
        StatCounter.UdpChecksumErrors => CounterRole.Event(Udp, "checksum_error"),
        StatCounter.UdpDatagramsSent => CounterRole.Event(Udp, "sent"),
        StatCounter.UdpIcmpErrorsDelivered => CounterRole.Event(Udp, "icmp_error_delivered"),
        StatCounter.UdpEchoReplies => CounterRole.Event(Udp, "echo_replied"),
        StatCounter.UdpEchoBytes => CounterRole.Event(UdpBytes, "echo_replied"),
        StatCounter.UdpEchoRefused => CounterRole.Drop("udp_echo_refused"),
        StatCounter.UdpEchoReplyErrors => CounterRole.Event(Udp, "echo_reply_failed"),
        StatCounter.UdpDiscarded => CounterRole.Event(Udp, "discarded"),
        StatCounter.UdpDiscardedBytes => CounterRole.Event(UdpBytes, "discarded"),

        StatCounter.TcpSegmentsReceived => CounterRole.Event(Tcp, "received"),
        StatCounter.TcpSegmentsSent => CounterRole.Event(Tcp, "sent"),
        StatCounter.TcpChecksumErrors => CounterRole.Event(Tcp, "checksum_error"),
        StatCounter.TcpMalformedReceived => CounterRole.Event(Tcp, "malformed"),
        StatCounter.TcpPassiveOpens => CounterRole.Event(Tcp, "passive_open"),
        StatCounter.TcpEstablished => CounterRole.Event(Tcp, "established"),
        StatCounter.TcpActiveOpens => CounterRole.Event(Tcp, "active_open"),
        StatCounter.TcpConnectionsReset => CounterRole.Event(Tcp, "connection_reset"),
        StatCounter.TcpResetsSent => CounterRole.Event(Tcp, "rst_sent"),
        StatCounter.TcpResetsReceived => CounterRole.Event(Tcp, "rst_received"),
        StatCounter.TcpNoPort => CounterRole.Drop("tcp_no_port"),
        StatCounter.TcpListenDrops => CounterRole.Drop("tcp_listen_overflow"),
        StatCounter.TcpSynCookiesSent => CounterRole.Event(Tcp, "syn_cookie_sent"),
        StatCounter.TcpSynCookiesValidated => CounterRole.Event(Tcp, "syn_cookie_validated"),
        StatCounter.TcpSynCookiesFailed => CounterRole.Event(Tcp, "syn_cookie_failed"),
        StatCounter.TcpSackRecoveries => CounterRole.Event(Tcp, "sack_recovery"),
        StatCounter.TcpSackRetransmits => CounterRole.Event(Tcp, "sack_retransmitted"),
        StatCounter.TcpKeepAliveProbes => CounterRole.Event(Tcp, "keepalive_probe"),
        StatCounter.TcpWindowProbes => CounterRole.Event(Tcp, "window_probe"),
        StatCounter.TcpRetransmits => CounterRole.Event(Tcp, "retransmitted"),
        StatCounter.TcpTimeouts => CounterRole.Event(Tcp, "timeout"),
        StatCounter.TcpFastRetransmits => CounterRole.Event(Tcp, "fast_retransmit"),
        StatCounter.TcpLossProbes => CounterRole.Event(Tcp, "loss_probe"),
        StatCounter.TcpLossProbeRecoveries => CounterRole.Event(Tcp, "loss_probe_recovery"),
        StatCounter.TcpRackReorderTimeouts => CounterRole.Event(Tcp, "rack_reorder_timeout"),
        StatCounter.TcpDsackUndos => CounterRole.Event(Tcp, "dsack_undo"),
        StatCounter.TcpLossUndos => CounterRole.Event(Tcp, "loss_undo"),
        StatCounter.TcpSynAckRetransmits => CounterRole.Event(Tcp, "syn_ack_retransmitted"),
        StatCounter.TcpChallengeAcks => CounterRole.Event(Tcp, "challenge_ack"),
        StatCounter.TcpPawsDrops => CounterRole.Drop("tcp_paws"),
        StatCounter.TcpPawsActiveRejected => CounterRole.Drop("tcp_paws"),
        StatCounter.TcpOutOfWindow => CounterRole.Drop("tcp_out_of_window"),
        StatCounter.TcpOutOfOrderQueued => CounterRole.Event(Tcp, "out_of_order_queued"),
        StatCounter.TcpOutOfOrderDrops => CounterRole.Drop("tcp_out_of_order_full"),
        StatCounter.TcpBytesReceived => CounterRole.Event(TcpBytes, "received"),
        StatCounter.TcpBytesSent => CounterRole.Event(TcpBytes, "sent"),
        StatCounter.TcpTimeWaits => CounterRole.Event(Tcp, "time_wait"),
        StatCounter.TcpTimeWaitOverflow => CounterRole.Event(Tcp, "time_wait_overflow"),
        StatCounter.TcpTimeWaitResetsIgnored => CounterRole.Event(Tcp, "time_wait_rst_ignored"),
        StatCounter.TcpAbortOnTimeout => CounterRole.Event(Tcp, "abort_on_timeout"),
        StatCounter.TcpAbortOnClose => CounterRole.Event(Tcp, "abort_on_close"),
        StatCounter.TcpAbortOnData => CounterRole.Event(Tcp, "abort_on_data"),
        StatCounter.TcpSendErrors => CounterRole.Event(Tcp, "send_failed"),
        StatCounter.TcpIcmpErrors => CounterRole.Event(Tcp, "icmp_error"),
        StatCounter.TcpOutOfWindowIcmps => CounterRole.Event(Tcp, "icmp_out_of_window"),
        StatCounter.TcpDsacksSent => CounterRole.Event(Tcp, "dsack_sent"),
        StatCounter.TcpEcnCongestionExperienced => CounterRole.Event(Tcp, "ecn_ce_received"),
        StatCounter.TcpEcnWindowReductions => CounterRole.Event(Tcp, "ecn_window_reduced"),
        StatCounter.HttpRequests => CounterRole.Event(Http, "answered"),
        StatCounter.HttpBadRequests => CounterRole.Event(Http, "bad_request"),
        StatCounter.HttpTimeouts => CounterRole.Event(Http, "timed_out"),

        StatCounter.Ipv6ForwardingExhaustedHopLimit => CounterRole.Drop("ttl_exceeded"),
        StatCounter.Ipv6ForwardingLinkLocalSource => CounterRole.Drop("link_local_source"),
        StatCounter.Ipv6ForwardingScopedDestination => CounterRole.Drop("scoped_destination"),
        StatCounter.Ipv6ForwardingNoRoute => CounterRole.Drop("no_route"),
        StatCounter.Ipv6ForwardingPacketTooBig => CounterRole.Drop("packet_too_big"),
        StatCounter.Ipv6ForwardingHostUnreachable => CounterRole.Drop("neighbor_unreachable"),
        StatCounter.Ipv4ForwardNoRoute => CounterRole.Drop("no_route"),
        StatCounter.Ipv4DirectedBroadcastsNotForwarded => CounterRole.Drop("directed_broadcast"),
        StatCounter.Ipv4ForwardTtlExceeded => CounterRole.Drop("ttl_exceeded"),
        StatCounter.Ipv4ForwardPacketTooBig => CounterRole.Drop("packet_too_big"),
        StatCounter.Ipv4ForwardOptionErrors => CounterRole.Drop("ip_option_error"),
        StatCounter.Ipv4OptionErrorsReceived => CounterRole.Drop("ip_option_error"),
        StatCounter.Ipv4SourceRouteDrops => CounterRole.Drop("source_route"),
        StatCounter.Ipv4SourceRouteFailed => CounterRole.Drop("source_route_failed"),

        _ => throw new ArgumentOutOfRangeException(nameof(counter), counter, "a StatCounter with no role in the metrics (DropReasons.Role)"),
    };

    private static string[] BuildAll()
    {
        var reasons = new List<string>();
        foreach (StatCounter counter in Enum.GetValues<StatCounter>())
        {
            if (Role(counter).DropReason is string reason && !reasons.Contains(reason))
                reasons.Add(reason);
        }
        foreach (WorkerDrop drop in Enum.GetValues<WorkerDrop>())
        {
            string reason = Of(drop);
            if (!reasons.Contains(reason))
                reasons.Add(reason);
        }
        if (!reasons.Contains(TxRingFull))
            reasons.Add(TxRingFull);
        return [.. reasons];
    }
}
