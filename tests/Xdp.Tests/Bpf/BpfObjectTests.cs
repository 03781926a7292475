using XdpStack.Xdp.Bpf;

namespace XdpStack.Xdp.Tests.Bpf;

[Trait("Category", "Root")]
public sealed class BpfObjectTests
{
    [Fact]
    public void LoadXdp_VerifierRejects_MessageCarriesTheLog()
    {
        // r0 is read before it is written: the verifier says "R0 !read_ok".
        BpfInstruction[] bad = new BpfAssembler().Exit().ToArray();
        XdpException e = Assert.Throws<XdpException>(() => BpfProgram.LoadXdp(bad, "bad"));
        Assert.StartsWith("bpf(BPF_PROG_LOAD, bad) failed: EACCES (", e.Message);
        Assert.Contains("verifier log:", e.Message);
        Assert.Contains("R0 !read_ok", e.Message);
    }

    [Fact]
    public void LoadXdp_ValidProgram_GetsAnId()
    {
        using BpfProgram p = BpfProgram.LoadXdp(new BpfAssembler().Mov64Imm(BpfRegister.R0, 2).Exit().ToArray(), "pass_all");
        Assert.True(p.Fd > 0);
        Assert.NotEqual(0u, p.Id);
        Assert.Equal(2, p.InstructionCount);
    }

    [Fact]
    public void ArrayMap_UpdateLookupDelete_RoundTrip()
    {
        using BpfMap map = BpfMap.Create(2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 4, "test_array");
        Assert.NotEqual(0u, map.Id);
        map.Update(3, 0xdead);
        Assert.True(map.TryLookup(3, out uint value));
        Assert.Equal(0xdeadu, value);
        XdpException e = Assert.Throws<XdpException>(() => map.Update(4, 1));
        Assert.Equal("E2BIG", e.ErrnoName);
        Assert.Contains("test_array[4]", e.Message);
    }

    [Fact]
    public void XskMap_UpdateWithNonXskFd_IsRefused()
    {
        using BpfMap map = BpfMap.CreateXskMap(2);
        Assert.Equal(2, map.MaxEntries);
        XdpException e = Assert.Throws<XdpException>(() => map.Update(0, (uint)map.Fd));
        Assert.Contains("BPF_MAP_UPDATE_ELEM", e.Message);
    }
}
