namespace XdpStack.Stack;

/// <summary>Everything a NIC counts, with gVisor's counter meanings; metrics use these names as labels.</summary>
public enum StatCounter
{
    /// <summary>Frames handed to the NIC by its link endpoint while enabled (gVisor <c>nic.Rx.Packets</c>).</summary>
    RxPackets,

    /// <summary>Bytes of the frames counted in <see cref="RxPackets"/>.</summary>
    RxBytes,

    /// <summary>Frames that left through the link endpoint, in-place replies included.</summary>
    TxPackets,

    /// <summary>Bytes of the frames counted in <see cref="TxPackets"/>.</summary>
    TxBytes,

    /// <summary>Frames the link refused (no room); gVisor <c>OutgoingPacketErrors</c>.</summary>
    TxErrors,

    /// <summary>Frames received while the NIC was disabled (gVisor <c>DisabledRx.Packets</c>); they are dropped.</summary>
    DisabledRxPackets,

    /// <summary>Bytes of the frames counted in <see cref="DisabledRxPackets"/>.</summary>
    DisabledRxBytes,

    /// <summary>Frames addressed to another host's unicast MAC while the NIC is not promiscuous; dropped.</summary>
    OtherHostFrames,

    /// <summary>Frames shorter than an Ethernet header, or with an 802.3 length instead of an EtherType.</summary>
    MalformedLinkFrames,

    /// <summary>Frames whose EtherType has no network protocol (gVisor <c>UnknownL3ProtocolRcvdPackets</c>); also kept per EtherType.</summary>
    UnknownNetworkProtocolPackets,

    /// <summary>Packets for us whose IP protocol has no transport (gVisor <c>UnknownL4ProtocolRcvdPackets</c>); also kept per protocol number.</summary>
    UnknownTransportProtocolPackets,

    /// <summary>Packets for us that their transport found too short or with a bad checksum (gVisor <c>MalformedL4RcvdPackets</c>).</summary>
    MalformedTransportPackets,

    /// <summary>IPv4 packets that reached the IPv4 endpoint (gVisor <c>IP.PacketsReceived</c>).</summary>
    Ipv4PacketsReceived,

    /// <summary>IPv4 packets that passed header validation (gVisor <c>IP.ValidPacketsReceived</c>).</summary>
    Ipv4ValidPacketsReceived,

    /// <summary>IPv4 packets dropped for a bad version, IHL, length or header checksum (gVisor <c>IP.MalformedPacketsReceived</c>).</summary>
    Ipv4MalformedPacketsReceived,

    /// <summary>IPv4 packets with a source no host may have: broadcast, multicast, our subnet broadcast, or loopback on a non-loopback NIC.</summary>
    Ipv4InvalidSourceAddressesReceived,

    /// <summary>IPv4 packets not addressed to us while forwarding is off, or to a loopback address on a non-loopback NIC.</summary>
    Ipv4InvalidDestinationAddressesReceived,

    /// <summary>IPv4 packets handed to a transport protocol or ICMP (gVisor <c>IP.PacketsDelivered</c>).</summary>
    Ipv4PacketsDelivered,

    /// <summary>IPv4 packets the stack originated or answered with (gVisor <c>IP.PacketsSent</c>).</summary>
    Ipv4PacketsSent,

    /// <summary>IPv4 packets the stack could not send: no route, no room on the link, link resolution failed.</summary>
    Ipv4OutgoingPacketErrors,

    /// <summary>IPv4 packets the router sent on (or queued for link resolution on) their egress NIC, counted on the ingress NIC; every packet it did not send has its own drop counter.</summary>
    Ipv4PacketsForwarded,

    /// <summary>IPv4 fragments addressed to us.</summary>
    Ipv4FragmentsReceived,

    /// <summary>Fragments dropped as malformed: overlaps, bad offsets, or lengths past 65535 (gVisor <c>IP.MalformedFragmentsReceived</c>).</summary>
    Ipv4MalformedFragmentsReceived,

