using System.Buffers.Binary;
using CsCheck;
using XdpStack.Appliance.Workers;
using XdpStack.Stack.Wire;
using static XdpStack.Appliance.Tests.Workers.TestFrames;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Appliance.Tests.Workers;

public sealed class FrameReflectorTests
{
    private static void AssertMacsSwapped(ReadOnlySpan<byte> frame)
    {
        Assert.Equal(HostMac, frame[..6].ToArray());
        Assert.Equal(ReflectorMac, frame[6..12].ToArray());
    }

    [Fact]
    public void Reflect_L2_SwapsOnlyTheMacs()
    {
        byte[] frame = Ethernet(0x0800, Ipv4(17, Udp(18)));
        byte[] before = (byte[])frame.Clone();

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L2));

        AssertMacsSwapped(frame);
        Assert.Equal(before[12..], frame[12..]);
    }

    [Fact]
    public void Reflect_L3Ipv4Udp_SwapsAddressesAndPortsAndKeepsChecksumsValid()
    {
        byte[] udp = Udp(64);
        byte[] frame = Ethernet(0x0800, Ipv4(17, udp));
        byte[] before = (byte[])frame.Clone();

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        AssertMacsSwapped(frame);
        Span<byte> ip = frame.AsSpan(14);
        Assert.Equal(ReflectorIpv4, ip[12..16].ToArray());
        Assert.Equal(HostIpv4, ip[16..20].ToArray());
        Span<byte> l4 = ip[20..];
        Assert.Equal(ReflectorPort, BinaryPrimitives.ReadUInt16BigEndian(l4));
        Assert.Equal(HostPort, BinaryPrimitives.ReadUInt16BigEndian(l4[2..]));
        // Checksum fields are untouched bytes, and they still verify over the swapped packet.
        Assert.Equal(before.AsSpan(14 + 10, 2).ToArray(), ip[10..12].ToArray());
        Assert.Equal(0, Checksum.Compute(ip[..20]));
        Assert.True(TransportChecksumValid(l4, Checksum.PseudoHeaderSum(ReflectorIpv4, HostIpv4, 17, (ushort)l4.Length)));
        Assert.Equal(before.AsSpan(14 + 20 + 4).ToArray(), l4[4..].ToArray());
    }

    [Fact]
    public void Reflect_L3Ipv6Udp_SwapsAddressesAndPortsAndKeepsChecksumValid()
    {
        byte[] frame = Ethernet(0x86DD, Ipv6(17, Udp(100)));

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        AssertMacsSwapped(frame);
        Span<byte> ip = frame.AsSpan(14);
        Assert.Equal(ReflectorIpv6, ip[8..24].ToArray());
        Assert.Equal(HostIpv6, ip[24..40].ToArray());
        Span<byte> l4 = ip[40..];
        Assert.Equal(ReflectorPort, BinaryPrimitives.ReadUInt16BigEndian(l4));
        Assert.Equal(HostPort, BinaryPrimitives.ReadUInt16BigEndian(l4[2..]));
        Assert.True(TransportChecksumValid(l4, Checksum.PseudoHeaderSumV6(ReflectorIpv6, HostIpv6, 17, (uint)l4.Length)));
    }

    [Fact]
    public void Reflect_L3Ipv4TcpWithOptions_SwapsPortsAfterTheOptions()
    {
        byte[] frame = Ethernet(0x0800, Ipv4(6, Tcp(10), optionWords: 2));

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        Span<byte> ip = frame.AsSpan(14);
        Span<byte> l4 = ip[28..];
        Assert.Equal(ReflectorPort, BinaryPrimitives.ReadUInt16BigEndian(l4));
        Assert.Equal(HostPort, BinaryPrimitives.ReadUInt16BigEndian(l4[2..]));
        Assert.Equal(0, Checksum.Compute(ip[..28]));
        Assert.True(TransportChecksumValid(l4, Checksum.PseudoHeaderSum(ReflectorIpv4, HostIpv4, 6, (ushort)l4.Length)));
    }

    [Fact]
    public void Reflect_L3Ipv6Tcp_KeepsChecksumValid()
    {
        byte[] frame = Ethernet(0x86DD, Ipv6(6, Tcp(33)));

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        Span<byte> l4 = frame.AsSpan(14 + 40);
        Assert.Equal(ReflectorPort, BinaryPrimitives.ReadUInt16BigEndian(l4));
        Assert.True(TransportChecksumValid(l4, Checksum.PseudoHeaderSumV6(ReflectorIpv6, HostIpv6, 6, (uint)l4.Length)));
    }

    [Fact]
    public void Reflect_L3Arp_LeavesEverythingButTheMacsAlone()
    {
        byte[] frame = Ethernet(0x0806, Arp());
        byte[] before = (byte[])frame.Clone();

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        AssertMacsSwapped(frame);
        Assert.Equal(before[12..], frame[12..]);
    }

    [Theory]
    [InlineData((ushort)0x8100)]
    [InlineData((ushort)0x88A8)]
    public void Reflect_L3VlanTagged_SwapsTheInnerPacket(ushort tpid)
    {
        byte[] frame = Ethernet(0x0800, Ipv4(17, Udp(20)), tpid);
        byte[] before = (byte[])frame.Clone();

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        AssertMacsSwapped(frame);
        Assert.Equal(before[12..18], frame[12..18]); // tag and EtherType unchanged
        Span<byte> ip = frame.AsSpan(18);
        Assert.Equal(ReflectorIpv4, ip[12..16].ToArray());
        Assert.Equal(HostIpv4, ip[16..20].ToArray());
        Assert.Equal(ReflectorPort, BinaryPrimitives.ReadUInt16BigEndian(ip[20..]));
    }

    [Fact]
    public void Reflect_L3QinQ_SwapsBehindTwoTags()
    {
        byte[] frame = Ethernet(0x86DD, Ipv6(17, Udp(8)), 0x88A8, 0x8100);

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        Span<byte> ip = frame.AsSpan(22);
        Assert.Equal(ReflectorIpv6, ip[8..24].ToArray());
        Assert.Equal(ReflectorPort, BinaryPrimitives.ReadUInt16BigEndian(ip[40..]));
    }

    [Fact]
    public void Reflect_L3LaterFragment_SwapsAddressesButNotPayloadBytes()
    {
        // A non-first fragment (offset 185 × 8) has no transport header: its first bytes are data.
        byte[] frame = Ethernet(0x0800, Ipv4(17, Udp(40), fragment: 185));
        byte[] before = (byte[])frame.Clone();

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        Assert.Equal(ReflectorIpv4, frame[(14 + 12)..(14 + 16)]);
        Assert.Equal(before[(14 + 20)..], frame[(14 + 20)..]);
        Assert.Equal(0, Checksum.Compute(frame.AsSpan(14, 20)));
    }

    [Fact]
    public void Reflect_L3Sctp_KeepsPortsBecauseItsCrcIsNotASum()
    {
        byte[] frame = Ethernet(0x0800, Ipv4(132, Udp(12)));
        byte[] before = (byte[])frame.Clone();

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        Assert.Equal(HostIpv4, frame[(14 + 16)..(14 + 20)]);
        Assert.Equal(before[(14 + 20)..], frame[(14 + 20)..]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(13)]
    public void Reflect_ShorterThanEthernetHeader_ReturnsFalseAndLeavesFrame(int length)
    {
        byte[] frame = Enumerable.Range(1, length).Select(i => (byte)i).ToArray();
        byte[] before = (byte[])frame.Clone();

        Assert.False(FrameReflector.Reflect(frame, SwapMode.L3));

        Assert.Equal(before, frame);
    }

    [Theory]
    [InlineData(14)]
    [InlineData(20)]
    [InlineData(33)]
    [InlineData(37)]
    [InlineData(53)]
    [InlineData(56)]
    public void Reflect_L3TruncatedPacket_SwapsMacsAndStaysInBounds(int length)
    {
        byte[] full = Ethernet(0x86DD, Ipv6(17, Udp(0)));
        byte[] frame = full[..Math.Min(length, full.Length)];

        Assert.True(FrameReflector.Reflect(frame, SwapMode.L3));

        AssertMacsSwapped(frame);
    }

    [Fact]
    public void Reflect_AnyBytesTwice_RestoresTheFrame()
    {
        // Reflecting is an involution: whatever the bytes, doing it twice gives the original back,
        // and it never reads or writes outside the frame.
        Gen.Byte.Array[0, 200].Select(Gen.Int[0, 3]).Sample((bytes, shape) =>
        {
            // Steer some samples into the IPv4/IPv6/VLAN branches.
            if (bytes.Length >= 16 && shape > 0)
            {
                ushort type = shape == 1 ? (ushort)0x0800 : shape == 2 ? (ushort)0x86DD : (ushort)0x8100;
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(12), type);
                bytes[14] = shape == 1 ? (byte)(0x40 | (bytes[14] & 0xF)) : (byte)(0x60 | (bytes[14] & 0xF));
            }
            byte[] original = (byte[])bytes.Clone();
            bool ok = FrameReflector.Reflect(bytes, SwapMode.L3);
            Assert.Equal(original.Length >= 14, ok);
            FrameReflector.Reflect(bytes, SwapMode.L3);
            Assert.Equal(original, bytes);
        });
    }

    [Fact]
    public void Reflect_BatchOfFramesInOneBuffer_AllocatesNothing()
    {
        // Frames laid out in one buffer the way they sit in a UMEM: fixed-size chunks.
        const int chunk = 2048, count = 64;
        byte[][] templates =
        [
            Ethernet(0x0800, Ipv4(17, Udp(18))),
            Ethernet(0x86DD, Ipv6(17, Udp(200))),
            Ethernet(0x0800, Ipv4(6, Tcp(0)), 0x8100),
            Ethernet(0x0806, Arp()),
        ];
        var umem = new byte[chunk * count];
        var lengths = new int[count];
        for (int i = 0; i < count; i++)
        {
            templates[i % templates.Length].CopyTo(umem, i * chunk);
            lengths[i] = templates[i % templates.Length].Length;
        }
        ReflectAll(umem, lengths, chunk); // warm up (JIT, tiering)

        long allocated = AllocationWindow.Measure(() =>
        {
            for (int round = 0; round < 1001; round++)
                ReflectAll(umem, lengths, chunk);
        });

        Assert.Equal(0, allocated);
        // 1002 rounds in all: an even number, so every frame is back to what was written.
        for (int i = 0; i < count; i++)
            Assert.Equal(templates[i % templates.Length], umem.AsSpan(i * chunk, lengths[i]).ToArray());
        FrameReflector.Reflect(umem.AsSpan(0, lengths[0]), SwapMode.L3);
        AssertMacsSwapped(umem.AsSpan(0, lengths[0]));
    }

    private static void ReflectAll(Span<byte> umem, int[] lengths, int chunk)
    {
        for (int i = 0; i < lengths.Length; i++)
            FrameReflector.Reflect(umem.Slice(i * chunk, lengths[i]), SwapMode.L3);
    }
}
