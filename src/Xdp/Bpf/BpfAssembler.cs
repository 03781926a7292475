using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp.Bpf;

/// <summary>Builds eBPF programs one readable instruction at a time.</summary>
/// <remarks>
/// Each method appends the instruction named after its assembler mnemonic; jumps take their
/// distance in slots after the jump itself, as the kernel does. <see cref="LoadMapFd"/> emits the
/// two-slot ld_imm64 with src = BPF_PSEUDO_MAP_FD, which the verifier turns into a map pointer.
/// </remarks>
public sealed class BpfAssembler
{
    private readonly List<BpfInstruction> _instructions = [];

    /// <summary>Instruction slots so far (ld_imm64 counts two).</summary>
    public int Count => _instructions.Count;

    /// <summary>The program.</summary>
    public BpfInstruction[] ToArray() => [.. _instructions];

    /// <summary>dst = imm (64-bit move, imm sign-extended).</summary>
    public BpfAssembler Mov64Imm(BpfRegister dst, int imm) => Emit(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);

    /// <summary>dst = src (64-bit move).</summary>
    public BpfAssembler Mov64Reg(BpfRegister dst, BpfRegister src) => Emit(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);

    /// <summary>dst += imm (64-bit).</summary>
    public BpfAssembler Add64Imm(BpfRegister dst, int imm) => Emit(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);

    /// <summary>dst = *(u32 *)(src + off).</summary>
    public BpfAssembler LoadMem32(BpfRegister dst, BpfRegister src, short off) => Emit(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);

    /// <summary>dst = *(u64 *)(src + off).</summary>
    public BpfAssembler LoadMem64(BpfRegister dst, BpfRegister src, short off) => Emit(BPF_LDX | BPF_MEM | BPF_DW, dst, src, off, 0);

    /// <summary>*(u32 *)(dst + off) = src.</summary>
    public BpfAssembler StoreMem32(BpfRegister dst, short off, BpfRegister src) => Emit(BPF_STX | BPF_MEM | BPF_W, dst, src, off, 0);

    /// <summary>*(u32 *)(dst + off) = imm.</summary>
    public BpfAssembler StoreImm32(BpfRegister dst, short off, int imm) => Emit(BPF_ST | BPF_MEM | BPF_W, dst, 0, off, imm);

    /// <summary>dst = 64-bit immediate (ld_imm64, two slots).</summary>
    public BpfAssembler LoadImm64(BpfRegister dst, long imm)
    {
        Emit(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (int)imm);
        return Emit(0, 0, 0, 0, (int)(imm >> 32));
    }

    /// <summary>dst = the map whose fd is <paramref name="mapFd"/> (ld_imm64 with BPF_PSEUDO_MAP_FD, two slots).</summary>
    public BpfAssembler LoadMapFd(BpfRegister dst, int mapFd)
    {
        _instructions.Add(new BpfInstruction(BPF_LD | BPF_DW | BPF_IMM, (byte)dst, BPF_PSEUDO_MAP_FD, 0, mapFd));
        return Emit(0, 0, 0, 0, 0);
    }

    /// <summary>Jump <paramref name="off"/> slots forward (negative: back) unconditionally.</summary>
    public BpfAssembler Jump(short off) => Emit(BPF_JMP | BPF_JA, 0, 0, off, 0);

    /// <summary>if dst == imm, jump <paramref name="off"/> slots.</summary>
    public BpfAssembler JumpIfEqual(BpfRegister dst, int imm, short off) => Emit(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm);

    /// <summary>if dst != imm, jump <paramref name="off"/> slots.</summary>
    public BpfAssembler JumpIfNotEqual(BpfRegister dst, int imm, short off) => Emit(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm);

    /// <summary>r0 = helper(r1, ..., r5).</summary>
    public BpfAssembler Call(BpfHelper helper) => Emit(BPF_JMP | BPF_CALL, 0, 0, 0, (int)helper);

    /// <summary>Return r0.</summary>
    public BpfAssembler Exit() => Emit(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

    private BpfAssembler Emit(int code, BpfRegister dst, BpfRegister src, short off, int imm)
    {
        _instructions.Add(new BpfInstruction((byte)code, (byte)dst, (byte)src, off, imm));
        return this;
    }
}