    /// <summary>Datagrams completed from fragments.</summary>
    Ipv4PacketsReassembled,

    /// <summary>Datagrams given up because their fragments did not all arrive in time (gVisor <c>ReassemblyTimeouts</c>).</summary>
    Ipv4ReassemblyTimeouts,

    /// <summary>Fragments dropped because the reassembly memory limit was reached.</summary>
    Ipv4ReassemblyMemoryDrops,

    /// <summary>ICMPv4 messages received.</summary>
    IcmpPacketsReceived,

    /// <summary>ICMPv4 messages too short or with a bad checksum (gVisor <c>ICMP.V4.PacketsReceived.Invalid</c>).</summary>
    IcmpInvalidReceived,

    /// <summary>Echo requests received.</summary>
    IcmpEchoRequestsReceived,

    /// <summary>Echo replies sent.</summary>
    IcmpEchoRepliesSent,

    /// <summary>Timestamp requests received (RFC 792; Linux <c>Icmp.InTimestamps</c>).</summary>
    IcmpTimestampRequestsReceived,

    /// <summary>Timestamp replies sent (Linux <c>Icmp.OutTimestampReps</c>).</summary>
    IcmpTimestampRepliesSent,

    /// <summary>Destination Unreachable messages sent.</summary>
    IcmpDestinationUnreachableSent,

    /// <summary>Time Exceeded messages sent.</summary>
    IcmpTimeExceededSent,

    /// <summary>Parameter Problem messages sent.</summary>
    IcmpParameterProblemSent,

    /// <summary>ICMP errors not sent because the token bucket was empty (gVisor <c>ICMP.V4.PacketsSent.RateLimited</c>).</summary>
    IcmpRateLimited,

    /// <summary>ICMP errors not sent because RFC 1122 §3.2.2 forbids them (errors about errors, broadcast, multicast, 0.0.0.0 source).</summary>
    IcmpErrorsSuppressed,

    /// <summary>ARP packets received (gVisor <c>ARP.PacketsReceived</c>).</summary>
    ArpPacketsReceived,

    /// <summary>ARP packets that were not Ethernet/IPv4 ARP or were truncated (gVisor <c>ARP.MalformedPacketsReceived</c>).</summary>
    ArpMalformedPacketsReceived,

    /// <summary>ARP requests received.</summary>
    ArpRequestsReceived,

    /// <summary>ARP requests for an address this NIC does not own (gVisor <c>ARP.RequestsReceivedUnknownTargetAddress</c>); ignored.</summary>
    ArpRequestsReceivedUnknownTargetAddress,

    /// <summary>ARP replies received.</summary>
    ArpRepliesReceived,

    /// <summary>ARP replies sent (gVisor <c>ARP.OutgoingRepliesSent</c>).</summary>
    ArpOutgoingRepliesSent,

    /// <summary>ARP requests sent, gratuitous ones included (gVisor <c>ARP.OutgoingRequestsSent</c>).</summary>
    ArpOutgoingRequestsSent,

    /// <summary>ARP requests the link refused to send (no room).</summary>
    ArpOutgoingErrors,

    /// <summary>IPv6 packets that reached the IPv6 endpoint.</summary>
    Ipv6PacketsReceived,

    /// <summary>IPv6 packets dropped for a bad version, a payload length past the frame, or a malformed extension header chain.</summary>
    Ipv6MalformedPacketsReceived,

    /// <summary>IPv6 packets with a multicast source, or a loopback source or destination on a non-loopback NIC.</summary>
    Ipv6InvalidSourceAddressesReceived,

    /// <summary>IPv6 packets not addressed to one of our addresses or joined groups.</summary>
    Ipv6InvalidDestinationAddressesReceived,

    /// <summary>IPv6 packets handed to ICMPv6 or a transport protocol.</summary>
    Ipv6PacketsDelivered,

