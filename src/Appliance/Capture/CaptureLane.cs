using System.Diagnostics;
using XdpStack.Appliance.Workers;
using XdpStack.Stack.Link;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Capture;

/// <summary>One worker's part of a running capture: the socket it watches, the filter, and the ring it copies matching frames into.</summary>
/// <remarks>
/// The control thread creates it and publishes it to the worker (<see cref="RunWorker.PublishCapture"/>); the worker
/// calls <see cref="Received"/> once per RX batch and <see cref="Transmitted"/> once per TX flush, only while it is
/// published. Both run on the worker: they copy into the ring, count with plain stores, and allocate nothing; a full
/// ring is a counted capture drop, never a wait. After unpublishing, the control thread may drain what is left.
/// </remarks>
internal sealed unsafe class CaptureLane
{
    private readonly byte* _umemBase;
    private readonly int _umemSize;

    public CaptureLane(RunWorker worker, RunPort port, CaptureFilter filter, bool received, bool transmitted, CaptureRing ring)
    {
        Worker = worker;
        Port = port;
        Filter = filter;
        CapturesReceived = received;
        CapturesTransmitted = transmitted;
        Ring = ring;
        Umem umem = worker.Umem;
        _umemBase = umem.Base;
        _umemSize = checked((int)umem.Size);
    }

    public RunWorker Worker { get; }

    /// <summary>The socket (one device, one queue) this lane watches; the worker's other sockets are not captured.</summary>
    public RunPort Port { get; }

    public CaptureFilter Filter { get; }

    public bool CapturesReceived { get; }

    public bool CapturesTransmitted { get; }

    public CaptureRing Ring { get; }

    /// <summary>Frames that matched and were copied. Worker writes (plain stores), control thread reads.</summary>
    public ulong Captured;

    /// <summary>Frames that matched but found the ring full. Worker writes, control thread reads.</summary>
    public ulong Dropped;

    /// <summary>Worker thread: copies the matching frames of one RX batch of <paramref name="port"/>, as received.</summary>
    public void Received(RunPort port, ReadOnlySpan<Frame> frames)
    {
        if (!ReferenceEquals(port, Port) || !CapturesReceived)
            return;
        var memory = new Span<byte>(_umemBase, _umemSize);
        long now = Stopwatch.GetTimestamp();
        foreach (ref readonly Frame f in frames)
            Take(memory.Slice(f.Offset, f.Length), now, CaptureDirection.Received);
    }

    /// <summary>
    /// Worker thread: copies the matching frames among the first <paramref name="count"/> descriptors queued for
    /// <paramref name="port"/>'s TX ring; a multi-buffer chain (descriptors with <see cref="XdpDescriptor.PacketContinues"/>)
    /// is one frame, matched on its first buffer and copied piece by piece.
    /// </summary>
    public void Transmitted(RunPort port, ReadOnlySpan<ulong> addresses, ReadOnlySpan<uint> lengths, ReadOnlySpan<uint> options, int count)
    {
        if (!ReferenceEquals(port, Port) || !CapturesTransmitted)
            return;
        var memory = new Span<byte>(_umemBase, _umemSize);
        long now = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            int last = i;
            while (last < count - 1 && (options[last] & XdpDescriptor.PacketContinues) != 0)
                last++;
            if (last == i)
                Take(memory.Slice((int)addresses[i], (int)lengths[i]), now, CaptureDirection.Transmitted);
            else
                TakeChain(memory, addresses[i..(last + 1)], lengths[i..(last + 1)], now);
            i = last;
        }
    }

    private void TakeChain(Span<byte> memory, ReadOnlySpan<ulong> addresses, ReadOnlySpan<uint> lengths, long timestamp)
    {
        if (!Filter.Matches(memory.Slice((int)addresses[0], (int)lengths[0])))
            return;
        if (!Ring.TryReserve(out Span<byte> slot))
        {
            Dropped++;
            return;
        }
        int captured = 0, length = 0;
        for (int i = 0; i < addresses.Length; i++)
        {
            Span<byte> piece = memory.Slice((int)addresses[i], (int)lengths[i]);
            int n = Math.Min(piece.Length, slot.Length - captured);
            piece[..n].CopyTo(slot[captured..]);
            captured += n;
            length += piece.Length;
        }
        Ring.Commit(captured, length, timestamp, CaptureDirection.Transmitted);
        Captured++;
    }

    private void Take(Span<byte> frame, long timestamp, CaptureDirection direction)
    {
        if (!Filter.Matches(frame))
            return;
        if (Ring.TryWrite(frame, timestamp, direction))
            Captured++;
        else
            Dropped++;
    }
}
