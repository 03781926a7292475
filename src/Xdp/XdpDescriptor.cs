using System.Runtime.InteropServices;

namespace XdpStack.Xdp;

/// <summary>An RX or TX ring entry (struct xdp_desc): where a frame sits in the UMEM and how long it is.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct XdpDescriptor
{
    /// <summary>Options bit XDP_PKT_CONTD: more descriptors of the same packet follow (multi-buffer, <see cref="XskSocketOptions.MultiBuffer"/>).</summary>
    public const uint PacketContinues = 1;

    /// <summary>UMEM offset of the first byte of the frame (past the headroom on RX).</summary>
    public ulong Address;   // __u64 addr

    /// <summary>Frame length in bytes.</summary>
    public uint Length;     // __u32 len

    /// <summary>XDP_PKT_CONTD and XDP_TX_METADATA bits; 0 for single-buffer frames.</summary>
    public uint Options;    // __u32 options

    public XdpDescriptor(ulong address, uint length, uint options = 0)
    {
        Address = address;
        Length = length;
        Options = options;
    }
}
