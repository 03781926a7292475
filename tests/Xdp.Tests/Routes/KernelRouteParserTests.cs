using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using XdpStack.Xdp.Routes;

namespace XdpStack.Xdp.Tests.Routes;

/// <summary>KernelRouteParser and KernelRouteMonitor.Read on messages captured from Linux 6.18 and built by hand, good and malformed.</summary>
public sealed class KernelRouteParserTests
{
    // Captured from a namespace (RTNLGRP_IPV4_ROUTE / RTNLGRP_IPV6_ROUTE notifications) after:
    //   ip route add 198.19.6.0/24 proto bird metric 20 nexthop via 198.18.1.2 dev fa nexthop via 198.18.2.2 dev fb
    //   ip -6 route add 2001:2:0:9::/64 via 2001:2:0:1::2 dev fa proto zebra metric 1024
    //   ip route del 198.19.6.0/24
    // (fa is ifindex 3, fb ifindex 2), and the local-table route of a link-local address that came with them.
    private const string NewMultipath4 = "580000001800000659e3156b1a49000002180000fe0c00010000000008000f00fe00000008000100c6130600080006001400000024000900100000000300000008000500c6120102100000000200000008000500c6120202";
    private const string NewRoute6 = "880000001800000659e3156b1c4900000a400000fe0b00010000000008000f00fe000000140001002001000200000009000000000000000008000600000400001400050020010002000000010000000000000002080004000300000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000";
    private const string DelMultipath4 = "580000001900000059e3156b1e49000002180000fe0c00010000000008000f00fe00000008000100c6130600080006001400000024000900100000000300000008000500c6120102100000000200000008000500c6120202";
    private const string LocalRoute6 = "740000001800000600000000000000000a800000ff0200020000000008000f00ff00000014000100fe800000000000006445e9fffe3380570800060000000000080004000300000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000";

    [Fact]
    public void TryParse_CapturedIpv4Multipath_EveryNextHopWithTheSamePrefixAndMetric()
    {
        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(Convert.FromHexString(NewMultipath4), out KernelRouteChange change));

