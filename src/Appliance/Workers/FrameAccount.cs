namespace XdpStack.Appliance.Workers;

/// <summary>Where one worker's UMEM frames are: the pool, the fill rings with the kernel and RX rings, the TX rings with the kernel, and TX descriptors not yet submitted.</summary>
internal readonly record struct FrameAccount(int Total, int InPool, ulong InFillOrRx, ulong InTx, int Pending)
{
    /// <summary>Every frame is in exactly one place.</summary>
    public bool Balanced => Placed == (ulong)Total;

    /// <summary>Frames in no place (negative when a frame is counted twice).</summary>
    public long Missing => (long)Total - (long)Placed;

    private ulong Placed => (ulong)InPool + InFillOrRx + InTx + (ulong)Pending;

    public override string ToString() =>
        $"{Total} frames: {InPool} in the pool, {InFillOrRx} in fill/kernel/RX, {InTx} in TX/kernel, {Pending} pending";
}
