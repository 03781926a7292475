namespace XdpStack.Stack.Link;

/// <summary>One frame of a <see cref="FrameBatch"/>: where it lies in the batch's memory, its length, and what to do with it afterwards.</summary>
/// <remarks>
/// The link writes <see cref="Offset"/> and <see cref="Length"/> before delivery. The stack may
/// shorten <see cref="Length"/> and set <see cref="Action"/> to <see cref="FrameAction.Transmit"/>
/// when it turned the frame into a reply; it never moves <see cref="Offset"/>.
/// </remarks>
public struct Frame
{
    /// <summary>Byte offset of the first byte of the Ethernet header within <see cref="FrameBatch.Memory"/>.</summary>
    public int Offset;

    /// <summary>Number of bytes of the frame, Ethernet header included, frame check sequence excluded.</summary>
    public int Length;

    /// <summary>Set by the stack; <see cref="FrameAction.Release"/> unless the frame became a reply.</summary>
    public FrameAction Action;

    public Frame(int offset, int length)
    {
        Offset = offset;
        Length = length;
        Action = FrameAction.Release;
    }
}
