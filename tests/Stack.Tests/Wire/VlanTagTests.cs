using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary><see cref="VlanTag"/>: reading, stripping and inserting the 802.1Q tag, byte for byte.</summary>
public sealed class VlanTagTests
{
    // An ARP request from 02:00:00:00:00:02 to broadcast, tagged PCP 5, DEI 0, VLAN 100 (TCI 0xA064).
    private static readonly byte[] s_tagged =
    [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x81, 0x00, 0xa0, 0x64,
        0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
    ];

    // The same frame without the tag.
    private static readonly byte[] s_untagged =
    [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
    ];

    [Fact]
    public void TryRead_TaggedFrame_TpidAndIdWithoutPriorityBits()
    {
        Assert.True(VlanTag.TryRead(s_tagged, out EtherType outer, out ushort id));
        Assert.Equal(EtherType.Vlan, outer);
        Assert.Equal(100, id);
    }

    [Fact]
    public void TryRead_UntaggedAndServiceTagged_TheirTypeAndIdZero()
    {
        Assert.True(VlanTag.TryRead(s_untagged, out EtherType outer, out ushort id));
        Assert.Equal((EtherType.Arp, 0), (outer, id));
        byte[] qinq = (byte[])s_tagged.Clone();
        qinq[12] = 0x88;
        qinq[13] = 0xa8;
        Assert.True(VlanTag.TryRead(qinq, out outer, out id));
        Assert.Equal((EtherType.QinQ, 0), (outer, id));
    }

    [Theory]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(17)]
    public void TryRead_CutBeforeTheTagEnds_False(int length)
    {
        // 14 to 17 octets announce a tag that is not all there; under 14 there is not even an EtherType.
        Assert.False(VlanTag.TryRead(s_tagged.AsSpan(0, length), out _, out _));
    }

    [Fact]
    public void Strip_TaggedFrame_UntaggedFrameFourOctetsOn()
    {
        byte[] frame = (byte[])s_tagged.Clone();
        VlanTag.Strip(frame);
        Assert.Equal(s_untagged, frame[EthernetFrame.VlanTagLength..]);
    }

    [Fact]
    public void Insert_IntoReusedMemory_WritesEveryTagOctetWithPriorityZero()
    {
        byte[] region = new byte[s_untagged.Length + EthernetFrame.VlanTagLength];
        Array.Fill(region, (byte)0xA5);
        s_untagged.CopyTo(region, EthernetFrame.VlanTagLength);
        VlanTag.Insert(region, 100);

        byte[] expected = (byte[])s_tagged.Clone();
        expected[14] = 0x00; // PCP 0, DEI 0
        Assert.Equal(expected, region);
    }

    [Fact]
    public void Insert_IdAbove4095_OnlyTheLow12BitsGoIntoTheTag()
    {
        byte[] region = new byte[s_untagged.Length + EthernetFrame.VlanTagLength];
        s_untagged.CopyTo(region, EthernetFrame.VlanTagLength);
        VlanTag.Insert(region, 0xF064);
        Assert.Equal([0x81, 0x00, 0x00, 0x64], region[12..16]);
    }

    [Fact]
    public void CopyTagged_IntoReusedBuffer_TheTaggedFrameAndItsLength()
    {
        byte[] destination = new byte[64];
        Array.Fill(destination, (byte)0xA5);
        int length = VlanTag.CopyTagged(s_untagged, destination, 100);

        byte[] expected = (byte[])s_tagged.Clone();
        expected[14] = 0x00;
        Assert.Equal(expected.Length, length);
        Assert.Equal(expected, destination[..length]);
        Assert.All(destination[length..], b => Assert.Equal(0xA5, b));
    }

    [Fact]
    public void CopyTagged_NoRoomOrNoHeader_Zero()
    {
        Assert.Equal(0, VlanTag.CopyTagged(s_untagged, new byte[s_untagged.Length + 3], 100));
        Assert.Equal(0, VlanTag.CopyTagged(s_untagged.AsSpan(0, 13), new byte[64], 100));
    }

    [Fact]
    public void StripThenInsert_ThousandTimes_AllocatesNothingAndRestoresTheFrame()
    {
        byte[] frame = new byte[s_tagged.Length];
        s_tagged.CopyTo(frame, 0);
        frame[14] = 0x00;
        byte[] original = (byte[])frame.Clone();
        VlanTag.Strip(frame);
        VlanTag.Insert(frame, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            VlanTag.TryRead(frame, out _, out _);
            VlanTag.Strip(frame);
            VlanTag.Insert(frame, 100);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(original, frame);
    }
}