    /// <summary>IPv6 packets the stack originated or answered with.</summary>
    Ipv6PacketsSent,

    /// <summary>IPv6 packets the stack could not send: no room on the link, link resolution failed.</summary>
    Ipv6OutgoingPacketErrors,

    /// <summary>IPv6 fragments addressed to us.</summary>
    Ipv6FragmentsReceived,

    /// <summary>IPv6 fragments dropped as malformed: overlaps, bad offsets or lengths.</summary>
    Ipv6MalformedFragmentsReceived,

    /// <summary>IPv6 datagrams completed from fragments.</summary>
    Ipv6PacketsReassembled,

    /// <summary>IPv6 datagrams given up because their fragments did not all arrive in time.</summary>
    Ipv6ReassemblyTimeouts,

    /// <summary>IPv6 fragments dropped because the reassembly memory limit was reached.</summary>
    Ipv6ReassemblyMemoryDrops,

    /// <summary>IPv6 packets the stack originated larger than the path MTU and sent in fragments (Linux <c>Ip6FragOKs</c>).</summary>
    Ipv6PacketsFragmented,

    /// <summary>Fragments built for the packets counted in <see cref="Ipv6PacketsFragmented"/> and accepted by the link (Linux <c>Ip6FragCreates</c>).</summary>
    Ipv6FragmentsCreated,

    /// <summary>IPv6 packets larger than the path MTU that were not sent whole: their headers could not be split, the MTU left no room for data, or the link refused a fragment (Linux <c>Ip6FragFails</c>).</summary>
    Ipv6FragmentationFailures,

    /// <summary>ICMPv6 messages received.</summary>
    Icmpv6PacketsReceived,

    /// <summary>ICMPv6 messages too short or with a bad checksum.</summary>
    Icmpv6InvalidReceived,

    /// <summary>ICMPv6 echo requests received.</summary>
    Icmpv6EchoRequestsReceived,

    /// <summary>ICMPv6 echo replies sent.</summary>
    Icmpv6EchoRepliesSent,

    /// <summary>ICMPv6 errors sent (Destination Unreachable, Time Exceeded, Parameter Problem).</summary>
    Icmpv6ErrorsSent,

    /// <summary>NDP Redirect messages sent (RFC 4861 §8.2) for packets forwarded back out of the link they came in on.</summary>
    Icmpv6RedirectsSent,

    /// <summary>ICMPv6 errors not sent because the token bucket was empty.</summary>
    Icmpv6RateLimited,

    /// <summary>ICMPv6 errors not sent because RFC 4443 §2.4(e) forbids them.</summary>
    Icmpv6ErrorsSuppressed,

    /// <summary>Neighbor Solicitations received.</summary>
    NdpSolicitationsReceived,

    /// <summary>Neighbor Advertisements received.</summary>
    NdpAdvertisementsReceived,

    /// <summary>Neighbor Solicitations sent (address resolution and unreachability probes).</summary>
    NdpSolicitationsSent,

    /// <summary>Neighbor Advertisements sent.</summary>
    NdpAdvertisementsSent,

    /// <summary>NDP messages dropped by RFC 4861 validation: hop limit not 255, code not 0, a fragment header, a bad length or option.</summary>
    NdpInvalidReceived,

    /// <summary>Neighbor Solicitations for an address this NIC does not own; ignored.</summary>
    NdpSolicitationsUnknownTarget,

    /// <summary>UDP datagrams queued to an endpoint, consumed by an echo or discard service, or taken by the default handler.</summary>
    UdpDatagramsReceived,

    /// <summary>UDP datagrams for a port with no endpoint (answered with Port Unreachable where allowed).</summary>
    UdpUnknownPortErrors,

    /// <summary>UDP datagrams dropped because the endpoint's receive ring for the worker was full or the datagram exceeded its slot.</summary>
    UdpReceiveBufferErrors,

    /// <summary>UDP datagrams with a bad checksum, or a zero checksum over IPv6.</summary>
    UdpChecksumErrors,

