using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Bpf;

/// <summary>One eBPF instruction slot (struct bpf_insn): opcode, registers, offset and immediate.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfInstruction
{
    private readonly byte _code;        // __u8 code
    private readonly byte _registers;   // __u8 dst_reg:4, src_reg:4 (dst in the low nibble)
    private readonly short _offset;     // __s16 off
    private readonly int _immediate;    // __s32 imm

    public BpfInstruction(byte code, byte destination, byte source, short offset, int immediate)
    {
        if (destination > 10 || source > 10)
            throw new ArgumentOutOfRangeException(nameof(destination), "eBPF registers are r0..r10");
        _code = code;
        _registers = (byte)(destination | (source << 4));
        _offset = offset;
        _immediate = immediate;
    }

    /// <summary>The opcode: class | size/op | mode/source.</summary>
    public byte Code => _code;

    /// <summary>The destination register number.</summary>
    public byte Destination => (byte)(_registers & 0x0f);

    /// <summary>The source register number (or a pseudo value such as BPF_PSEUDO_MAP_FD for ld_imm64).</summary>
    public byte Source => (byte)(_registers >> 4);

    /// <summary>The signed 16-bit offset (memory displacement or jump distance in slots).</summary>
    public short Offset => _offset;

    /// <summary>The signed 32-bit immediate.</summary>
    public int Immediate => _immediate;

    /// <summary>The instruction as the 8 little-endian bytes the kernel reads.</summary>
    public ulong Raw => _code | ((ulong)_registers << 8) | ((ulong)(ushort)_offset << 16) | ((ulong)(uint)_immediate << 32);

    /// <summary>Reads an instruction from its 8-byte encoding.</summary>
    public static BpfInstruction FromRaw(ulong raw)
    {
        byte registers = (byte)(raw >> 8);
        return new BpfInstruction((byte)raw, (byte)(registers & 0x0f), (byte)(registers >> 4), (short)(raw >> 16), (int)(raw >> 32));
    }

    public override string ToString() => $"{Code:x2} {Source:x}{Destination:x} {(ushort)Offset:x4} {(uint)Immediate:x8}";
}
