using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpStack.Stack.Routing;

/// <summary>One reader's quiescent-state counter in a <see cref="ReaderEpochs"/> registry: the reader bumps it once per batch, at a point where it holds nothing it read from a table in place.</summary>
/// <remarks>
/// The counter sits alone on its own 128-byte block (two cache lines, as adjacent-line prefetch pairs them), so a
/// worker bumping it never invalidates a line another worker or the writer reads often. Only the owning reader
/// writes it; the writer only reads it, off the data path.
/// </remarks>
public sealed class ReaderEpoch
{
    private Padded _counter;

    internal ReaderEpoch()
    {
    }

    /// <summary>The number of quiescent points the reader has passed.</summary>
    public long Value => Volatile.Read(ref _counter.Value);

    /// <summary>Declares that the reader holds no entry or group it read before this call; call it once per batch, after the batch's last lookup.</summary>
    /// <remarks>
    /// A plain store with release order (a <c>mov</c> on x64): every lookup of the batch is done before the new value
    /// can be seen. No <c>Interlocked</c>: the reader is the counter's only writer.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Quiesce() => Volatile.Write(ref _counter.Value, _counter.Value + 1);

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Padded
    {
        [FieldOffset(64)]
        public long Value;
    }
}
