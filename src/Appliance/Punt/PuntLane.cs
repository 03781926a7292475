using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Punt;

/// <summary>One worker's way to the punt thread: a single-producer ring of frame copies, and whether the thread needs waking.</summary>
/// <remarks>
/// The worker copies a punted frame into <see cref="Ring"/> (no lock, allocation or syscall) and sets
/// <see cref="Pending"/>; once per round it calls <see cref="WakeIfPending"/>, which writes the punt thread's eventfd
/// only while that thread sleeps. So a burst of punted frames costs the worker at most one syscall per round, and a
/// busy punt thread none.
/// </remarks>
internal sealed class PuntLane(FrameHandoff ring, Xdp.XskWaitSet consumer)
{
    /// <summary>Worker writes (port = the TAP's index), punt thread reads.</summary>
    public FrameHandoff Ring { get; } = ring;

    /// <summary>Worker thread only: set by a punt, cleared by <see cref="WakeIfPending"/>.</summary>
    public bool Pending;

    /// <summary>Worker thread, once per round.</summary>
    public void WakeIfPending()
    {
        if (!Pending)
            return;
        Pending = false;
        consumer.Wake();
    }
}
