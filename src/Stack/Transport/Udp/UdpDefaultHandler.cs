namespace XdpStack.Stack.Transport.Udp;

/// <summary>Takes a UDP datagram no endpoint matched, before it is answered with Port Unreachable; returns true if it handled it (gVisor's transport default handler).</summary>
/// <remarks>Called on the receiving worker: it must not keep <paramref name="payload"/>, block or allocate.</remarks>
public delegate bool UdpDefaultHandler(Nic nic, in UdpDatagramInfo info, ReadOnlySpan<byte> payload);
