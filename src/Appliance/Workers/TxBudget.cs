using Tmds.Linux;
using XdpStack.Xdp;
using static Tmds.Linux.LibC;

namespace XdpStack.Appliance.Workers;

/// <summary>Raises how many frames one sendto() may transmit in copy mode (XDP_MAX_TX_SKB_BUDGET, Linux 6.17+).</summary>
internal static class TxBudget
{
    private const int SOL_XDP = 283;
    private const int XDP_MAX_TX_SKB_BUDGET = 9;

    /// <summary>Returns true when the kernel took the new budget; older kernels keep their 32 and say EINVAL/ENOPROTOOPT.</summary>
    public static unsafe bool TryRaise(XskSocket socket, int frames)
    {
        uint budget = (uint)frames;
        return setsockopt(socket.Fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(uint)) == 0;
    }
}