    /// <summary>UDP datagrams sent by endpoints and echo replies sent by an echo service.</summary>
    UdpDatagramsSent,

    /// <summary>ICMP errors handed to the endpoint that sent the offending datagram.</summary>
    UdpIcmpErrorsDelivered,

    /// <summary>IPv6 packets dropped for an unrecognised Hop-by-Hop or Destination option whose action bits say discard.</summary>
    Ipv6UnknownOptionDrops,

    /// <summary>IPv6 packets the forwarder sent out of this NIC, counted on the egress NIC as the frame leaves (a packet that waited for NDP, when it is sent).</summary>
    Ipv6PacketsForwarded,

    /// <summary>IPv6 packets not forwarded because their hop limit was 0 or 1 (gVisor <c>Forwarding.ExhaustedTTL</c>); answered with Time Exceeded.</summary>
    Ipv6ForwardingExhaustedHopLimit,

    /// <summary>IPv6 packets with a link-local source not forwarded to another link (gVisor <c>Forwarding.LinkLocalSource</c>); answered with Destination Unreachable, beyond scope.</summary>
    Ipv6ForwardingLinkLocalSource,

    /// <summary>IPv6 packets not forwarded because their destination is link-local, multicast, loopback or unspecified (gVisor <c>Forwarding.LinkLocalDestination</c>); no error is sent.</summary>
    Ipv6ForwardingScopedDestination,

    /// <summary>IPv6 packets not forwarded because no route leads to their destination (gVisor <c>Forwarding.Unrouteable</c>); answered with Destination Unreachable, no route.</summary>
    Ipv6ForwardingNoRoute,

    /// <summary>IPv6 packets not forwarded because they exceed the egress MTU (gVisor <c>Forwarding.PacketTooBig</c>); answered with Packet Too Big.</summary>
    Ipv6ForwardingPacketTooBig,

    /// <summary>Forwarded IPv6 packets dropped because NDP could not resolve the next hop (gVisor <c>Forwarding.HostUnreachable</c>), counted on the ingress NIC; answered with Destination Unreachable, address unreachable.</summary>
    Ipv6ForwardingHostUnreachable,

    /// <summary>IPv4 packets to forward with no usable route, answered with Net Unreachable where allowed (gVisor <c>Forwarding.Unrouteable</c>); counted on the ingress NIC.</summary>
    Ipv4ForwardNoRoute,

    /// <summary>Packets to the broadcast address of another NIC's subnet (directed broadcasts): taken in as broadcasts and not forwarded, as Linux does by default (bc_forwarding 0); counted on the ingress NIC.</summary>
    Ipv4DirectedBroadcastsNotForwarded,

    /// <summary>IPv4 packets to forward with TTL 0 or 1, answered with Time Exceeded where allowed (gVisor <c>Forwarding.ExhaustedTTL</c>); counted on the ingress NIC.</summary>
    Ipv4ForwardTtlExceeded,

    /// <summary>IPv4 packets to forward with DF set and larger than the egress MTU, answered with Fragmentation Needed (gVisor <c>Forwarding.PacketTooBig</c>); counted on the ingress NIC.</summary>
    Ipv4ForwardPacketTooBig,

    /// <summary>IPv4 packets to forward with malformed options, answered with Parameter Problem where allowed; counted on the ingress NIC.</summary>
    Ipv4ForwardOptionErrors,

    /// <summary>Packets to us whose options are malformed: answered with Parameter Problem and dropped (Linux counts them in <c>Ip.InHdrErrors</c>).</summary>
    Ipv4OptionErrorsReceived,

    /// <summary>IPv4 packets carrying a source-route option dropped without ICMP: source routing is off (<see cref="StackOptions.AcceptSourceRoute"/>), or the route goes on from a NIC that does not forward.</summary>
    Ipv4SourceRouteDrops,

