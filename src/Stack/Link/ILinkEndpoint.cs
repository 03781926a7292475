using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Link;

/// <summary>A device the stack sends and receives Ethernet frames through (gVisor <c>LinkEndpoint</c>).</summary>
/// <remarks>
/// Receiving is driven by the link: it hands batches to the attached <see cref="INetworkDispatcher"/>
/// and, when the call returns, sends the frames marked <see cref="FrameAction.Transmit"/> and
/// reuses the rest. Sending frames the stack built itself goes through <see cref="WriteFrame"/>,
/// which copies; it may be called from the worker that is delivering and from control threads.
/// </remarks>
public interface ILinkEndpoint
{
    /// <summary>Largest network-layer packet the link carries (the Ethernet payload size).</summary>
    int Mtu { get; }

    /// <summary>The endpoint's own MAC address.</summary>
    MacAddress LinkAddress { get; }

    LinkCapabilities Capabilities { get; }

    /// <summary>
    /// Starts delivering received batches to <paramref name="dispatcher"/>; a null dispatcher
    /// detaches (the NIC is being removed) and the link drops what it receives.
    /// </summary>
    void Attach(INetworkDispatcher? dispatcher);

    bool IsAttached { get; }

    /// <summary>
    /// Copies one complete Ethernet frame into a transmit buffer of the link and queues it.
    /// Returns false, without throwing, when the link has no room; the caller counts the drop.
    /// <paramref name="worker"/> is the calling worker, or <see cref="NicStats.ControlWorker"/> from a control thread.
    /// </summary>
    bool WriteFrame(int worker, ReadOnlySpan<byte> frame);
}
