using System.Text;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp.Bpf;

/// <summary>A BPF program loaded with bpf(BPF_PROG_LOAD), owned through its file descriptor.</summary>
public sealed unsafe class BpfProgram : IDisposable
{
    private const int LogSize = 1 << 20;
    private int _fd;

    private BpfProgram(int fd, uint type, string name, int instructionCount)
    {
        _fd = fd;
        Type = type;
        Name = name;
        InstructionCount = instructionCount;
        Id = BpfObjectInfo.GetId(fd, "program");
    }

    /// <summary>The program's file descriptor.</summary>
    public int Fd => _fd;

    /// <summary>The program type (enum bpf_prog_type).</summary>
    public uint Type { get; }

    public string Name { get; }

    /// <summary>Instruction slots loaded.</summary>
    public int InstructionCount { get; }

    /// <summary>The kernel's id for the program (what IFLA_XDP_PROG_ID and bpftool show).</summary>
    public uint Id { get; }

    /// <summary>Loads an XDP program; <paramref name="hasFrags"/> sets BPF_F_XDP_HAS_FRAGS (the program understands multi-buffer frames).</summary>
    /// <exception cref="XdpException">The verifier rejected the program; the message carries its log.</exception>
    public static BpfProgram LoadXdp(ReadOnlySpan<BpfInstruction> instructions, string name, string license = "Dual MIT/GPL", bool hasFrags = false) =>
        Load(BPF_PROG_TYPE_XDP, instructions, name, license, BPF_XDP, hasFrags ? BPF_F_XDP_HAS_FRAGS : 0);

    /// <summary>Loads a program of any type.</summary>
    public static BpfProgram Load(uint type, ReadOnlySpan<BpfInstruction> instructions, string name, string license,
        uint expectedAttachType = 0, uint flags = 0)
    {
        if (instructions.IsEmpty)
            throw new ArgumentException("a program needs at least one instruction", nameof(instructions));
        byte[] licenseBytes = Encoding.ASCII.GetBytes(license + "\0");
        // First without a log (cheaper); on failure again with the verifier log to explain why.
        int fd = TryLoad(type, instructions, name, licenseBytes, expectedAttachType, flags, null, out int errno);
        if (fd >= 0)
            return Wrap(fd, type, name, instructions.Length);

        byte[] log = new byte[LogSize];
        fd = TryLoad(type, instructions, name, licenseBytes, expectedAttachType, flags, log, out int errnoWithLog);
        if (fd >= 0)
            return Wrap(fd, type, name, instructions.Length);
        int end = Array.IndexOf(log, (byte)0);
        string text = Encoding.ASCII.GetString(log, 0, end < 0 ? log.Length : end).Trim();
        throw new XdpException($"bpf(BPF_PROG_LOAD, {name})", errnoWithLog != 0 ? errnoWithLog : errno,
            text.Length == 0 ? null : "verifier log:\n" + text);
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            close(_fd);
            _fd = -1;
        }
    }

    private static BpfProgram Wrap(int fd, uint type, string name, int count)
    {
        try
        {
            return new BpfProgram(fd, type, name, count);
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    private static int TryLoad(uint type, ReadOnlySpan<BpfInstruction> instructions, string name, byte[] license,
        uint expectedAttachType, uint flags, byte[]? log, out int errno)
    {
        fixed (BpfInstruction* insns = instructions)
        fixed (byte* lic = license)
        fixed (byte* logBuffer = log)
        {
            var attr = new BpfAttrProgLoad
            {
                ProgType = type,
                InsnCnt = (uint)instructions.Length,
                Insns = (ulong)insns,
                License = (ulong)lic,
                LogLevel = log is null ? 0u : 1u,
                LogSize = log is null ? 0u : (uint)log.Length,
                LogBuf = (ulong)logBuffer,
                ProgFlags = flags,
                ExpectedAttachType = expectedAttachType,
            };
            BpfMap.WriteName(name, attr.ProgName);
            int fd = bpf(BPF_PROG_LOAD, &attr, sizeof(BpfAttrProgLoad));
            errno = fd < 0 ? Errno : 0;
            return fd;
        }
    }
}