    /// <summary>Strict source-routed IPv4 packets that could not follow their route: the next address is not on a connected network (Source Route Failed), or the packet reached a router it did not name (Parameter Problem).</summary>
    Ipv4SourceRouteFailed,

    /// <summary>ICMP Redirects sent (RFC 1812 §5.2.7.2).</summary>
    IcmpRedirectsSent,

    /// <summary>UDP echo (RFC 862) replies sent by an echo service.</summary>
    UdpEchoReplies,

    /// <summary>Payload octets of the replies counted in <see cref="UdpEchoReplies"/>.</summary>
    UdpEchoBytes,

    /// <summary>Datagrams an echo service consumed without answering: to a broadcast or multicast address or one not ours, from a source that names no single host, or from a port below 1024.</summary>
    UdpEchoRefused,

    /// <summary>Echo replies that could not leave: the link had no room for a copied reply, or a reassembled IPv6 datagram's reply exceeds the MTU.</summary>
    UdpEchoReplyErrors,

    /// <summary>Datagrams consumed by a discard service (RFC 863).</summary>
    UdpDiscarded,

    /// <summary>Payload octets of the datagrams counted in <see cref="UdpDiscarded"/>.</summary>
    UdpDiscardedBytes,

    /// <summary>ICMP errors not sent because their destination had used up its own credit (Linux <c>IcmpOutRateLimitHost</c>), and Redirects held back by their host's backoff; <see cref="IcmpRateLimited"/> counts the host-wide bucket.</summary>
    IcmpRateLimitedHost,

    /// <summary>ICMPv6 errors not sent because their destination had used up its own credit (Linux <c>Icmp6OutRateLimitHost</c>).</summary>
    Icmpv6RateLimitedHost,

    /// <summary>TCP segments received and accepted by the checks of the header (Linux <c>Tcp.InSegs</c>).</summary>
    TcpSegmentsReceived,

    /// <summary>TCP segments sent, retransmissions and resets included (Linux <c>Tcp.OutSegs</c> plus <c>RetransSegs</c>).</summary>
    TcpSegmentsSent,

    /// <summary>TCP segments dropped for a bad checksum (Linux <c>Tcp.InCsumErrors</c>); also counted in <see cref="MalformedTransportPackets"/>.</summary>
    TcpChecksumErrors,

    /// <summary>TCP segments dropped as malformed: too short, a bad data offset, malformed options, a flag combination no TCP sends, or a broadcast or multicast address (RFC 1122 §4.2.3.10); also counted in <see cref="MalformedTransportPackets"/>.</summary>
    TcpMalformedReceived,

    /// <summary>Connections opened by a SYN to a listener, counted when the SYN-ACK is sent (Linux <c>Tcp.PassiveOpens</c>).</summary>
    TcpPassiveOpens,

    /// <summary>Connections that reached ESTABLISHED (or CLOSE_WAIT) from SYN-RECEIVED.</summary>
    TcpEstablished,

    /// <summary>Connections this stack opened (Linux <c>Tcp.ActiveOpens</c>).</summary>
    TcpActiveOpens,

    /// <summary>Connections reset from SYN-RECEIVED or a synchronized state by a received RST, or aborted after too many retransmissions or by the application (Linux <c>Tcp.EstabResets</c> and <c>Tcp.AttemptFails</c>).</summary>
    TcpConnectionsReset,

    /// <summary>RSTs sent: to closed ports, to unacceptable ACKs in SYN-RECEIVED, and aborts (Linux <c>Tcp.OutRsts</c>).</summary>
    TcpResetsSent,

    /// <summary>RSTs received that passed the sequence check, exact or not.</summary>
    TcpResetsReceived,

    /// <summary>Segments to a port no connection or listener has, answered with RST unless they carried one.</summary>
    TcpNoPort,

    /// <summary>SYNs dropped because the listener's backlog of half-open connections was full, or no connection could be made (Linux <c>TcpExt.ListenDrops</c>).</summary>
    TcpListenDrops,

