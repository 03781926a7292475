using XdpStack.Stack.Tests.Wire.Capture;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>Every header field of the committed captures, checked against how they were made (Data/README.md).</summary>
public sealed class CapturedFieldTests
{
    private static CapturedPackets Packets => CapturedPackets.Committed;

    [Fact]
    public void ArpAndIcmpv4Echo_Fields_MatchCapture() => CaptureChecks.ArpAndEcho(Packets.ArpIcmp4);

    [Fact]
    public void NeighborDiscoveryAndIcmpv6Echo_Fields_MatchCapture() => CaptureChecks.NeighborDiscoveryAndEcho6(Packets.Icmp6NdEcho);

    [Fact]
    public void Udp4AndPortUnreachable_Fields_MatchCapture() => CaptureChecks.UdpAndPortUnreachable(Packets.Udp4);

    [Fact]
    public void TcpHandshake_FieldsAndOptions_MatchCapture() => CaptureChecks.TcpHandshake(Packets.Tcp4Handshake);

    [Fact]
    public void Ipv6Fragments_FragmentFields_MatchCaptureAndReassemble() => CaptureChecks.Ipv6Fragments(Packets.Ipv6Fragments);

    [Fact]
    public void Ipv6ExtensionHeaders_Chain_MatchesCapture() => CaptureChecks.Ipv6ExtensionHeaders(Packets.Ipv6ExtensionHeaders);

    [Fact]
    public void MldReport_HopByHopRouterAlert_MatchesCapture() => CaptureChecks.MldReport(Packets.MldReport);

    [Fact]
    public void VlanFrame_Tag_MatchesCapture() => CaptureChecks.Vlan(Packets.Vlan);
}
