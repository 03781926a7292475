namespace XdpStack.Stack.Link;

/// <summary>Receives batches of frames from a link endpoint (gVisor <c>NetworkDispatcher</c>); a <see cref="Nic"/> is one.</summary>
public interface INetworkDispatcher
{
    /// <summary>
    /// Handles every frame of <paramref name="batch"/> before returning. The caller keeps ownership
    /// of the memory; on return each frame's <see cref="Frame.Action"/> says whether the link must
    /// send it (an in-place reply) or may reuse it. Called by one worker at a time per
    /// <see cref="FrameBatch.Worker"/>; different workers call concurrently.
    /// </summary>
    void DeliverNetworkPackets(scoped FrameBatch batch);
}
