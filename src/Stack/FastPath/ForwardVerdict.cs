namespace XdpStack.Stack.FastPath;

/// <summary>What <see cref="Ipv4FastForwarder"/> or <see cref="Ipv6FastForwarder"/> decided for one received frame.</summary>
public enum ForwardVerdict : byte
{
    /// <summary>Left unchanged: the caller hands the frame to the full stack.</summary>
    SlowPath = 0,

    /// <summary>Rewritten in place (TTL and checksum or hop limit, MACs, length); the caller transmits it on the egress NIC given beside the verdict.</summary>
    Forward = 1,
}
