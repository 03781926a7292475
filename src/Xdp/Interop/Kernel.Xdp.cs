using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Interop;

// include/uapi/linux/if_xdp.h
internal static unsafe partial class Kernel
{
    internal const int AF_XDP = 44;
    internal const int SOL_XDP = 283;

    // setsockopt/getsockopt option names at SOL_XDP.
    internal const int XDP_MMAP_OFFSETS = 1;
    internal const int XDP_RX_RING = 2;
    internal const int XDP_TX_RING = 3;
    internal const int XDP_UMEM_REG = 4;
    internal const int XDP_UMEM_FILL_RING = 5;
    internal const int XDP_UMEM_COMPLETION_RING = 6;
    internal const int XDP_STATISTICS = 7;
    internal const int XDP_OPTIONS = 8;
    internal const int XDP_MAX_TX_SKB_BUDGET = 9;      // kernel 6.17+

    internal const uint XDP_OPTIONS_ZEROCOPY = 1 << 0;

    // sockaddr_xdp.sxdp_flags
    internal const ushort XDP_SHARED_UMEM = 1 << 0;
    internal const ushort XDP_COPY = 1 << 1;
    internal const ushort XDP_ZEROCOPY = 1 << 2;
    internal const ushort XDP_USE_NEED_WAKEUP = 1 << 3;
    internal const ushort XDP_USE_SG = 1 << 4;          // kernel 6.6+

    // xdp_umem_reg.flags
    internal const uint XDP_UMEM_UNALIGNED_CHUNK_FLAG = 1 << 0;
    internal const uint XDP_UMEM_TX_SW_CSUM = 1 << 1;        // kernel 6.11+
    internal const uint XDP_UMEM_TX_METADATA_LEN = 1 << 2;   // kernel 6.11+

    // Flags word of the fill and TX rings.
    internal const uint XDP_RING_NEED_WAKEUP = 1 << 0;

    // mmap offsets of the four rings.
    internal const long XDP_PGOFF_RX_RING = 0;
    internal const long XDP_PGOFF_TX_RING = 0x80000000;
    internal const long XDP_UMEM_PGOFF_FILL_RING = 0x100000000;
    internal const long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000;

    // xdp_desc.options
    internal const uint XDP_PKT_CONTD = 1 << 0;      // kernel 6.6+
    internal const uint XDP_TX_METADATA = 1 << 1;    // kernel 6.8+

    // include/uapi/linux/bpf.h: the headroom the kernel keeps before every received frame.
    internal const int XDP_PACKET_HEADROOM = 256;

    /// <summary>struct sockaddr_xdp: the address an AF_XDP socket binds to.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SockaddrXdp
    {
        public ushort SxdpFamily;       // __u16 sxdp_family
        public ushort SxdpFlags;        // __u16 sxdp_flags
        public uint SxdpIfindex;        // __u32 sxdp_ifindex
        public uint SxdpQueueId;        // __u32 sxdp_queue_id
        public uint SxdpSharedUmemFd;   // __u32 sxdp_shared_umem_fd
    }

    /// <summary>struct xdp_umem_reg, in its 32-byte form (tx_metadata_len since 6.8).</summary>
    /// <remarks>
    /// Always zero the whole struct: kernels that read the 32-byte form take padding garbage as
    /// tx_metadata_len (fixed in 2024 to need XDP_UMEM_TX_METADATA_LEN).
    /// </remarks>
    [StructLayout(LayoutKind.Sequential)]
    internal struct XdpUmemReg
    {
        public ulong Addr;              // __u64 addr
        public ulong Len;               // __u64 len
        public uint ChunkSize;          // __u32 chunk_size
        public uint Headroom;           // __u32 headroom
        public uint Flags;              // __u32 flags
        public uint TxMetadataLen;      // __u32 tx_metadata_len
    }

    /// <summary>struct xdp_ring_offset: where producer, consumer, descriptors and flags sit in a ring mapping.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct XdpRingOffset
    {
        public ulong Producer;          // __u64 producer
        public ulong Consumer;          // __u64 consumer
        public ulong Desc;              // __u64 desc
        public ulong Flags;             // __u64 flags
    }

    /// <summary>struct xdp_mmap_offsets: the layout of all four rings.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct XdpMmapOffsets
    {
        public XdpRingOffset Rx;        // struct xdp_ring_offset rx
        public XdpRingOffset Tx;        // struct xdp_ring_offset tx
        public XdpRingOffset Fr;        // struct xdp_ring_offset fr
        public XdpRingOffset Cr;        // struct xdp_ring_offset cr
    }

    /// <summary>struct xdp_ring_offset_v1: the form kernels up to 5.3 return, without flags.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct XdpRingOffsetV1
    {
        public ulong Producer;          // __u64 producer
        public ulong Consumer;          // __u64 consumer
        public ulong Desc;              // __u64 desc
    }

    /// <summary>struct xdp_statistics.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct XdpStatisticsRaw
    {
        public ulong RxDropped;             // __u64 rx_dropped
        public ulong RxInvalidDescs;        // __u64 rx_invalid_descs
        public ulong TxInvalidDescs;        // __u64 tx_invalid_descs
        public ulong RxRingFull;            // __u64 rx_ring_full
        public ulong RxFillRingEmptyDescs;  // __u64 rx_fill_ring_empty_descs
        public ulong TxRingEmptyDescs;      // __u64 tx_ring_empty_descs
    }

    /// <summary>struct xdp_options.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct XdpOptions
    {
        public uint Flags;              // __u32 flags
    }
}
