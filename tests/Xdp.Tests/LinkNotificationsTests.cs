using System.Buffers.Binary;
using CsCheck;
using XdpStack.Xdp;
using XdpStack.Xdp.Tests.Lab;

namespace XdpStack.Xdp.Tests;

public sealed class LinkNotificationsTests
{
    private const ushort RtmNewLink = 16, RtmDelLink = 17, RtmNewRoute = 24;

    private static byte[] Message(ushort type, int ifIndex, uint flags, int attributes = 0)
    {
        byte[] m = new byte[32 + attributes];
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)m.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), type);
        BinaryPrimitives.WriteInt32LittleEndian(m.AsSpan(20), ifIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(24), flags);
        return m;
    }

    [Fact]
    public void Parse_NewAndDeletedLinks_FlagsAndIndexes()
    {
        // IFF_UP | IFF_RUNNING, IFF_UP alone (no carrier), a route message (skipped), a deletion; with a padded length.
        byte[] batch = [.. Message(RtmNewLink, 7, 0x41), .. Message(RtmNewLink, 8, 0x1, attributes: 6), 0, 0, .. Message(RtmNewRoute, 9, 0x41), .. Message(RtmDelLink, 7, 0x41)];
        var states = new List<LinkState>();
        Assert.Equal(3, LinkNotifications.Parse(batch, states));
        Assert.Equal(new LinkState(7, AdminUp: true, Running: true, Deleted: false), states[0]);
        Assert.True(states[0].CanForward);
        Assert.Equal(new LinkState(8, AdminUp: true, Running: false, Deleted: false), states[1]);
        Assert.False(states[1].CanForward);
        Assert.Equal(new LinkState(7, AdminUp: true, Running: true, Deleted: true), states[2]);
        Assert.False(states[2].CanForward);
    }

    [Fact]
    public void Parse_AnyBytes_NeverThrowsNorReadsPastTheEnd() =>
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var states = new List<LinkState>();
            int added = LinkNotifications.Parse(bytes, states);
            Assert.Equal(states.Count, added);
            Assert.True(added <= bytes.Length / 32);
        });

    [Fact]
    [Trait("Category", "Root")]
    public void Read_LinkSetDownThenDeleted_BothReported()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            using var notifications = new LinkNotifications();
            int ifIndex = NetDevice.Open(lab.Link.LocalName).IfIndex;
            lab.Local.Ip("link", "set", lab.Link.LocalName, "down");
            var states = new List<LinkState>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!states.Exists(s => s.IfIndex == ifIndex && !s.AdminUp) && clock.Elapsed < TimeSpan.FromSeconds(5))
                notifications.Read(200, states);
            Assert.Contains(states, s => s.IfIndex == ifIndex && !s.AdminUp && !s.Deleted);
            lab.Local.Ip("link", "del", lab.Link.LocalName);
            while (!states.Exists(s => s.IfIndex == ifIndex && s.Deleted) && clock.Elapsed < TimeSpan.FromSeconds(10))
                notifications.Read(200, states);
            Assert.Contains(states, s => s.IfIndex == ifIndex && s.Deleted);
            // A dump reports the links that are left (the namespace's loopback is ifindex 1), through the same socket.
            states.Clear();
            notifications.RequestDump();
            while (!states.Exists(s => s.IfIndex == 1) && clock.Elapsed < TimeSpan.FromSeconds(15))
                notifications.Read(200, states);
            Assert.Contains(states, s => s.IfIndex == 1 && !s.Deleted);
            Assert.DoesNotContain(states, s => s.IfIndex == ifIndex);
        }
    }
}
