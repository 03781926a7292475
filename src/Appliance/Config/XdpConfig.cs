using XdpStack.Appliance.Cli;

namespace XdpStack.Appliance.Config;

/// <summary>The <c>[xdp]</c> section: how the AF_XDP sockets, rings and UMEM are set up.</summary>
/// <param name="Mode">Copy, zero-copy, or whichever the driver offers.</param>
/// <param name="Attach">Native, generic, or whichever the driver offers.</param>
/// <param name="BusyPoll">Whether the sockets use preferred busy polling.</param>
/// <param name="ReplaceProgram">Whether another XDP program already on an interface may be replaced; otherwise start fails.</param>
/// <param name="RxRing">Descriptors in each RX ring (a power of two).</param>
/// <param name="TxRing">Descriptors in each TX ring (a power of two).</param>
/// <param name="FillRing">Descriptors in each fill ring (a power of two).</param>
/// <param name="CompletionRing">Descriptors in each completion ring (a power of two).</param>
/// <param name="FrameSize">Bytes per UMEM frame: 2048 or 4096.</param>
/// <param name="FramesPerWorker">Frames in each worker's UMEM.</param>
/// <param name="UmemHugePages">Whether the UMEM is mapped with huge pages.</param>
/// <param name="LpmHugePages">Whether the IPv4 LPM table asks for transparent huge pages (madvise).</param>
internal sealed record XdpConfig(
    CopyMode Mode,
    AttachMode Attach,
    bool BusyPoll,
    bool ReplaceProgram,
    int RxRing,
    int TxRing,
    int FillRing,
    int CompletionRing,
    int FrameSize,
    int FramesPerWorker,
    bool UmemHugePages,
    bool LpmHugePages)
{
    public const int MinRing = 64;
    public const int MaxRing = 65536;
    public const int MaxFramesPerWorker = 1 << 20;

    public static XdpConfig Default { get; } = new(
        Mode: CopyMode.Auto,
        Attach: AttachMode.Auto,
        BusyPoll: false,
        ReplaceProgram: false,
        RxRing: 2048,
        TxRing: 2048,
        FillRing: 4096,
        CompletionRing: 2048,
        FrameSize: 4096,
        FramesPerWorker: 16384,
        UmemHugePages: false,
        LpmHugePages: true);
}
