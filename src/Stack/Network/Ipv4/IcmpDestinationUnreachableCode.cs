namespace XdpStack.Stack.Network.Ipv4;

// RFC 792 and RFC 1812 §5.2.7.1 Destination Unreachable codes.
internal static class IcmpDestinationUnreachableCode
{
    public const byte NetUnreachable = 0;
    public const byte HostUnreachable = 1;
    public const byte ProtocolUnreachable = 2;
    public const byte PortUnreachable = 3;
    public const byte FragmentationNeeded = 4;
    public const byte SourceRouteFailed = 5;
}
