using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Interop;

// include/uapi/linux/ethtool.h, sockios.h, if.h
internal static unsafe partial class Kernel
{
    internal const ulong SIOCETHTOOL = 0x8946;
    internal const uint ETHTOOL_GCHANNELS = 0x0000003c;
    internal const uint ETHTOOL_GFLAGS = 0x00000025;
    internal const uint ETHTOOL_GGRO = 0x0000002b;
    internal const uint ETHTOOL_SGRO = 0x0000002c;
    internal const uint ETH_FLAG_LRO = 1u << 15;
    internal const int IFNAMSIZ = 16;

    /// <summary>struct ethtool_channels: queue counts for ETHTOOL_GCHANNELS.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct EthtoolChannels
    {
        public uint Cmd;                // __u32 cmd
        public uint MaxRx;              // __u32 max_rx
        public uint MaxTx;              // __u32 max_tx
        public uint MaxOther;           // __u32 max_other
        public uint MaxCombined;        // __u32 max_combined
        public uint RxCount;            // __u32 rx_count
        public uint TxCount;            // __u32 tx_count
        public uint OtherCount;         // __u32 other_count
        public uint CombinedCount;      // __u32 combined_count
    }

    /// <summary>struct ethtool_value: one flag word, for ETHTOOL_GGRO/SGRO and ETHTOOL_GFLAGS.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct EthtoolValue
    {
        public uint Cmd;                // __u32 cmd
        public uint Data;               // __u32 data
    }

    /// <summary>struct ifreq with the ifr_data member of its union (40 bytes on 64-bit).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    internal struct Ifreq
    {
        public fixed byte IfrName[16];  // char ifr_name[IFNAMSIZ]
        public nint IfrData;            // void *ifr_data (in union ifr_ifru)
    }
}