    /// <summary>SYN-ACKs sent with a SYN cookie, no state kept (Linux <c>TcpExt.SyncookiesSent</c>).</summary>
    TcpSynCookiesSent,

    /// <summary>ACKs that carried a valid SYN cookie and opened a connection (Linux <c>TcpExt.SyncookiesRecv</c>).</summary>
    TcpSynCookiesValidated,

    /// <summary>ACKs to a listener that had sent cookies whose cookie was forged or expired; answered with RST (Linux <c>TcpExt.SyncookiesFailed</c>).</summary>
    TcpSynCookiesFailed,

    /// <summary>Loss recoveries run by RFC 6675 from SACK information (Linux <c>TcpExt.TCPSackRecovery</c>); <see cref="TcpFastRetransmits"/> counts them too.</summary>
    TcpSackRecoveries,

    /// <summary>Segments retransmitted by SACK recovery, holes of the scoreboard (also in <see cref="TcpRetransmits"/>).</summary>
    TcpSackRetransmits,

    /// <summary>Keep-alive probes sent (Linux <c>TcpExt.TCPKeepAlive</c>); a connection dropped after its last unanswered one counts in <see cref="TcpAbortOnTimeout"/>.</summary>
    TcpKeepAliveProbes,

    /// <summary>Zero-window probes sent, &lt;SEQ=SND.UNA-1&gt;&lt;ACK&gt; from the probe timer (Linux <c>TcpExt.TCPWinProbe</c>).</summary>
    TcpWindowProbes,

    /// <summary>Segments retransmitted, by timer or fast retransmit (Linux <c>Tcp.RetransSegs</c>).</summary>
    TcpRetransmits,

    /// <summary>Retransmission timer expirations (Linux <c>TcpExt.TCPTimeouts</c>).</summary>
    TcpTimeouts,

    /// <summary>Fast retransmits after three duplicate ACKs (Linux <c>TcpExt.TCPFastRetrans</c>).</summary>
    TcpFastRetransmits,

    /// <summary>Tail loss probes sent, new data or the last segment again after two round trips without an ACK (RFC 8985 §7; Linux <c>TcpExt.TCPLossProbes</c>).</summary>
    TcpLossProbes,

    /// <summary>Tail loss probes that repaired a lost segment, answered by a congestion window cut (Linux <c>TcpExt.TCPLossProbeRecovery</c>).</summary>
    TcpLossProbeRecoveries,

    /// <summary>Holes called lost when RACK's reordering window ran out with fewer than three segments SACKed above them (RFC 8985 §6.2; Linux's <c>tcp_rack_reo_timeout</c>), each starting recovery.</summary>
    TcpRackReorderTimeouts,

    /// <summary>Fast recoveries undone because D-SACKs showed every segment they sent again had arrived before (RFC 2883 §5; Linux <c>TcpExt.TCPDSACKUndo</c>): the congestion window went back.</summary>
    TcpDsackUndos,

    /// <summary>Retransmission timeouts undone because the timestamps the peer echoed showed the originals had arrived (RFC 3522, Linux's <c>tcp_try_undo_loss</c>; <c>TcpExt.TCPLossUndo</c>): the window went back and nothing more was sent again.</summary>
    TcpLossUndos,

    /// <summary>SYN-ACKs sent again because the handshake's ACK did not come, and SYNs of an active open sent again (Linux <c>TcpExt.TCPSynRetrans</c> counts both).</summary>
    TcpSynAckRetransmits,

    /// <summary>Challenge ACKs sent for an in-window RST or a SYN in a synchronized state (RFC 5961; Linux <c>TcpExt.TCPChallengeACK</c>).</summary>
    TcpChallengeAcks,

    /// <summary>Segments dropped by PAWS, their timestamp older than the last one (RFC 7323 §5; Linux <c>TcpExt.PAWSEstab</c>).</summary>
    TcpPawsDrops,

