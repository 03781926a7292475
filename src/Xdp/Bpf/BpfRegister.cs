namespace XdpStack.Xdp.Bpf;

/// <summary>The eBPF registers: r0 return value, r1-r5 arguments, r6-r9 callee-saved, r10 frame pointer.</summary>
public enum BpfRegister : byte
{
    R0 = 0,
    R1 = 1,
    R2 = 2,
    R3 = 3,
    R4 = 4,
    R5 = 5,
    R6 = 6,
    R7 = 7,
    R8 = 8,
    R9 = 9,
    R10 = 10,
}
