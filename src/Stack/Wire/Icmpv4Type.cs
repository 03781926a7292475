namespace XdpStack.Stack.Wire;

/// <summary>ICMPv4 message types the stack sends or answers (RFC 792; RFC 1191 for "fragmentation needed").</summary>
public enum Icmpv4Type : byte
{
    EchoReply = 0,
    DestinationUnreachable = 3,
    Redirect = 5,
    EchoRequest = 8,
    TimeExceeded = 11,
    ParameterProblem = 12,
    Timestamp = 13,
    TimestampReply = 14,
}
