namespace XdpStack.Xdp;

/// <summary>Ring sizes and modes for <see cref="XskSocket.Create"/>.</summary>
/// <remarks>
/// <see cref="Mode"/> and <see cref="NeedWakeup"/> apply to the socket that registers the UMEM;
/// a socket that shares it inherits them from the kernel (XDP_SHARED_UMEM takes no other flag).
/// </remarks>
public sealed class XskSocketOptions
{
    /// <summary>RX ring entries (power of two).</summary>
    public int RxRingSize { get; init; } = 2048;

    /// <summary>TX ring entries (power of two).</summary>
    public int TxRingSize { get; init; } = 2048;

    /// <summary>Fill ring entries (power of two); unused when the socket shares another's fill ring.</summary>
    public int FillRingSize { get; init; } = 2048;

    /// <summary>Completion ring entries (power of two); unused when the socket shares another's completion ring.</summary>
    public int CompletionRingSize { get; init; } = 2048;

    /// <summary>Frames moved from the UMEM's pool into the fill ring before bind; -1 means as many as the ring holds.</summary>
    /// <remarks>Drivers expect a full fill ring at bind, even for sockets that only transmit.</remarks>
    public int PrefillFrames { get; init; } = -1;

    /// <summary>Copy, zero-copy, or let the kernel choose.</summary>
    public XskBindMode Mode { get; init; } = XskBindMode.Auto;

    /// <summary>Ask for XDP_USE_NEED_WAKEUP, so the kernel says when it needs a syscall (default true).</summary>
    public bool NeedWakeup { get; init; } = true;

    /// <summary>Bind with XDP_USE_SG: a packet larger than a frame arrives, and may be sent, as a chain of descriptors marked <see cref="XdpDescriptor.PacketContinues"/> (kernel 6.6+; the XDP program must be loaded with frags support).</summary>
    /// <remarks>Like <see cref="Mode"/>, it is set by the socket that registers the UMEM; sockets sharing the UMEM inherit it.</remarks>
    public bool MultiBuffer { get; init; }

    /// <summary>Set SO_PREFER_BUSY_POLL, SO_BUSY_POLL and SO_BUSY_POLL_BUDGET on the socket.</summary>
    public bool BusyPoll { get; init; }

    /// <summary>Packets per busy-poll round (SO_BUSY_POLL_BUDGET).</summary>
    public int BusyPollBudget { get; init; } = 64;

    /// <summary>Busy-poll time in microseconds (SO_BUSY_POLL).</summary>
    public int BusyPollMicroseconds { get; init; } = 20;
}
