using System.Buffers.Binary;
using CsCheck;
using XdpStack.Stack.Tests.Wire.Capture;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>
/// No input makes a view throw: random octets, every truncation of the real captures, and random
/// mutations of them. Buffers are exact-length arrays, so any read past the end throws.
/// </summary>
public sealed class PropertyTests
{
    private static readonly byte[][] s_frames = [.. CapturedPackets.Committed.All];

    [Fact]
    public void RandomOctets_NoViewThrows() =>
        Gen.Byte.Array[0, 200].Sample(bytes => WireFuzz.TouchEverything(bytes), iter: 20_000, threads: 1);

    [Fact]
    public void RandomOctetsBehindValidHeaders_NoViewThrows()
    {
        // Random octets rarely get past the EtherType, so put them behind real Ethernet and IP headers.
        byte[][] prefixes =
        [
            CapturedPackets.Committed.Udp4[0][..14],
            CapturedPackets.Committed.Icmp6NdEcho[0][..14],
            CapturedPackets.Committed.ArpIcmp4[0][..14],
            CapturedPackets.Committed.Vlan[0][..18],
        ];
        Gen.Select(Gen.Int[0, prefixes.Length - 1], Gen.Byte.Array[0, 120]).Sample((p, tail) =>
        {
            byte[] frame = [.. prefixes[p], .. tail];
            // Half of the time make the IP version and length fields agree with the buffer, so the walk goes deeper.
            int ip = prefixes[p].Length;
            if ((p == 0 || p == 3) && tail.Length >= 20 && (tail[0] & 1) == 0)
            {
                frame[ip] = 0x45;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(ip + 2), (ushort)tail.Length);
            }
            else if (p == 1 && tail.Length >= 40 && (tail[0] & 1) == 0)
            {
                frame[ip] = 0x60;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(ip + 4), (ushort)(tail.Length - 40));
            }
            WireFuzz.TouchEverything(frame);
        }, iter: 20_000, threads: 1);
    }

    [Fact]
    public void EveryTruncationOfCapturedFrames_NoViewThrows()
    {
        foreach (byte[] frame in s_frames)
        {
            for (int length = 0; length <= frame.Length; length++)
                WireFuzz.TouchEverything(frame.AsSpan(0, length).ToArray());
        }
    }

    [Fact]
    public void EveryTruncationOfCapturedIpPackets_IsRejectedAsTruncated()
    {
        foreach (byte[] frame in s_frames)
        {
            Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
            int header = ethernet.HeaderLength;
            for (int length = header; length < frame.Length; length++)
            {
                Span<byte> cut = frame.AsSpan(header, length - header);
                if (ethernet.EtherType == EtherType.Ipv4)
                {
                    Assert.False(Ipv4Packet.TryCreate(cut, out _, out WireError error));
                    Assert.Equal(WireError.Truncated, error);
                }
                else if (ethernet.EtherType == EtherType.Ipv6)
                {
                    Assert.False(Ipv6Packet.TryCreate(cut, out _, out WireError error));
                    Assert.Equal(WireError.Truncated, error);
                }
            }
        }
    }

    [Fact]
    public void RandomMutationsOfCapturedFrames_NoViewThrows()
    {
        Gen<(int Frame, (int At, byte Value)[] Changes)> gen = Gen.Select(
            Gen.Int[0, s_frames.Length - 1],
            Gen.Select(Gen.Int[0, 1600], Gen.Byte).Array[1, 4]);
        gen.Sample(input =>
        {
            byte[] frame = (byte[])s_frames[input.Frame].Clone();
            foreach ((int at, byte value) in input.Changes)
                frame[at % frame.Length] = value;
            WireFuzz.TouchEverything(frame);
        }, iter: 20_000, threads: 1);
    }
}
