using System.Net.Sockets;
using System.Runtime.InteropServices;
using XdpStack.Xdp.Bpf;
using XdpStack.Xdp.Tests.Lab;

namespace XdpStack.Xdp.Tests;

[Trait("Category", "Root")]
public sealed partial class XskRedirectProgramTests
{
    [Theory]
    [InlineData(XdpAttachMode.Auto, XdpAttachMode.Native)]
    [InlineData(XdpAttachMode.Native, XdpAttachMode.Native)]
    [InlineData(XdpAttachMode.Generic, XdpAttachMode.Generic)]
    public void Attach_Mode_RedirectsAndLeavesNothingAfterDispose(XdpAttachMode asked, XdpAttachMode expected)
    {
        using var lab = new VethLab();
        VethLink link = lab.Link;
        using Socket sender = VethLab.UdpSocket(link.Peer, link.PeerAddress, 0);
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 1024 });
            using XskSocket xsk = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 512 });
            using (XskRedirectProgram program = XskRedirectProgram.Attach(device, asked))
            {
                Assert.Equal(expected, program.AttachedMode);
                Assert.False(program.Link.UsesNetlink);
                Assert.NotEqual(0u, program.Link.LinkId);
                Assert.Equal(program.ProgramId, device.XdpProgramId);
                Assert.Equal(expected, device.XdpMode);
                string shown = lab.ShowLocal(link.LocalName);
                Assert.True(shown.Contains(expected == XdpAttachMode.Native ? " xdp " : " xdpgeneric ", StringComparison.Ordinal), shown);
                Assert.True(shown.Contains($"prog/xdp id {program.ProgramId} name xsk_redirect", StringComparison.Ordinal), shown);
                Assert.Equal(1, program.Map.MaxEntries);

                program.Register(0, xsk);
                var received = XskPump.SendFromPeerAndReceive(sender, link, xsk, umem, 50, _ => 32);
                Assert.Equal(50, received.Count);
            }
            Assert.Equal(0u, device.XdpProgramId);
            Assert.Null(device.XdpMode);
            Assert.DoesNotContain("xdp", lab.ShowLocal(link.LocalName));
        }
    }

    [Fact]
    public void AttachNetlink_ProgramVisibleThenDetachedOnDispose()
    {
        using var lab = new VethLab();
        VethLink link = lab.Link;
        using Socket sender = VethLab.UdpSocket(link.Peer, link.PeerAddress, 0);
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 1024 });
            using XskSocket xsk = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 512 });
            using BpfMap map = BpfMap.CreateXskMap(device.QueueCount);
            using BpfProgram program = BpfProgram.LoadXdp(XskRedirectProgram.Assemble(map.Fd), "xsk_nl");
            using (BpfLink attached = BpfLink.AttachXdpNetlink(program, device, XdpAttachMode.Native))
            {
                Assert.True(attached.UsesNetlink);
                Assert.Equal(program.Id, device.XdpProgramId);
                Assert.Equal(XdpAttachMode.Native, device.XdpMode);
                map.Update(0, (uint)xsk.Fd);
                Assert.Equal(20, XskPump.SendFromPeerAndReceive(sender, link, xsk, umem, 20, _ => 40).Count);

                // A second program in the same mode is refused, not silently swapped in.
                using BpfProgram other = BpfProgram.LoadXdp(XskRedirectProgram.Assemble(map.Fd), "xsk_other");
                XdpException e = Assert.Throws<XdpException>(() => BpfLink.AttachXdp(other, device, XdpAttachMode.Native));
                Assert.Contains("already attached", e.Message);
            }
            Assert.Equal(0u, device.XdpProgramId);
            Assert.DoesNotContain("xdp", lab.ShowLocal(link.LocalName));
        }
    }

    [Fact]
    public void Register_SocketOfAnotherQueue_Throws()
    {
        using var lab = new VethLab(peers: 2);
        using (lab.Local.Enter())
        {
            NetDevice a = NetDevice.Open(lab.Links[0].LocalName), b = NetDevice.Open(lab.Links[1].LocalName);
            using var umem = new Umem(new UmemOptions { FrameCount = 512 });
            using XskSocket onB = XskSocket.Create(b, 0, umem, new XskSocketOptions { FillRingSize = 256 });
            using XskRedirectProgram program = XskRedirectProgram.Attach(a);
            Assert.Throws<ArgumentException>(() => program.Register(0, onB));
            program.Unregister(0);  // XSKMAP deletes of an empty slot succeed
        }
    }

    [Fact]
    public void Dispose_WhileAnotherFdHoldsTheLink_StillDetaches()
    {
        // A child forked by another thread holds copies of our fds until it execs; model it with a dup.
        using var lab = new VethLab();
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(lab.Link.LocalName);
            XskRedirectProgram program = XskRedirectProgram.Attach(device);
            int copy = fcntl(program.Link.Fd, 1030 /* F_DUPFD_CLOEXEC */, 0);
            Assert.True(copy >= 0);
            try
            {
                program.Dispose();
                Assert.Equal(0u, device.XdpProgramId);
                Assert.DoesNotContain("xdp", lab.ShowLocal(lab.Link.LocalName));
            }
            finally
            {
                close(copy);
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
