namespace XdpStack.Stack.Wire;

/// <summary>The TCP timestamps option (RFC 7323 §3): the sender's clock and the echo of the peer's.</summary>
public readonly record struct TcpTimestamps(uint Value, uint EchoReply);
