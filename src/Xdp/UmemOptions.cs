namespace XdpStack.Xdp;

/// <summary>Size and backing of a <see cref="Umem"/>.</summary>
public sealed class UmemOptions
{
    /// <summary>Bytes per frame (the kernel's chunk size): 2048 or 4096.</summary>
    public int FrameSize { get; init; } = 4096;

    /// <summary>Number of frames.</summary>
    public int FrameCount { get; init; } = 4096;

    /// <summary>Bytes the kernel leaves free in front of each received frame, beyond its own 256 (XDP_PACKET_HEADROOM).</summary>
    public int Headroom { get; init; }

    /// <summary>Frames at the end of the area kept out of <see cref="Umem.Frames"/>: the application's own scratch space, addressable by UMEM offset like any frame (jumbo frames are gathered there).</summary>
    public int ReservedFrames { get; init; }

    /// <summary>Back the area with huge pages (MAP_HUGETLB) when the system has them; falls back to normal pages.</summary>
    public bool HugePages { get; init; }
}
