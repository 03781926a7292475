using XdpStack.Xdp.Tests.Lab;

namespace XdpStack.Xdp.Tests;

[Trait("Category", "Root")]
public sealed class NetDeviceTests
{
    [Fact]
    public void Open_Veth_ReportsWhatIpReports()
    {
        using var lab = new VethLab();
        lab.Local.Ip("link", "set", "dev", lab.Link.LocalName, "mtu", "1400");
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(lab.Link.LocalName);
            Assert.Equal(lab.Link.LocalName, device.Name);
            Assert.Equal(lab.Link.LocalMac, device.Mac.ToArray());
            Assert.Equal(lab.Link.LocalMac, device.MacAddress);
            Assert.Equal(VethLab.FormatMac(lab.Link.LocalMac), device.MacString);
            Assert.Equal(1400, device.Mtu);
            string ipLink = lab.Local.Ip("-o", "link", "show", "dev", lab.Link.LocalName);
            Assert.StartsWith(device.IfIndex + ":", ipLink);
            // veth implements ETHTOOL_GCHANNELS: one RX and one TX queue, no combined ones.
            Assert.True(device.QueueCountsFromEthtool);
            Assert.Equal(1, device.RxQueueCount);
            Assert.Equal(1, device.TxQueueCount);
            Assert.Equal(0, device.CombinedQueueCount);
            Assert.Equal(1, device.QueueCount);
            Assert.Equal(0u, device.XdpProgramId);
            Assert.Null(device.XdpMode);
        }
    }

    [Fact]
    public void Open_Loopback_FallsBackToNetlinkQueueCounts()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            NetDevice lo = NetDevice.Open("lo");
            Assert.Equal(1, lo.IfIndex);
            Assert.False(lo.QueueCountsFromEthtool);    // loopback has no get_channels
            Assert.True(lo.QueueCount >= 1);
        }
    }

    [Fact]
    public void Open_UnknownInterface_ThrowsNoSuchInterface()
    {
        XdpException e = Assert.Throws<XdpException>(() => NetDevice.Open("xdpnope0"));
        Assert.Equal("no such interface: xdpnope0", e.Message);
        e = Assert.Throws<XdpException>(() => NetDevice.Open("a-name-longer-than-15"));
        Assert.StartsWith("no such interface: a-name-longer-than-15", e.Message);
    }

    [Fact]
    public void Open_InsideNamespace_DoesNotSeeHostInterfaces()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
            Assert.Throws<XdpException>(() => NetDevice.Open("eth0"));
    }
}
