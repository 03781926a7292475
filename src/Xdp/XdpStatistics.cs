namespace XdpStack.Xdp;

/// <summary>The kernel's counters for one AF_XDP socket (struct xdp_statistics).</summary>
/// <param name="RxDropped">Frames dropped for reasons other than the ones below (no frame in the fill ring in copy mode, …).</param>
/// <param name="RxInvalidDescs">Fill-ring entries the kernel rejected.</param>
/// <param name="TxInvalidDescs">TX descriptors the kernel rejected (bad address or length).</param>
/// <param name="RxRingFull">Frames dropped because the RX ring was full: the application is not draining it.</param>
/// <param name="RxFillRingEmptyDescs">Times the kernel found the fill ring empty.</param>
/// <param name="TxRingEmptyDescs">Times the kernel found the TX ring empty when woken.</param>
public readonly record struct XdpStatistics(
    ulong RxDropped,
    ulong RxInvalidDescs,
    ulong TxInvalidDescs,
    ulong RxRingFull,
    ulong RxFillRingEmptyDescs,
    ulong TxRingEmptyDescs);
