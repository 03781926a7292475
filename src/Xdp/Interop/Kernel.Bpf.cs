using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Interop;

// include/uapi/linux/bpf.h. union bpf_attr is declared here one command at a time: each struct
// is the prefix of the union that command reads; the kernel zero-fills the rest.
internal static unsafe partial class Kernel
{
    // enum bpf_cmd
    internal const int BPF_MAP_CREATE = 0;
    internal const int BPF_MAP_LOOKUP_ELEM = 1;
    internal const int BPF_MAP_UPDATE_ELEM = 2;
    internal const int BPF_MAP_DELETE_ELEM = 3;
    internal const int BPF_PROG_LOAD = 5;
    internal const int BPF_OBJ_GET_INFO_BY_FD = 15;
    internal const int BPF_LINK_CREATE = 28;
    internal const int BPF_LINK_DETACH = 34;

    // enum bpf_map_type
    internal const uint BPF_MAP_TYPE_ARRAY = 2;
    internal const uint BPF_MAP_TYPE_XSKMAP = 17;

    // enum bpf_prog_type
    internal const uint BPF_PROG_TYPE_XDP = 6;

    // enum bpf_attach_type
    internal const uint BPF_XDP = 37;

    // BPF_MAP_UPDATE_ELEM flags
    internal const ulong BPF_ANY = 0;

    // BPF_PROG_LOAD prog_flags
    internal const uint BPF_F_XDP_HAS_FRAGS = 1 << 5;

    // ld_imm64 src_reg value: imm holds a map fd the verifier turns into a map pointer.
    internal const byte BPF_PSEUDO_MAP_FD = 1;

    // enum xdp_action
    internal const int XDP_ABORTED = 0;
    internal const int XDP_DROP = 1;
    internal const int XDP_PASS = 2;
    internal const int XDP_TX = 3;
    internal const int XDP_REDIRECT = 4;

    // Instruction classes, sizes, modes and operations (bpf_common.h, bpf.h).
    internal const byte BPF_LD = 0x00;
    internal const byte BPF_LDX = 0x01;
    internal const byte BPF_ST = 0x02;
    internal const byte BPF_STX = 0x03;
    internal const byte BPF_ALU = 0x04;
    internal const byte BPF_JMP = 0x05;
    internal const byte BPF_JMP32 = 0x06;
    internal const byte BPF_ALU64 = 0x07;
    internal const byte BPF_W = 0x00;
    internal const byte BPF_H = 0x08;
    internal const byte BPF_B = 0x10;
    internal const byte BPF_DW = 0x18;
    internal const byte BPF_IMM = 0x00;
    internal const byte BPF_MEM = 0x60;
    internal const byte BPF_K = 0x00;
    internal const byte BPF_X = 0x08;
    internal const byte BPF_ADD = 0x00;
    internal const byte BPF_SUB = 0x10;
    internal const byte BPF_AND = 0x50;
    internal const byte BPF_LSH = 0x60;
    internal const byte BPF_RSH = 0x70;
    internal const byte BPF_MOV = 0xb0;
    internal const byte BPF_JA = 0x00;
    internal const byte BPF_JEQ = 0x10;
    internal const byte BPF_JGT = 0x20;
    internal const byte BPF_JGE = 0x30;
    internal const byte BPF_JNE = 0x50;
    internal const byte BPF_CALL = 0x80;
    internal const byte BPF_EXIT = 0x90;

    // enum bpf_func_id
    internal const int BPF_FUNC_map_lookup_elem = 1;
    internal const int BPF_FUNC_redirect_map = 51;

    // Object name length (map_name, prog_name).
    internal const int BPF_OBJ_NAME_LEN = 16;

    /// <summary>The union bpf_attr prefix for BPF_MAP_CREATE.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfAttrMapCreate
    {
        public uint MapType;            // __u32 map_type
        public uint KeySize;            // __u32 key_size
        public uint ValueSize;          // __u32 value_size
        public uint MaxEntries;         // __u32 max_entries
        public uint MapFlags;           // __u32 map_flags
        public uint InnerMapFd;         // __u32 inner_map_fd
        public uint NumaNode;           // __u32 numa_node
        public fixed byte MapName[16];  // char map_name[BPF_OBJ_NAME_LEN]
        public uint MapIfindex;         // __u32 map_ifindex
    }

    /// <summary>The union bpf_attr prefix for BPF_MAP_*_ELEM.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfAttrMapElem
    {
        public uint MapFd;              // __u32 map_fd
        private readonly uint _pad;     // (alignment of the next __aligned_u64)
        public ulong Key;               // __aligned_u64 key
        public ulong Value;             // __aligned_u64 value (union with next_key)
        public ulong Flags;             // __u64 flags
    }

    /// <summary>The union bpf_attr prefix for BPF_PROG_LOAD.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfAttrProgLoad
    {
        public uint ProgType;           // __u32 prog_type
        public uint InsnCnt;            // __u32 insn_cnt
        public ulong Insns;             // __aligned_u64 insns
        public ulong License;           // __aligned_u64 license
        public uint LogLevel;           // __u32 log_level
        public uint LogSize;            // __u32 log_size
        public ulong LogBuf;            // __aligned_u64 log_buf
        public uint KernVersion;        // __u32 kern_version
        public uint ProgFlags;          // __u32 prog_flags
        public fixed byte ProgName[16]; // char prog_name[BPF_OBJ_NAME_LEN]
        public uint ProgIfindex;        // __u32 prog_ifindex
        public uint ExpectedAttachType; // __u32 expected_attach_type
    }

    /// <summary>The union bpf_attr prefix for BPF_OBJ_GET_INFO_BY_FD (the <c>info</c> member).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfAttrObjInfo
    {
        public uint BpfFd;              // __u32 bpf_fd
        public uint InfoLen;            // __u32 info_len
        public ulong Info;              // __aligned_u64 info
    }

    /// <summary>The union bpf_attr prefix for BPF_LINK_CREATE (the <c>link_create</c> member).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfAttrLinkCreate
    {
        public uint ProgFd;             // __u32 prog_fd
        public uint TargetIfindex;      // __u32 target_ifindex (union with target_fd)
        public uint AttachType;         // __u32 attach_type
        public uint Flags;              // __u32 flags
    }

    /// <summary>The union bpf_attr prefix for BPF_LINK_DETACH (the <c>link_detach</c> member).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfAttrLinkDetach
    {
        public uint LinkFd;             // __u32 link_fd
    }

    /// <summary>The leading fields of struct bpf_prog_info, struct bpf_map_info and struct bpf_link_info.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfObjInfoHead
    {
        public uint Type;               // __u32 type
        public uint Id;                 // __u32 id
    }

    /// <summary>bpf(2) has no libc wrapper; this is the raw syscall.</summary>
    internal static int bpf(int cmd, void* attr, int size)
    {
        long nr = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 321,
            Architecture.Arm64 => 280,
            _ => throw new PlatformNotSupportedException("bpf(2) syscall number unknown for " + RuntimeInformation.ProcessArchitecture),
        };
        return (int)syscall(nr, cmd, (long)attr, size);
    }
}
