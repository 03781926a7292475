namespace XdpStack.Stack.Transport;

/// <summary>A stable hash of a flow's addresses and ports, used to pick one endpoint of a reuse-port group (behaviour 23).</summary>
/// <remarks>Fixed constants rather than <see cref="HashCode"/>, whose seed changes per process, so one tuple maps to one endpoint across runs as well as within one.</remarks>
public static class FlowHash
{
    /// <summary>Hashes the remote and local address and port of a received packet.</summary>
    public static uint Compute(in TransportEndpointId id)
    {
        ulong h = id.RemoteAddress.V6.High ^ Mix(id.RemoteAddress.V6.Low) ^ Mix(id.LocalAddress.V6.High + 0x9E37_79B9_7F4A_7C15UL)
            ^ Mix(id.LocalAddress.V6.Low ^ ((ulong)id.RemotePort << 16) ^ id.LocalPort);
        return (uint)(Mix(h) >> 32);
    }

    // The 64-bit finalizer of MurmurHash3: every input bit affects every output bit.
    private static ulong Mix(ulong k)
    {
        k ^= k >> 33;
        k *= 0xFF51_AFD7_ED55_8CCDUL;
        k ^= k >> 33;
        k *= 0xC4CE_B9FE_1A85_EC53UL;
        k ^= k >> 33;
        return k;
    }
}
