namespace XdpStack.Stack.Wire;

/// <summary>TCP option kinds the stack reads (RFC 9293 §3.2; RFC 7323 for window scale and timestamps; RFC 2018 for SACK).</summary>
public enum TcpOptionKind : byte
{
    EndOfOptions = 0,
    NoOperation = 1,
    MaxSegmentSize = 2,
    WindowScale = 3,
    SackPermitted = 4,
    Sack = 5,
    Timestamps = 8,
}
