using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using XdpStack.Xdp.Tests.Lab;

namespace XdpStack.Xdp.Tests;

[Trait("Category", "Root")]
public sealed class TapDeviceTests
{
    private static readonly byte[] Mac = [0x02, 0x00, 0x00, 0x00, 0x05, 0x01];
    private static readonly byte[] PeerMac = [0x02, 0x00, 0x00, 0x00, 0x05, 0x99];

    [Fact]
    public void Create_HasMacMtuAddressesAndIsUp_AddressesChange_GoneAfterDispose()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            var tap = TapDevice.Create("xt0", Mac, 1400);
            try
            {
                string link = lab.Local.Ip("-o", "link", "show", "dev", "xt0");
                Assert.StartsWith(tap.IfIndex + ": xt0:", link);
                Assert.Contains("mtu 1400", link);
                Assert.Contains("UP", link);
                Assert.Contains(VethLab.FormatMac(Mac), link);

                tap.AddAddress(IPAddress.Parse("198.18.5.1"), 24);
                // The lab's namespace turns IPv6 off on new devices; the kernel refuses IPv6 addresses then (checked below).
                Assert.Contains("IPv6 is disabled", Assert.Throws<XdpException>(() => tap.AddAddress(IPAddress.Parse("2001:2:0:5::1"), 64)).Message);
                lab.Local.Check("sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/xt0/disable_ipv6");
                tap.AddAddress(IPAddress.Parse("2001:2:0:5::1"), 64);
                string addresses = lab.Local.Ip("addr", "show", "dev", "xt0");
                Assert.Contains("inet 198.18.5.1/24", addresses);
                Assert.Contains("inet6 2001:2:0:5::1/64", addresses);
                // Ours skips duplicate address detection; the kernel's own fe80:: may still be tentative.
                Assert.DoesNotContain("tentative", addresses.Split('\n').Single(l => l.Contains("2001:2:0:5::1", StringComparison.Ordinal)));

                tap.RemoveAddress(IPAddress.Parse("198.18.5.1"), 24);
                Assert.DoesNotContain("198.18.5.1", lab.Local.Ip("addr", "show", "dev", "xt0"));
            }
            finally
            {
                tap.Dispose();
            }
            Assert.NotEqual(0, lab.Local.Run("ip", "link", "show", "dev", "xt0").ExitCode);
        }
    }

    [Fact]
    public void TryWriteTryRead_KernelAnswersAnArpRequestWrittenToTheTap()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            using var tap = TapDevice.Create("xt0", Mac, 1500);
            tap.AddAddress(IPAddress.Parse("198.18.5.1"), 24);
            byte[] request = new byte[42];
            Mac.CopyTo(request, 0);
            PeerMac.CopyTo(request, 6);
            BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(12), 0x0806);
            // Ethernet, IPv4, lengths 6 and 4, request; sender 198.18.5.2 at PeerMac, target 198.18.5.1.
            new byte[] { 0, 1, 8, 0, 6, 4, 0, 1 }.CopyTo(request, 14);
            PeerMac.CopyTo(request, 22);
            new byte[] { 198, 18, 5, 2 }.CopyTo(request, 28);
            new byte[] { 198, 18, 5, 1 }.CopyTo(request, 38);
            Assert.True(tap.TryWrite(request));

            byte[] buffer = new byte[2048];
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                if (!tap.TryRead(buffer, out int length))
                {
                    Thread.Sleep(10);
                    continue;
                }
                // Router solicitations and MLD reports may come first; the ARP reply is what this waits for.
                if (length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(12)) == 0x0806 && buffer[21] == 2)
                {
                    Assert.Equal(PeerMac, buffer.AsSpan(0, 6).ToArray());
                    Assert.Equal(Mac, buffer.AsSpan(22, 6).ToArray());
                    return;
                }
            }
            Assert.Fail("the kernel did not answer the ARP request written to the TAP");
        }
    }

    [Fact]
    public void Create_StaleUnheldTapReplaced_HeldTapAndNonTapRefused()
    {
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            lab.Local.Ip("tuntap", "add", "dev", "xt1", "mode", "tap");
            int stale = int.Parse(lab.Local.Ip("-o", "link", "show", "dev", "xt1").Split(':')[0]);
            using var tap = TapDevice.Create("xt1", Mac, 1500);
            Assert.NotEqual(stale, tap.IfIndex);

            XdpException held = Assert.Throws<XdpException>(() => TapDevice.Create("xt1", Mac, 1500));
            Assert.Contains("another process holds it", held.Message);
            XdpException veth = Assert.Throws<XdpException>(() => TapDevice.Create(lab.Link.LocalName, Mac, 1500));
            Assert.Contains("not a TAP device", veth.Message);
            Assert.Equal(0, lab.Local.Run("ip", "link", "show", "dev", lab.Link.LocalName).ExitCode);
        }
        // The replaced TAP was not made persistent again: disposing it removes it.
    }
}
