using System.Net.Sockets;
using System.Runtime.InteropServices;
using XdpStack.Lab;
using XdpStack.Xdp.Bpf;
using XdpStack.Xdp.Tests.Lab;

namespace XdpStack.Xdp.Tests.Bpf;

/// <summary>bpf/xsk_redirect.bpf.c, built with clang, against the program we assemble ourselves.</summary>
[Trait("Category", "Root")]
public sealed class XskRedirectElfTests
{
    private static ElfBpfObject Build()
    {
        Assert.True(Shell.Exists("clang"), "clang is needed (apt-get install clang libbpf-dev)");
        string source = Path.Combine(RepositoryRoot(), "bpf", "xsk_redirect.bpf.c");
        string output = Path.Combine(Path.GetTempPath(), $"xsk_redirect-{Environment.ProcessId}-{Guid.NewGuid():n}.o");
        string arch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64";
        try
        {
            Shell.Check("clang", "-O2", "-target", "bpf", $"-I/usr/include/{arch}-linux-gnu", "-c", source, "-o", output);
            return ElfBpfObject.Read(output, "xdp");
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void ClangObject_HasOneMapRelocationAndLicense()
    {
        ElfBpfObject elf = Build();
        Assert.Equal("Dual MIT/GPL", elf.License);
        (int slot, string symbol) = Assert.Single(elf.Relocations);
        Assert.Equal("xsks_map", symbol);
        Assert.Equal(0x18, BpfInstruction.FromRaw(elf.Slots[slot]).Code);   // ld_imm64
    }

    [Fact]
    public void ClangObject_RelocatedForAMap_EncodesLikeTheAssembledProgram()
    {
        // clang -O2 produces the six slots of afxdp.md §2.6; so must BpfAssembler.
        ElfBpfObject elf = Build();
        BpfInstruction[] fromC = elf.Relocate(new Dictionary<string, int> { ["xsks_map"] = 42 });
        Assert.Equal(XskRedirectProgram.Assemble(42), fromC);
    }

    [Fact]
    public void BothPrograms_OnVeth_RedirectTheSameFrames()
    {
        const int count = 200;
        ElfBpfObject elf = Build();
        using var lab = new VethLab();
        VethLink link = lab.Link;
        using Socket sender = VethLab.UdpSocket(link.Peer, link.PeerAddress, 0);
        using (lab.Local.Enter())
        {
            NetDevice device = NetDevice.Open(link.LocalName);
            using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 2048 });
            using XskSocket xsk = XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 1024 });
            var results = new List<Dictionary<int, byte[]>>();
            foreach (Func<int, BpfInstruction[]> assemble in new Func<int, BpfInstruction[]>[]
            {
                XskRedirectProgram.Assemble,
                fd => elf.Relocate(new Dictionary<string, int> { ["xsks_map"] = fd }),
            })
            {
                using XskRedirectProgram program = XskRedirectProgram.Attach(device, XdpAttachMode.Native, assemble);
                program.Register(xsk);
                results.Add(XskPump.SendFromPeerAndReceive(sender, link, xsk, umem, count, i => 20 + i));
            }
            Assert.Equal(count, results[0].Count);
            Assert.Equal(count, results[1].Count);
            for (int i = 0; i < count; i++)
                Assert.Equal(results[0][i], results[1][i]);
            Assert.Equal(0u, device.XdpProgramId);
        }
    }

    private static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "XdpStack.sln")))
            dir = Path.GetDirectoryName(dir);
        return dir ?? throw new DirectoryNotFoundException("XdpStack.sln not found above " + AppContext.BaseDirectory);
    }
}
