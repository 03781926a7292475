using XdpStack.Appliance.Links;
using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Tests.Workers;

/// <summary><see cref="VlanDemux"/>: which NIC each received frame goes to, what it strips, and what it drops.</summary>
public sealed class VlanDemuxTests
{
    private const int Headroom = 256;

    private static readonly XdpNicLink s_parent = new("eth1", new NicId(1), MacAddress.Parse("02:00:00:00:00:01"), 1500);

    private static readonly VlanDemux s_demux = new(
    [
        new XdpNicLink("eth1.100", new NicId(3), s_parent, 100, 1500),
        new XdpNicLink("eth1.200", new NicId(4), s_parent, 200, 1400),
    ]);

    /// <summary>An ARP request frame behind <see cref="Headroom"/> octets of 0xA5, with the given outer type and TCI (no tag when <paramref name="tpid"/> is 0).</summary>
    private static (byte[] Memory, Frame Frame) Received(ushort tpid, ushort tci, int cut = 0)
    {
        byte[] memory = new byte[Headroom + 64];
        Array.Fill(memory, (byte)0xA5);
        Span<byte> f = memory.AsSpan(Headroom);
        new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x09 }.CopyTo(f);
        int at = 12;
        if (tpid != 0)
        {
            f[at++] = (byte)(tpid >> 8);
            f[at++] = (byte)tpid;
            f[at++] = (byte)(tci >> 8);
            f[at++] = (byte)tci;
        }
        new byte[] { 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01 }.CopyTo(f[at..]);
        return (memory, new Frame(Headroom, at + 10 + 28 - cut));
    }

    [Fact]
    public void Classify_ConfiguredId_StrippedForThatSubInterface_PriorityBitsIgnored()
    {
        (byte[] memory, Frame frame) = Received(0x8100, 0xA0C8); // PCP 5, VLAN 200
        (byte[] untagged, Frame plain) = Received(0, 0);
        int length = frame.Length;

        Assert.Equal(VlanVerdict.SubInterface, s_demux.Classify(memory, ref frame, out int sub));
        Assert.Equal(1, sub);
        Assert.Equal("eth1.200", s_demux.Links[sub].Name);
        Assert.Equal(Headroom + EthernetFrame.VlanTagLength, frame.Offset);
        Assert.Equal(length - EthernetFrame.VlanTagLength, frame.Length);
        Assert.Equal(untagged.AsSpan(plain.Offset, plain.Length).ToArray(), memory.AsSpan(frame.Offset, frame.Length).ToArray());
    }

    [Fact]
    public void Classify_Untagged_ParentsAndUntouched()
    {
        (byte[] memory, Frame frame) = Received(0, 0);
        byte[] before = (byte[])memory.Clone();
        Frame original = frame;

        Assert.Equal(VlanVerdict.Untagged, s_demux.Classify(memory, ref frame, out int sub));
        Assert.Equal(-1, sub);
        Assert.Equal((original.Offset, original.Length), (frame.Offset, frame.Length));
        Assert.Equal(before, memory);
    }

    [Fact]
    public void Classify_PriorityTag_StrippedForTheParent()
    {
        // VLAN id 0 carries only a priority (IEEE 802.1Q §9.6); Linux hands such frames to the untagged device.
        (byte[] memory, Frame frame) = Received(0x8100, 0x6000);
        Assert.Equal(VlanVerdict.Untagged, s_demux.Classify(memory, ref frame, out int sub));
        Assert.Equal(-1, sub);
        Assert.Equal(Headroom + EthernetFrame.VlanTagLength, frame.Offset);
        Assert.Equal(0x0806, (memory[frame.Offset + 12] << 8) | memory[frame.Offset + 13]);
    }

    [Theory]
    [InlineData(0x8100, 300, 0, (int)VlanVerdict.UnknownVlan)]
    [InlineData(0x8100, 4095, 0, (int)VlanVerdict.UnknownVlan)]
    [InlineData(0x88A8, 100, 0, (int)VlanVerdict.ServiceTag)]
    [InlineData(0x8100, 100, 38, (int)VlanVerdict.Truncated)] // 16 octets: the tag's TCI is there, its inner EtherType is not
    [InlineData(0x8100, 100, 40, (int)VlanVerdict.Truncated)] // 14 octets: the TPID and nothing after it
    public void Classify_NoSubInterfaceTakesIt_DropVerdictAndFrameUntouched(ushort tpid, ushort tci, int cut, int verdict)
    {
        var expected = (VlanVerdict)verdict;
        (byte[] memory, Frame frame) = Received(tpid, tci, cut);
        byte[] before = (byte[])memory.Clone();
        Frame original = frame;

        Assert.Equal(expected, s_demux.Classify(memory, ref frame, out int sub));
        Assert.Equal(-1, sub);
        Assert.Equal((original.Offset, original.Length), (frame.Offset, frame.Length));
        Assert.Equal(before, memory);
    }

    [Fact]
    public void Classify_ShorterThanAnEthernetHeader_LeftToTheParentNicToCount()
    {
        (byte[] memory, Frame frame) = Received(0, 0);
        frame.Length = 13;
        Assert.Equal(VlanVerdict.Untagged, s_demux.Classify(memory, ref frame, out _));
    }

    [Fact]
    public void Constructor_IdReservedOrTwice_Refused()
    {
        Assert.Throws<ArgumentException>(() => new VlanDemux([new XdpNicLink("a", new NicId(2), s_parent, 4095, 1500)]));
        Assert.Throws<ArgumentException>(() => new VlanDemux(
            [new XdpNicLink("a", new NicId(2), s_parent, 7, 1500), new XdpNicLink("b", new NicId(3), s_parent, 7, 1500)]));
    }

    [Fact]
    public void Classify_ThousandFramesOfEveryKind_AllocatesNothing()
    {
        var memories = new byte[4][];
        var frames = new Frame[4];
        (memories[0], frames[0]) = Received(0x8100, 100);
        (memories[1], frames[1]) = Received(0, 0);
        (memories[2], frames[2]) = Received(0x8100, 999);
        (memories[3], frames[3]) = Received(0x88A8, 100);
        s_demux.Classify(memories[1], ref frames[1], out _);
        int taken = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            int k = i & 3;
            Frame frame = frames[k];
            if (s_demux.Classify(memories[k], ref frame, out _) == VlanVerdict.SubInterface)
            {
                taken++;
                // Put the tag back, as the worker does for a reply, so the next round classifies the same frame.
                VlanTag.Insert(memories[k].AsSpan(frame.Offset - EthernetFrame.VlanTagLength, frame.Length + EthernetFrame.VlanTagLength), 100);
            }
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(250, taken);
    }
}
