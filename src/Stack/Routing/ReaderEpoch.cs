using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpStack.Stack.Routing;

/// <summary>One reader's quiescent-state counter in a <see cref="ReaderEpochs"/> registry: the reader bumps it once per batch, at a point where it holds nothing it read from the tables the registry guards.</summary>
/// <remarks>
/// <para>
/// The counter sits alone on its own 128-byte block (two cache lines, as adjacent-line prefetch pairs them), so a
/// worker bumping it never invalidates a line another worker or the writer reads often. Only the owning reader
/// writes it; the writer only reads it, off the data path.
/// </para>
/// <para>
/// Its low bit says the reader is offline (RCU's extended quiescent state: a worker about to sleep), which the writer
/// counts as having passed; <see cref="Quiesce"/> steps by two, so a value seen twice means no quiescent point between.
/// </para>
/// </remarks>
public sealed class ReaderEpoch
{
    private Padded _counter;

    internal ReaderEpoch()
    {
    }

    /// <summary>The counter: quiescent points passed times two, plus one while offline.</summary>
    public long Value => Volatile.Read(ref _counter.Value);

    /// <summary>Whether the reader is offline (holds nothing and reads nothing until <see cref="GoOnline"/>).</summary>
    public bool IsOffline => (Value & 1) != 0;

    /// <summary>Declares that the reader holds no entry or table it read before this call; call it once per batch, after the batch's last lookup.</summary>
    /// <remarks>
    /// A plain store with release order (a <c>mov</c> on x64): every lookup of the batch is done before the new value
    /// can be seen. No <c>Interlocked</c>: the reader is the counter's only writer.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Quiesce() => Volatile.Write(ref _counter.Value, _counter.Value + 2);

    /// <summary>Declares that the reader holds nothing and will read nothing until <see cref="GoOnline"/>: the writer need not wait for it meanwhile. Call it before blocking.</summary>
    public void GoOffline() => Volatile.Write(ref _counter.Value, _counter.Value | 1);

    /// <summary>Ends <see cref="GoOffline"/>; call it before the next lookup (it costs a full fence, so once per wake-up, not per batch).</summary>
    /// <remarks>
    /// The fence orders the store before the reader's next read of a table reference, as the writer's capture orders
    /// its publication before its counter reads: either the writer sees the reader online, or the reader sees the new
    /// table.
    /// </remarks>
    public void GoOnline()
    {
        Volatile.Write(ref _counter.Value, (_counter.Value | 1) + 1);
        Interlocked.MemoryBarrier();
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Padded
    {
        [FieldOffset(64)]
        public long Value;
    }
}
