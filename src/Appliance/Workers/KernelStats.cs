using System.Globalization;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Workers;

/// <summary>Formats a socket's XDP_STATISTICS for the summary.</summary>
internal static class KernelStats
{
    public static string Describe(XskSocket socket)
    {
        try
        {
            XdpStatistics s = socket.GetStatistics();
            return string.Create(CultureInfo.InvariantCulture,
                $"kernel: rx_dropped {s.RxDropped}, rx_ring_full {s.RxRingFull}, fill_ring_empty {s.RxFillRingEmptyDescs}, rx_invalid {s.RxInvalidDescs}, tx_invalid {s.TxInvalidDescs}, tx_ring_empty {s.TxRingEmptyDescs}");
        }
        catch (XdpException e)
        {
            return "kernel statistics unavailable: " + e.Message;
        }
    }
}