    /// <summary>SYN-ACKs (and RSTs) in SYN-SENT echoing a timestamp none of our SYNs carried: answered with RST, the connect goes on (Linux <c>TcpExt.PAWSActive</c>).</summary>
    TcpPawsActiveRejected,

    /// <summary>Segments whose sequence numbers lie outside the receive window; answered with an ACK (Linux <c>TcpExt.TCPACKSkippedSeq</c> and kin).</summary>
    TcpOutOfWindow,

    /// <summary>Segments received ahead of the next expected sequence number and kept (Linux <c>TcpExt.TCPOFOQueue</c>).</summary>
    TcpOutOfOrderQueued,

    /// <summary>Out-of-order segments dropped because every out-of-order slot was taken (Linux <c>TcpExt.TCPOFODrop</c>).</summary>
    TcpOutOfOrderDrops,

    /// <summary>Payload octets received in order and handed to the application.</summary>
    TcpBytesReceived,

    /// <summary>Payload octets sent for the first time (retransmissions not counted).</summary>
    TcpBytesSent,

    /// <summary>Connections that entered TIME_WAIT.</summary>
    TcpTimeWaits,

    /// <summary>Connections closed without TIME_WAIT because the worker's TIME_WAIT table was full (Linux <c>TcpExt.TCPTimeWaitOverflow</c>).</summary>
    TcpTimeWaitOverflow,

    /// <summary>RSTs received in TIME_WAIT and ignored (RFC 1337).</summary>
    TcpTimeWaitResetsIgnored,

    /// <summary>Connections dropped after the retransmission limit, no RST sent (Linux <c>TcpExt.TCPAbortOnTimeout</c>).</summary>
    TcpAbortOnTimeout,

    /// <summary>Connections the application closed with received data unread, reset rather than closed with a FIN (RFC 2525 §2.17; Linux <c>TcpExt.TCPAbortOnClose</c>).</summary>
    TcpAbortOnClose,

    /// <summary>Connections reset because new data arrived after the application closed them (RFC 1122 §4.2.2.13; Linux <c>TcpExt.TCPAbortOnData</c>).</summary>
    TcpAbortOnData,

    /// <summary>Segments that could not be sent: the link had no room, or no frame buffer was free.</summary>
    TcpSendErrors,

    /// <summary>ICMP errors about a connection's segments that it took: a smaller path MTU, a handshake ended, an error kept for a later timeout (Linux counts them in <c>Icmp.InDestUnreachs</c> and kin).</summary>
    TcpIcmpErrors,

    /// <summary>D-SACK blocks for the peer, counted when noted for the next ACK: a segment, or part of one, that had already arrived (RFC 2883; Linux <c>TcpExt.TCPDSACKOldSent</c> and <c>TCPDSACKOfoSent</c>).</summary>
    TcpDsacksSent,

    /// <summary>CE marks on received data that started an ECN echo (RFC 3168 §6.1.3; Linux counts CE-marked segments in <c>TcpExt.TCPDeliveredCE</c> on the sender).</summary>
    TcpEcnCongestionExperienced,

    /// <summary>Congestion windows cut because the peer echoed a CE mark (RFC 3168 §6.1.2; Linux's CWR state).</summary>
    TcpEcnWindowReductions,

    /// <summary>ICMP errors quoting a sequence number the connection has not sent or has had acknowledged: ignored (RFC 5927 §4.1; Linux <c>TcpExt.OutOfWindowIcmps</c>).</summary>
    TcpOutOfWindowIcmps,

    /// <summary>HTTP/1.1 requests answered by an HTTP responder service.</summary>
    HttpRequests,

    /// <summary>HTTP requests an HTTP responder could not parse; answered with 400 and the connection closed.</summary>
    HttpBadRequests,

    /// <summary>HTTP connections closed because the client was too slow: idle past the keep-alive timeout, or a request head, a body or a response that did not move within its limit (<see cref="Transport.Tcp.Services.HttpTimeouts"/>).</summary>
    HttpTimeouts,
}
