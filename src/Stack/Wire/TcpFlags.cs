namespace XdpStack.Stack.Wire;

/// <summary>TCP control bits (RFC 9293 §3.1; ECE and CWR from RFC 3168 §6.1; AE, formerly NS, from RFC 3540).</summary>
[Flags]
public enum TcpFlags : ushort
{
    None = 0,
    Fin = 0x001,
    Syn = 0x002,
    Rst = 0x004,
    Psh = 0x008,
    Ack = 0x010,
    Urg = 0x020,
    Ece = 0x040,
    Cwr = 0x080,
    Ae = 0x100,
}
