using XdpStack.Xdp.Bpf;

namespace XdpStack.Xdp.Tests.Bpf;

public sealed class BpfAssemblerTests
{
    [Fact]
    public void XskRedirect_EncodesTheSixSlotsOfTheReference()
    {
        // afxdp.md §2.6, byte for byte (map fd 7).
        ulong[] expected =
        [
            0x0000_0000_0010_1261, // r2 = *(u32 *)(r1 + 16)
            0x0000_0007_0000_1118, // r1 = map fd 7 (ld_imm64, src = BPF_PSEUDO_MAP_FD)
            0x0000_0000_0000_0000, //      second half
            0x0000_0002_0000_03b7, // r3 = XDP_PASS
            0x0000_0033_0000_0085, // call bpf_redirect_map (51)
            0x0000_0000_0000_0095, // exit
        ];
        Assert.Equal(expected, XskRedirectProgram.Assemble(7).Select(i => i.Raw));
    }

    [Fact]
    public void Instruction_RawRoundTrips()
    {
        var i = new BpfInstruction(0x61, 2, 1, -16, int.MinValue);
        Assert.Equal(2, i.Destination);
        Assert.Equal(1, i.Source);
        Assert.Equal(-16, i.Offset);
        Assert.Equal(int.MinValue, i.Immediate);
        Assert.Equal(i, BpfInstruction.FromRaw(i.Raw));
    }

    [Fact]
    public void Instruction_RegisterAboveR10_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BpfInstruction(0xb7, 11, 0, 0, 0));
    }

    [Fact]
    public void Assembler_OtherInstructions_EncodeAsTheKernelDefines()
    {
        BpfInstruction[] p = new BpfAssembler()
            .Mov64Reg(BpfRegister.R6, BpfRegister.R1)
            .Add64Imm(BpfRegister.R2, -4)
            .StoreMem32(BpfRegister.R10, -4, BpfRegister.R2)
            .StoreImm32(BpfRegister.R10, -8, 5)
            .LoadMem64(BpfRegister.R3, BpfRegister.R6, 8)
            .JumpIfEqual(BpfRegister.R0, 0, 2)
            .JumpIfNotEqual(BpfRegister.R0, 1, -3)
            .Jump(1)
            .LoadImm64(BpfRegister.R4, 0x1_2345_6789)
            .Call(BpfHelper.MapLookupElem)
            .Exit()
            .ToArray();
        Assert.Equal(12, p.Length);
        Assert.Equal(0xbf, p[0].Code);      // BPF_ALU64 | BPF_MOV | BPF_X
        Assert.Equal((6, 1), (p[0].Destination, p[0].Source));
        Assert.Equal(0x07, p[1].Code);      // BPF_ALU64 | BPF_ADD | BPF_K
        Assert.Equal(-4, p[1].Immediate);
        Assert.Equal(0x63, p[2].Code);      // BPF_STX | BPF_MEM | BPF_W
        Assert.Equal(0x62, p[3].Code);      // BPF_ST | BPF_MEM | BPF_W
        Assert.Equal(0x79, p[4].Code);      // BPF_LDX | BPF_MEM | BPF_DW
        Assert.Equal(0x15, p[5].Code);      // BPF_JMP | BPF_JEQ | BPF_K
        Assert.Equal(0x55, p[6].Code);      // BPF_JMP | BPF_JNE | BPF_K
        Assert.Equal(-3, p[6].Offset);
        Assert.Equal(0x05, p[7].Code);      // BPF_JMP | BPF_JA
        Assert.Equal(0x18, p[8].Code);      // BPF_LD | BPF_DW | BPF_IMM
        Assert.Equal(0x2345_6789, p[8].Immediate);
        Assert.Equal(1, p[9].Immediate);    // upper half
        Assert.Equal(0x85, p[10].Code);
        Assert.Equal(1, p[10].Immediate);
        Assert.Equal(0x95, p[11].Code);
    }
}
