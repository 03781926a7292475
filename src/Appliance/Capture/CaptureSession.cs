using System.Diagnostics;
using XdpStack.Appliance.Links;
using XdpStack.Appliance.Run;
using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Capture;

/// <summary>A running capture on the control side: the lanes published to the workers that own the watched sockets, merged into one stream in time order.</summary>
/// <remarks>
/// <see cref="Start"/> gives each worker with a socket on the interface (on the one queue, if asked) its own lane and
/// ring, so each ring has one producer; the control thread that owns the session is the one consumer of all of them.
/// <see cref="Dispose"/> unpublishes the lanes; a worker that read the lane just before keeps writing to a ring
/// nobody reads any more, which the GC reclaims once the worker drops the reference at its next batch.
/// </remarks>
internal sealed class CaptureSession : IDisposable
{
    /// <summary>Slots per worker ring: at 4 KiB each, 4 MiB per worker, about a millisecond of 1 Mpps.</summary>
    public const int RingCapacity = 1024;

    private readonly CaptureLane[] _lanes;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly long _startMicroseconds = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10;
    private readonly byte[] _header = new byte[CaptureMessage.HeaderLength];
    private bool _disposed;

    private CaptureSession(CaptureLane[] lanes, int snapLength)
    {
        _lanes = lanes;
        SnapLength = snapLength;
    }

    public int SnapLength { get; }

    /// <summary>The queues watched, in order.</summary>
    public IReadOnlyList<int> Queues => [.. _lanes.Select(l => l.Port.Socket.QueueId).Order()];

    /// <summary>Frames the workers copied so far.</summary>
    public long Captured => _lanes.Sum(l => (long)Volatile.Read(ref l.Captured));

    /// <summary>Frames that matched but found their worker's ring full.</summary>
    public long Dropped => _lanes.Sum(l => (long)Volatile.Read(ref l.Dropped));

    /// <summary>Publishes a lane to every worker with a socket on <paramref name="device"/> (queue <paramref name="queue"/> only, if given).</summary>
    /// <exception cref="ApplianceException">No such interface or queue, or a snap length out of range.</exception>
    public static CaptureSession Start(DataPlane plane, string device, int? queue, CaptureFilter filter, bool received, bool transmitted, int snapLength)
    {
        XdpNicLink? link = plane.Links.FirstOrDefault(l => l.Name == device);
        if (link is null)
            throw new ApplianceException($"no interface {device} in this appliance (it runs on {string.Join(", ", plane.Links.Select(l => l.Name))})");
        if (!received && !transmitted)
            throw new ApplianceException("a capture needs a direction: received, transmitted or both");
        if (queue is int q && !plane.QueuesOf(device).Contains(q))
            throw new ApplianceException($"{device} queue {q} is not served (queues {string.Join(',', plane.QueuesOf(device))})");
        if (snapLength < 64)
            throw new ApplianceException($"snap length {snapLength} is too short (at least 64)");
        // No frame is longer than the largest MTU allows (with room for a VLAN tag or two), nor than a UMEM frame.
        int slot = Math.Min(snapLength, Math.Max(plane.Settings.FrameSize, plane.MaxFrame + 8));
        var lanes = new List<CaptureLane>();
        foreach (RunWorker worker in plane.Workers)
        {
            foreach (RunPort port in worker.Ports)
            {
                if (ReferenceEquals(port.Link, link) && (queue is null || port.Socket.QueueId == queue))
                    lanes.Add(new CaptureLane(worker, port, filter, received, transmitted, new CaptureRing(RingCapacity, slot)));
            }
        }
        var session = new CaptureSession([.. lanes], slot);
        foreach (CaptureLane lane in lanes)
            lane.Worker.PublishCapture(lane);
        return session;
    }

    /// <summary>
    /// Writes up to <paramref name="limit"/> waiting frames to <paramref name="output"/> as capture messages, oldest
    /// first across the workers' rings; returns how many.
    /// </summary>
    public int DrainTo(Stream output, long limit)
    {
        int written = 0;
        while (written < limit)
        {
            CaptureLane? oldest = null;
            long oldestTimestamp = long.MaxValue;
            foreach (CaptureLane lane in _lanes)
            {
                if (lane.Ring.TryPeekTimestamp(out long t) && t < oldestTimestamp)
                {
                    oldest = lane;
                    oldestTimestamp = t;
                }
            }
            if (oldest is null)
                break;
            oldest.Ring.TryPeek(out ReadOnlySpan<byte> frame, out int length, out long timestamp, out CaptureDirection direction);
            CaptureMessage.WriteFrame(output, _header, frame, length, oldest.Port.Socket.QueueId, direction, ToUnixMicroseconds(timestamp));
            oldest.Ring.Advance();
            written++;
        }
        return written;
    }

    /// <summary>Stops the workers copying; idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (CaptureLane lane in _lanes)
            lane.Worker.PublishCapture(null);
    }

    private long ToUnixMicroseconds(long timestamp) =>
        _startMicroseconds + (long)((timestamp - _startTimestamp) * (1_000_000.0 / Stopwatch.Frequency));
}
