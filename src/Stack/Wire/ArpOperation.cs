namespace XdpStack.Stack.Wire;

/// <summary>The ARP opcode (RFC 826; IANA "ARP Operation Codes").</summary>
public enum ArpOperation : ushort
{
    Request = 1,
    Reply = 2,
}
