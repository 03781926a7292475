namespace XdpStack.Stack.Link;

/// <summary>What the link endpoint does with a received frame once the stack has handled its batch.</summary>
public enum FrameAction : byte
{
    /// <summary>The stack is done with the frame; the link returns its buffer to the pool.</summary>
    Release = 0,

    /// <summary>The stack rewrote the frame in place into a reply; the link sends it out of the same endpoint.</summary>
    Transmit = 1,
}
