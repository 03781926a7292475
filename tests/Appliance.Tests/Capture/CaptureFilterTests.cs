using XdpStack.Appliance.Capture;
using XdpStack.Appliance.Tests.Workers;

namespace XdpStack.Appliance.Tests.Capture;

public class CaptureFilterTests
{
    // Host 198.18.0.1 (port 40000) → reflector 198.18.0.2 (port 9), and the same in IPv6 (2001:2::1 → 2001:2::2).
    private static readonly byte[] Udp4 = TestFrames.Ethernet(0x0800, TestFrames.Ipv4(17, TestFrames.Udp(20)));
    private static readonly byte[] Tcp4 = TestFrames.Ethernet(0x0800, TestFrames.Ipv4(6, TestFrames.Tcp(0)));
    private static readonly byte[] Icmp4 = TestFrames.Ethernet(0x0800, TestFrames.Ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1]));
    private static readonly byte[] Udp6 = TestFrames.Ethernet(0x86DD, TestFrames.Ipv6(17, TestFrames.Udp(20)));
    private static readonly byte[] Icmp6 = TestFrames.Ethernet(0x86DD, TestFrames.Ipv6(58, [128, 0, 0, 0, 0, 1, 0, 1]));
    private static readonly byte[] Arp = TestFrames.Ethernet(0x0806, TestFrames.Arp());
    private static readonly byte[] VlanUdp4 = TestFrames.Ethernet(0x0800, TestFrames.Ipv4(17, TestFrames.Udp(20)), 0x8100);
    // A second fragment: offset 185 × 8, no transport header at its start.
    private static readonly byte[] Fragment4 = TestFrames.Ethernet(0x0800, TestFrames.Ipv4(17, new byte[40], fragment: 185));

    private static readonly (string Name, byte[] Frame)[] s_frames =
        [("udp4", Udp4), ("tcp4", Tcp4), ("icmp4", Icmp4), ("udp6", Udp6), ("icmp6", Icmp6), ("arp", Arp), ("vlan-udp4", VlanUdp4), ("frag4", Fragment4)];

    [Theory]
    [InlineData("", "udp4 tcp4 icmp4 udp6 icmp6 arp vlan-udp4 frag4")]
    [InlineData("icmp", "icmp4 icmp6")]
    [InlineData("udp", "udp4 udp6 vlan-udp4 frag4")]
    [InlineData("tcp", "tcp4")]
    [InlineData("arp", "arp")]
    [InlineData("ip", "udp4 tcp4 icmp4 vlan-udp4 frag4")]
    [InlineData("ip6", "udp6 icmp6")]
    [InlineData("port 9", "udp4 tcp4 udp6 vlan-udp4")]
    [InlineData("port 40000", "udp4 tcp4 udp6 vlan-udp4")]
    [InlineData("port 53", "")]
    [InlineData("udp and port 9", "udp4 udp6 vlan-udp4")]
    [InlineData("host 198.18.0.2", "udp4 tcp4 icmp4 arp vlan-udp4 frag4")]
    [InlineData("icmp and host 198.18.0.1", "icmp4")]
    [InlineData("host 2001:2::2", "udp6 icmp6")]
    [InlineData("host 198.18.9.9", "")]
    [InlineData("tcp port 9", "tcp4")]
    public void Matches_RealFrames_KeepsExactlyThoseTheFilterNames(string filter, string expected)
    {
        Assert.True(CaptureFilter.TryParse(filter, out CaptureFilter f, out string? error), error);
        string[] kept = [.. s_frames.Where(x => f.Matches(x.Frame)).Select(x => x.Name)];
        Assert.Equal(expected.Split(' ', StringSplitOptions.RemoveEmptyEntries), kept);
    }

    [Theory]
    [InlineData("udp or tcp", "'or'")]
    [InlineData("udp tcp", "only one protocol")]
    [InlineData("host", "'host' needs")]
    [InlineData("host eth0", "not 'eth0'")]
    [InlineData("port 70000", "0 to 65535")]
    [InlineData("icmp and port 7", "has no ports")]
    [InlineData("ip6 and host 198.18.0.1", "can never be")]
    [InlineData("and udp", "'and'")]
    public void TryParse_WhatItCannotTake_NamesTheWord(string filter, string message)
    {
        Assert.False(CaptureFilter.TryParse(filter, out _, out string? error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Matches_TruncatedFrames_NeverThrowsAndKeepsNone()
    {
        Assert.True(CaptureFilter.TryParse("udp and port 9 and host 198.18.0.2", out CaptureFilter f, out _));
        foreach ((_, byte[] frame) in s_frames)
        {
            for (int length = 0; length < frame.Length - 1; length++)
            {
                // Anything cut inside the IPv4 total length fails its header check; only the padding may go.
                bool kept = f.Matches(frame.AsSpan(0, length));
                Assert.False(kept && length < 14 + 20 + 4, $"kept a frame cut to {length} bytes");
            }
        }
    }

    [Fact]
    public void Matches_FirstBufferOfAJumboFrame_ReadsTheHeadersOnly()
    {
        // A 8000-byte datagram leaves as a multi-buffer chain; the filter sees the chain's first buffer.
        byte[] frame = TestFrames.Ethernet(0x0800, TestFrames.Ipv4(17, TestFrames.Udp(8000)));
        Assert.True(CaptureFilter.TryParse("udp and port 9 and host 198.18.0.1", out CaptureFilter f, out _));
        Assert.True(f.Matches(frame.AsSpan(0, 3840)));
        Assert.True(f.Matches(frame));
        Assert.True(CaptureFilter.TryParse("tcp", out CaptureFilter tcp, out _));
        Assert.False(tcp.Matches(frame.AsSpan(0, 3840)));
    }

    [Fact]
    public void ToString_ParsesBackToTheSameFilter()
    {
        Assert.True(CaptureFilter.TryParse("UDP  host 2001:2::2   port 7", out CaptureFilter f, out _));
        Assert.Equal("udp and host 2001:2::2 and port 7", f.ToString());
        Assert.True(CaptureFilter.TryParse(f.ToString(), out CaptureFilter again, out _));
        Assert.Equal(f.ToString(), again.ToString());
    }
}
