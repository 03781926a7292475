using System.Buffers.Binary;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.RouterFixture;

namespace XdpStack.Stack.Tests.Network.Ipv4;

/// <summary>Record Route and Timestamp filled in by the router (RFC 791 §3.1), and options across fragmentation.</summary>
public class Ipv4ForwarderOptionsTests
{
    // 13:14:15.678 UTC.
    private const uint WallMilliseconds = ((13 * 3600) + (14 * 60) + 15) * 1000 + 678;

    [Fact]
    public void Forward_RecordRouteWithRoom_EgressAddressWrittenPointerAdvanced()
    {
        var f = new RouterFixture();
        byte[] options = [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] sent = FromAWithOptions(HostB, options, ttl: 20);
        f.Link1.InjectInbound(sent);
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        byte[] expected = [7, 11, 8, .. Bytes(Ip2), 0, 0, 0, 0, 0];
        Assert.Equal(expected, forwarded[34..46]);
        AssertOnlyHeaderChanged(sent, forwarded, options.Length);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void Forward_RecordRouteSecondSlot_EarlierEntryKept()
    {
        var f = new RouterFixture();
        byte[] sent = FromAWithOptions(HostB, [7, 11, 8, 198, 18, 50, 1, 0, 0, 0, 0, 0]);
        f.Link1.InjectInbound(sent);
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        byte[] expected = [7, 11, 12, 198, 18, 50, 1, .. Bytes(Ip2), 0];
        Assert.Equal(expected, forwarded[34..46]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 32)));
    }

    [Fact]
    public void Forward_RecordRouteFull_ForwardedWithOnlyTtlChanged()
    {
        var f = new RouterFixture();
        byte[] options = [7, 7, 8, 198, 18, 50, 1, 0];
        byte[] sent = FromAWithOptions(HostB, options);
        f.Link1.InjectInbound(sent);
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(options, forwarded[34..42]);
        Assert.Equal(63, forwarded[22]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 28)));
    }

    [Fact]
    public void Forward_RecordRouteViaSecondSubnet_RecordsAddressOnNextHopsSubnet()
    {
        var f = new RouterFixture();
        // Nic 2 gains a second network; a gateway on it leads to 198.18.200.0/24.
        Ipv4Address second = Ipv4Address.Parse("198.18.3.1");
        Ipv4Address gateway = Ipv4Address.Parse("198.18.3.254");
        Assert.Equal(StackError.None, f.Stack.AddAddress(Nic2, second, 24));
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.200.0"), 24), gateway, 2)));
        f.Router2.Neighbors.AddStatic(gateway, GatewayMac);
        f.Link2.Clear();
        f.Link1.InjectInbound(FromAWithOptions(Ipv4Address.Parse("198.18.200.9"), [7, 7, 4, 0, 0, 0, 0, 0]));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(second, Ipv4Address.Read(forwarded.AsSpan(37)));
        // And on the first network, the first address.
        f.Link1.InjectInbound(FromAWithOptions(HostB, [7, 7, 4, 0, 0, 0, 0, 0]));
        Assert.Equal(Ip2, Ipv4Address.Read(Assert.Single(f.Link2.ReadAll()).AsSpan(37)));
    }

    [Fact]
    public void Forward_TimestampOnly_MillisecondsSinceUtcMidnight()
    {
        var f = new RouterFixture();
        byte[] options = [68, 12, 5, 0x20, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] sent = FromAWithOptions(HostB, options);
        f.Link1.InjectInbound(sent);
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(new byte[] { 68, 12, 9, 0x20 }, forwarded[34..38]);
        Assert.Equal(WallMilliseconds, BinaryPrimitives.ReadUInt32BigEndian(forwarded.AsSpan(38)));
        Assert.Equal(new byte[4], forwarded[42..46]);
        AssertOnlyHeaderChanged(sent, forwarded, options.Length);
    }

    [Fact]
    public void Forward_TimestampAfterMidnight_CountsFromTheNewDay()
    {
        var f = new RouterFixture();
        f.WallClock.Now = new DateTimeOffset(2026, 11, 26, 0, 0, 1, 5, TimeSpan.Zero);
        f.Link1.InjectInbound(FromAWithOptions(HostB, [68, 8, 5, 0, 0, 0, 0, 0]));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(1005u, BinaryPrimitives.ReadUInt32BigEndian(forwarded.AsSpan(38)));
    }

    [Fact]
    public void Forward_TimestampWithAddresses_EgressAddressThenTime()
    {
        var f = new RouterFixture();
        byte[] sent = FromAWithOptions(HostB, [68, 20, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        f.Link1.InjectInbound(sent);
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(new byte[] { 68, 20, 13, 1 }, forwarded[34..38]);
        Assert.Equal(Ip2, Ipv4Address.Read(forwarded.AsSpan(38)));
        Assert.Equal(WallMilliseconds, BinaryPrimitives.ReadUInt32BigEndian(forwarded.AsSpan(42)));
        Assert.Equal(new byte[8], forwarded[46..54]);
        AssertOnlyHeaderChanged(sent, forwarded, 20);
    }

    [Theory]
    // The ingress address is ours as much as the egress one.
    [InlineData("198.18.1.1")]
    [InlineData("198.18.2.1")]
    public void Forward_TimestampPrespecifiedOurs_Stamped(string ours)
    {
        var f = new RouterFixture();
        Ipv4Address address = Ipv4Address.Parse(ours);
        byte[] options = [68, 20, 5, 3, .. Bytes(address), 0, 0, 0, 0, .. Bytes(HostB), 0, 0, 0, 0];
        f.Link1.InjectInbound(FromAWithOptions(HostB, options));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(new byte[] { 68, 20, 13, 3 }, forwarded[34..38]);
        Assert.Equal(address, Ipv4Address.Read(forwarded.AsSpan(38)));
        Assert.Equal(WallMilliseconds, BinaryPrimitives.ReadUInt32BigEndian(forwarded.AsSpan(42)));
        Assert.Equal(options[12..], forwarded[46..54]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 40)));
    }

    [Theory]
    // Flag 0 and flag 1, overflow 3 → 4 and 14 → 15.
    [InlineData(new byte[] { 68, 8, 9, 0x30, 1, 2, 3, 4 }, 0x40)]
    [InlineData(new byte[] { 68, 12, 13, 0xE1, 1, 2, 3, 4, 5, 6, 7, 8 }, 0xF1)]
    public void Forward_TimestampFull_OverflowCountIncremented(byte[] options, byte flags)
    {
        var f = new RouterFixture();
        byte[] sent = FromAWithOptions(HostB, options);
        f.Link1.InjectInbound(sent);
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        byte[] expected = [.. options];
        expected[3] = flags;
        Assert.Equal(expected, forwarded[34..(34 + options.Length)]);
        AssertOnlyHeaderChanged(sent, forwarded, options.Length);
    }

    [Fact]
    public void Forward_TimestampPrespecifiedFullOverflow15_ForwardedUnchangedAsLinux()
    {
        // Linux counts no overflow for flag 3, so a counter already at 15 is no error.
        var f = new RouterFixture();
        byte[] options = [68, 12, 13, 0xF3, 198, 18, 9, 9, 0, 0, 0, 1];
        f.Link1.InjectInbound(FromAWithOptions(HostB, options));
        Assert.Equal(options, Assert.Single(f.Link2.ReadAll())[34..46]);
        Assert.Empty(f.Link1.ReadAll());
    }

    [Fact]
    public void Forward_RecordRouteAndTimestamp_BothFilled()
    {
        var f = new RouterFixture();
        byte[] options = [1, 7, 7, 4, 0, 0, 0, 0, 68, 8, 5, 0, 0, 0, 0, 0];
        f.Link1.InjectInbound(FromAWithOptions(HostB, options));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        byte[] expected = [1, 7, 7, 8, .. Bytes(Ip2), 68, 8, 9, 0, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt32BigEndian(expected.AsSpan(12), WallMilliseconds);
        Assert.Equal(expected, forwarded[34..50]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 36)));
    }

    [Fact]
    public void Forward_FragmentedWithOptions_OnlyCopiedOptionsAfterFirstFragment()
    {
        var f = new RouterFixture(mtu2: 1280);
        // Record Route (not copied) then Router Alert (type 148: copied) and End of List.
        byte[] options = [7, 7, 4, 0, 0, 0, 0, 148, 4, 0, 0, 0];
        byte[] sent = FromAWithOptions(HostB, options, ttl: 30, payloadLength: 2900);
        f.Link1.InjectInbound(sent);
        List<byte[]> fragments = f.Link2.ReadAll();
        Assert.Equal(3, fragments.Count);
        int headerLength = 20 + options.Length;
        byte[] payload = sent[(14 + headerLength)..];
        byte[] reassembled = new byte[payload.Length];
        int total = 0;
        for (int i = 0; i < fragments.Count; i++)
        {
            byte[] fragment = fragments[i];
            Assert.True(fragment.Length - 14 <= 1280);
            Assert.Equal(0x48, fragment[14]);
            Assert.Equal(29, fragment[22]);
            Assert.Equal(0, Checksum.Compute(fragment.AsSpan(14, headerLength)));
            int flags = BinaryPrimitives.ReadUInt16BigEndian(fragment.AsSpan(20));
            int offset = (flags & 0x1FFF) * 8;
            Assert.Equal(i == 0, offset == 0);
            Assert.Equal(i < fragments.Count - 1, (flags & 0x2000) != 0);
            byte[] expected = i == 0
                ? [7, 7, 8, .. Bytes(Ip2), 148, 4, 0, 0, 0]
                : [1, 1, 1, 1, 1, 1, 1, 148, 4, 0, 0, 0];
            Assert.Equal(expected, fragment[34..46]);
            fragment.AsSpan(14 + headerLength).CopyTo(reassembled.AsSpan(offset));
            total += fragment.Length - 14 - headerLength;
        }
        Assert.Equal(payload.Length, total);
        Assert.Equal(payload, reassembled);
    }

    // The packet left with new MACs, TTL − 1, its header summed again, and nothing else changed
    // outside the options, which the caller checks.
    private static void AssertOnlyHeaderChanged(byte[] sent, byte[] forwarded, int optionsLength)
    {
        Assert.Equal(sent.Length, forwarded.Length);
        Assert.Equal(HostBMac, MacAddress.Read(forwarded));
        Assert.Equal(Mac2, MacAddress.Read(forwarded.AsSpan(6)));
        Assert.Equal(sent[12..22], forwarded[12..22]);
        Assert.Equal(sent[22] - 1, forwarded[22]);
        Assert.Equal(sent[23], forwarded[23]);
        Assert.Equal(sent[26..34], forwarded[26..34]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 20 + optionsLength)));
        Assert.Equal(sent[(34 + optionsLength)..], forwarded[(34 + optionsLength)..]);
    }
}