        KernelRoute r = change.Route;
        Assert.Equal(KernelRouteChangeKind.Add, change.Kind);
        Assert.Equal((AddressFamily.InterNetwork, IPAddress.Parse("198.19.6.0"), 24, 254u, (byte)12, (byte)1, 20u),
            (r.Family, r.Destination, r.PrefixLength, r.Table, r.Protocol, r.Type, r.Metric));
        Assert.Equal([new KernelNextHop(3, IPAddress.Parse("198.18.1.2")), new KernelNextHop(2, IPAddress.Parse("198.18.2.2"))], r.NextHops);
        Assert.True(r.IsUnicast);
        Assert.False(r.IsCloned);
    }

    // Captured from a namespace (Linux 6.18) after
    //   ip route add 198.19.6.0/24 proto bird metric 20 nexthop via 198.18.1.2 dev fa weight 1 nexthop via 198.18.2.2 dev fb weight 3
    //   ip -6 route add 2001:2:0:9::/64 proto bird metric 20 nexthop via 2001:2:0:1::2 dev fa weight 2 nexthop via 2001:2:0:2::2 dev fb weight 256
    // (fa is ifindex 3, fb ifindex 5): rtnh_hops is 0 and 2, then 1 and 255.
    private const string WeightedMultipath4 = "5800000018000006a907166b9b3f000002180000fe0c00010000000008000f00fe00000008000100c6130600080006001400000024000900100000000300000008000500c6120102100000020500000008000500c6120202";
    private const string WeightedMultipath6 = "a800000018000004a907166b9e3f00000a400000fe0c00010000000008000f00fe000000140001002001000200000009000000000000000008000600140000003c0009001c0000010300000014000500200100020000000100000000000000021c0000ff05000000140005002001000200000002000000000000000224000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000";

    [Fact]
    public void TryParse_CapturedWeightedMultipath_WeightIsRtnhHopsPlusOne_AsIpRouteShowsIt()
    {
        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(Convert.FromHexString(WeightedMultipath4), out KernelRouteChange v4));
        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(Convert.FromHexString(WeightedMultipath6), out KernelRouteChange v6));

        Assert.Equal([new KernelNextHop(3, IPAddress.Parse("198.18.1.2"), 1), new KernelNextHop(5, IPAddress.Parse("198.18.2.2"), 3)], v4.Route.NextHops);
        Assert.Equal([new KernelNextHop(3, IPAddress.Parse("2001:2:0:1::2"), 2), new KernelNextHop(5, IPAddress.Parse("2001:2:0:2::2"), 256)], v6.Route.NextHops);
        Assert.Equal((AddressFamily.InterNetworkV6, 64, 20u), (v6.Route.Family, v6.Route.PrefixLength, v6.Route.Metric));
    }

    [Fact]
    public void TryParse_PlainRoute_WeightOne()
    {
        byte[] message = Route(24, family: 2, prefixLength: 24, flags: 0, [.. Attr(1, [198, 19, 0, 0]), .. Attr(5, [198, 18, 1, 2]), .. Attr(4, U32(3))]);

        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(message, out KernelRouteChange change));
        Assert.Equal(1, Assert.Single(change.Route.NextHops).Weight);
    }

    [Fact]
    public void IsSamePath_InterfaceAndGatewayMatter_WeightDoesNot()
    {
        var hop = new KernelNextHop(3, IPAddress.Parse("198.18.1.2"), 1);

        Assert.True(hop.IsSamePath(hop with { Weight = 7 }));
        Assert.False(hop.IsSamePath(hop with { IfIndex = 4 }));
        Assert.False(hop.IsSamePath(hop with { Gateway = IPAddress.Parse("198.18.1.3") }));
        Assert.False(hop.IsSamePath(hop with { Gateway = null }));
    }

    [Fact]
    public void TryParse_CapturedIpv6Route_GatewayInterfaceMetricAndProtocol()
    {
        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(Convert.FromHexString(NewRoute6), out KernelRouteChange change));

        KernelRoute r = change.Route;
        Assert.Equal((AddressFamily.InterNetworkV6, IPAddress.Parse("2001:2:0:9::"), 64, 254u, (byte)11, 1024u),
            (r.Family, r.Destination, r.PrefixLength, r.Table, r.Protocol, r.Metric));
        Assert.Equal([new KernelNextHop(3, IPAddress.Parse("2001:2:0:1::2"))], r.NextHops);
    }

    [Fact]
    public void TryParse_CapturedDelete_RemoveWithTheNextHopsItHad()
    {
        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(Convert.FromHexString(DelMultipath4), out KernelRouteChange change));

        Assert.Equal(KernelRouteChangeKind.Remove, change.Kind);
        Assert.Equal(2, change.Route.NextHops.Count);
    }

    [Fact]
    public void TryParse_CapturedLocalTableRoute_TypeLocalInTable255()
    {
        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(Convert.FromHexString(LocalRoute6), out KernelRouteChange change));

        Assert.Equal((255u, (byte)2, false), (change.Route.Table, change.Route.Type, change.Route.IsUnicast));
    }

    [Fact]
    public void TryParse_ReplaceFlag_Replace()
    {
        byte[] message = Route(24, family: 2, prefixLength: 24, flags: 0x100, [.. Attr(1, [198, 19, 0, 0]), .. Attr(4, U32(7))]);

        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(message, out KernelRouteChange change));
        Assert.Equal(KernelRouteChangeKind.Replace, change.Kind);
        Assert.Equal([new KernelNextHop(7, null)], change.Route.NextHops);
    }

    [Fact]
    public void TryParse_NoDestinationAndLargeTable_DefaultRouteInRtaTable()
    {
        // rtm_table says RT_TABLE_COMPAT (252) when the id does not fit in a byte; RTA_TABLE has the real one.
        byte[] message = Route(24, family: 2, prefixLength: 0, flags: 0, [.. Attr(15, U32(1000)), .. Attr(5, [198, 18, 1, 2]), .. Attr(4, U32(3))], table: 252);

        Assert.Equal(KernelRouteParser.Result.Route, KernelRouteParser.TryParse(message, out KernelRouteChange change));
        Assert.Equal((IPAddress.Any, 0, 1000u), (change.Route.Destination, change.Route.PrefixLength, change.Route.Table));
    }

    [Fact]
    public void TryParse_ViaOfOwnFamily_Gateway_ViaOfOtherFamily_CountedNotListed()
    {
        byte[] via4 = [2, 0, 198, 18, 1, 2];
        byte[] via6 = [10, 0, .. IPAddress.Parse("fe80::1").GetAddressBytes()];
        byte[] own = Route(24, 2, 24, 0, [.. Attr(1, [198, 19, 0, 0]), .. Attr(18, via4), .. Attr(4, U32(3))]);
        byte[] other = Route(24, 2, 24, 0, [.. Attr(1, [198, 19, 0, 0]), .. Attr(18, via6), .. Attr(4, U32(3))]);
        byte[] mixed = Route(24, 2, 24, 0, [.. Attr(1, [198, 19, 0, 0]), .. Attr(9, [.. NextHop(3, Attr(18, via6)), .. NextHop(2, Attr(5, [198, 18, 2, 2]))])]);

        KernelRouteParser.TryParse(own, out KernelRouteChange a);
        KernelRouteParser.TryParse(other, out KernelRouteChange b);
        KernelRouteParser.TryParse(mixed, out KernelRouteChange c);

        Assert.Equal([new KernelNextHop(3, IPAddress.Parse("198.18.1.2"))], a.Route.NextHops);
        Assert.Equal((0, 1), (b.Route.NextHops.Count, b.Route.OtherFamilyGateways));
        Assert.Equal([new KernelNextHop(2, IPAddress.Parse("198.18.2.2"))], c.Route.NextHops);
        Assert.Equal(1, c.Route.OtherFamilyGateways);
    }

    [Fact]
    public void TryParse_OtherFamilyOrType_Other()
    {
        Assert.Equal(KernelRouteParser.Result.Other, KernelRouteParser.TryParse(Route(24, family: 128, 0, 0, []), out _));   // RTNL_FAMILY_IPMR
        Assert.Equal(KernelRouteParser.Result.Other, KernelRouteParser.TryParse(Route(16, family: 2, 0, 0, []), out _));     // RTM_NEWLINK
    }

    public static TheoryData<string, string> MalformedMessages => new()
    {
        { "prefix length 33", Convert.ToHexString(Route(24, 2, 33, 0, [])) },
        { "RTA_DST of 3 octets", Convert.ToHexString(Route(24, 2, 24, 0, Attr(1, [198, 19, 0]))) },
        { "IPv4 RTA_GATEWAY in an IPv6 route", Convert.ToHexString(Route(24, 10, 64, 0, Attr(5, [198, 18, 1, 2]))) },
        { "RTA_OIF of 2 octets", Convert.ToHexString(Route(24, 2, 24, 0, Attr(4, [1, 0]))) },
        { "RTA_PRIORITY of 8 octets", Convert.ToHexString(Route(24, 2, 24, 0, Attr(6, new byte[8]))) },
        { "attribute longer than the message", Convert.ToHexString(Route(24, 2, 24, 0, [8, 0, 1, 0, 198, 19])) },
        { "attribute length 2", Convert.ToHexString(Route(24, 2, 24, 0, [2, 0, 1, 0])) },
        { "rtnexthop longer than RTA_MULTIPATH", Convert.ToHexString(Route(24, 2, 24, 0, Attr(9, [32, 0, 0, 0, 3, 0, 0, 0]))) },
        { "rtnexthop length 4", Convert.ToHexString(Route(24, 2, 24, 0, Attr(9, [4, 0, 0, 0, 3, 0, 0, 0]))) },
        { "RTA_VIA of 1 octet", Convert.ToHexString(Route(24, 2, 24, 0, Attr(18, [2]))) },
        { "RTA_VIA family 2 with 16 octets", Convert.ToHexString(Route(24, 2, 24, 0, Attr(18, [2, 0, .. new byte[16]]))) },
        { "nlmsg_len past the buffer", "FF000000180000000000000000000000" },
        { "header only", "10000000180000000000000000000000" },
    };

    [Theory]
    [MemberData(nameof(MalformedMessages))]
    public void TryParse_Malformed_MalformedWithoutThrowing(string what, string hex)
    {
        Assert.True(KernelRouteParser.Result.Malformed == KernelRouteParser.TryParse(Convert.FromHexString(hex), out _), what);
    }

    [Fact]
    public void TryParse_EveryTruncationOfTheCapturedMessages_NeverThrows()
    {
        foreach (string hex in new[] { NewMultipath4, NewRoute6, DelMultipath4, LocalRoute6, WeightedMultipath4, WeightedMultipath6 })
        {
            byte[] full = Convert.FromHexString(hex);
            for (int length = 0; length < full.Length; length++)
            {
                // Both forms: the header's length kept (longer than the span), and corrected to the cut.
                byte[] cut = full[..length];
                KernelRouteParser.Result kept = KernelRouteParser.TryParse(cut, out _);
                Assert.Equal(KernelRouteParser.Result.Malformed, kept);
                if (length >= 4)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(cut, (uint)length);
                    _ = KernelRouteParser.TryParse(cut, out _);
                }
            }
        }
    }

    [Fact]
    public void Read_DatagramOfTwoRoutesAndDone_BothRoutesAndDone()
    {
        byte[] datagram = [.. Convert.FromHexString(NewMultipath4), .. Convert.FromHexString(NewRoute6), .. Done()];
        var changes = new List<KernelRouteChange>();
        var counters = new KernelRouteCounters();

        (bool done, bool interrupted, int error) = KernelRouteMonitor.Read(datagram, changes, counters);

        Assert.Equal((true, false, 0), (done, interrupted, error));
        Assert.Equal(2, changes.Count);
        Assert.Equal((2L, 0L), (counters.Messages, counters.Malformed));
    }

    [Fact]
    public void Read_MalformedMessageBetweenGoodOnes_SkippedAndCounted_TrailingGarbageCounted()
    {
        byte[] bad = Route(24, 2, 24, 0, Attr(1, [198, 19, 0]));
        byte[] datagram = [.. Convert.FromHexString(NewMultipath4), .. bad, .. Convert.FromHexString(NewRoute6), 0xFF, 0xFF];
        var changes = new List<KernelRouteChange>();
        var counters = new KernelRouteCounters();

        KernelRouteMonitor.Read(datagram, changes, counters);

        Assert.Equal(2, changes.Count);
        Assert.Equal((2L, 2L), (counters.Messages, counters.Malformed));
    }

    [Fact]
    public void Read_DumpInterruptedFlag_Reported()
    {
        byte[] message = Convert.FromHexString(NewMultipath4);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), 0x12);   // NLM_F_MULTI | NLM_F_DUMP_INTR

        (_, bool interrupted, _) = KernelRouteMonitor.Read(message, [], new KernelRouteCounters());

        Assert.True(interrupted);
    }

    internal static byte[] Route(ushort type, byte family, byte prefixLength, ushort flags, byte[] attributes, byte table = 254, byte protocol = 3, byte routeType = 1)
    {
        byte[] rtmsg = [family, prefixLength, 0, 0, table, protocol, 0, routeType, 0, 0, 0, 0];
        byte[] message = new byte[16 + rtmsg.Length + attributes.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), flags);
        rtmsg.CopyTo(message, 16);
        attributes.CopyTo(message, 28);
        return message;
    }

    internal static byte[] Attr(int type, byte[] value)
    {
        byte[] attribute = new byte[(4 + value.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute.AsSpan(2), (ushort)type);
        value.CopyTo(attribute, 4);
        return attribute;
    }

    internal static byte[] NextHop(int ifIndex, byte[] attributes)
    {
        byte[] hop = new byte[8 + attributes.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(hop, (ushort)hop.Length);
        BinaryPrimitives.WriteInt32LittleEndian(hop.AsSpan(4), ifIndex);
        attributes.CopyTo(hop, 8);
        return hop;
    }

    internal static byte[] U32(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Done()
    {
        byte[] done = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(done, 20);
        BinaryPrimitives.WriteUInt16LittleEndian(done.AsSpan(4), 3);
        return done;
    }
}
