using System.Text;
using XdpStack.Xdp.Interop;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>A network interface as AF_XDP sees it: index, MAC, MTU, queues and the XDP program attached.</summary>
/// <remarks>
/// Interface names and indexes belong to a network namespace: the one of the thread that calls
/// <see cref="Open"/>. Everything here is read through netlink and ethtool ioctls made from that
/// thread, never from /sys (which shows the namespace sysfs was mounted in). Name, index, MAC,
/// MTU and queue counts are read once at <see cref="Open"/>; <see cref="XdpProgramId"/> and
/// <see cref="XdpMode"/> are read afresh on every access.
/// </remarks>
public sealed class NetDevice
{
    private readonly byte[] _mac;

    private NetDevice(string name, int ifIndex, byte[] mac, int mtu, int rx, int tx, int combined, bool fromEthtool)
    {
        Name = name;
        IfIndex = ifIndex;
        _mac = mac;
        Mtu = mtu;
        RxQueueCount = rx;
        TxQueueCount = tx;
        CombinedQueueCount = combined;
        QueueCountsFromEthtool = fromEthtool;
    }

    /// <summary>The interface name.</summary>
    public string Name { get; }

    /// <summary>The interface index in its namespace.</summary>
    public int IfIndex { get; }

    /// <summary>The hardware address (6 bytes for Ethernet).</summary>
    public ReadOnlySpan<byte> Mac => _mac;

    /// <summary>A copy of the hardware address.</summary>
    public byte[] MacAddress => (byte[])_mac.Clone();

    /// <summary>The MTU in bytes.</summary>
    public int Mtu { get; }

    /// <summary>RX-only channels (ethtool rx_count), or the RX queue count when ethtool is unsupported.</summary>
    public int RxQueueCount { get; }

    /// <summary>TX-only channels (ethtool tx_count), or the TX queue count when ethtool is unsupported.</summary>
    public int TxQueueCount { get; }

    /// <summary>Combined channels (ethtool combined_count); 0 when ethtool is unsupported.</summary>
    public int CombinedQueueCount { get; }

    /// <summary>True when the queue counts came from ETHTOOL_GCHANNELS, false when from netlink.</summary>
    public bool QueueCountsFromEthtool { get; }

    /// <summary>The number of queues an AF_XDP socket can bind to: max of rx, tx and combined, at least 1.</summary>
    public int QueueCount => Math.Max(1, Math.Max(CombinedQueueCount, Math.Max(RxQueueCount, TxQueueCount)));

    /// <summary>The MAC as aa:bb:cc:dd:ee:ff.</summary>
    public string MacString => string.Join(':', _mac.Select(b => b.ToString("x2")));

    /// <summary>The id of the XDP program attached now (0 when none), read through netlink.</summary>
    public uint XdpProgramId => QueryXdp().ProgramId;

    /// <summary>How the current XDP program is attached, or null when none is.</summary>
    public XdpAttachMode? XdpMode => QueryXdp().Mode;

    /// <summary>Looks an interface up by name in the calling thread's network namespace.</summary>
    /// <exception cref="XdpException">No such interface, or netlink failed.</exception>
    public static unsafe NetDevice Open(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= IFNAMSIZ)
            throw new XdpException($"no such interface: {name} (names are at most {IFNAMSIZ - 1} bytes)");
        int ifIndex;
        Span<byte> cname = stackalloc byte[IFNAMSIZ];
        cname.Clear();
        Encoding.UTF8.GetBytes(name, cname);
        fixed (byte* p = cname)
            ifIndex = (int)if_nametoindex(p);
        if (ifIndex == 0)
            throw new XdpException($"no such interface: {name}");

        LinkAttributes link;
        using (var netlink = new RouteNetlink())
            link = netlink.GetLink(ifIndex);

        int rx, tx, combined;
        bool fromEthtool = TryGetChannels(name, out EthtoolChannels channels);
        if (fromEthtool)
        {
            rx = (int)channels.RxCount;
            tx = (int)channels.TxCount;
            combined = (int)channels.CombinedCount;
        }
        else
        {
            rx = link.NumRxQueues;
            tx = link.NumTxQueues;
            combined = 0;
        }
        return new NetDevice(link.Name.Length > 0 ? link.Name : name, ifIndex, link.Address, link.Mtu, rx, tx, combined, fromEthtool);
    }

    /// <summary>Reads the XDP program id and attach mode now.</summary>
    public (uint ProgramId, XdpAttachMode? Mode) QueryXdp()
    {
        LinkAttributes link;
        using (var netlink = new RouteNetlink())
            link = netlink.GetLink(IfIndex);
        return link.XdpAttached switch
        {
            XDP_ATTACHED_DRV => (link.XdpProgramId, XdpAttachMode.Native),
            XDP_ATTACHED_SKB => (link.XdpProgramId, XdpAttachMode.Generic),
            XDP_ATTACHED_HW => (link.XdpProgramId, XdpAttachMode.Offload),
            // Several programs at once: report the one that sees frames first.
            XDP_ATTACHED_MULTI when link.XdpOffloadProgramId != 0 => (link.XdpOffloadProgramId, XdpAttachMode.Offload),
            XDP_ATTACHED_MULTI when link.XdpDriverProgramId != 0 => (link.XdpDriverProgramId, XdpAttachMode.Native),
            XDP_ATTACHED_MULTI => (link.XdpGenericProgramId, XdpAttachMode.Generic),
            _ => (0u, null),
        };
    }

    public override string ToString() => $"{Name} (ifindex {IfIndex})";

    /// <summary>
    /// Whether GRO and LRO are on (ETHTOOL_GGRO, and ETH_FLAG_LRO of ETHTOOL_GFLAGS); null where the driver does not say.
    /// Both merge received frames: native XDP sees frames before GRO (LRO the kernel or driver turns off for XDP),
    /// but generic XDP runs after GRO and would hand AF_XDP merged frames larger than the MTU.
    /// </summary>
    public (bool? Gro, bool? Lro) GetOffloads() =>
        (TryEthtoolValue(Name, ETHTOOL_GGRO, 0, out uint gro, out _) ? gro != 0 : null,
         TryEthtoolValue(Name, ETHTOOL_GFLAGS, 0, out uint flags, out _) ? (flags & ETH_FLAG_LRO) != 0 : null);

    /// <summary>Turns GRO on or off (ETHTOOL_SGRO), as <c>ethtool -K DEV gro on|off</c>.</summary>
    public void SetGro(bool enabled)
    {
        if (!TryEthtoolValue(Name, ETHTOOL_SGRO, enabled ? 1u : 0u, out _, out int errno))
            throw new XdpException($"ioctl(SIOCETHTOOL, ETHTOOL_SGRO) on {Name}", errno, null);
    }

    private static unsafe bool TryEthtoolValue(string name, uint command, uint data, out uint result, out int errno)
    {
        result = 0;
        errno = 0;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            errno = Kernel.Errno;
            return false;
        }
        try
        {
            var request = new EthtoolValue { Cmd = command, Data = data };
            var ifr = default(Ifreq);
            Encoding.UTF8.GetBytes(name, new Span<byte>(ifr.IfrName, IFNAMSIZ - 1));
            ifr.IfrData = (nint)(&request);
            if (ioctl(fd, SIOCETHTOOL, &ifr) != 0)
            {
                errno = Kernel.Errno;
                return false;
            }
            result = request.Data;
            return true;
        }
        finally
        {
            close(fd);
        }
    }

    private static unsafe bool TryGetChannels(string name, out EthtoolChannels channels)
    {
        channels = default;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return false;
        try
        {
            var request = new EthtoolChannels { Cmd = ETHTOOL_GCHANNELS };
            var ifr = default(Ifreq);
            Encoding.UTF8.GetBytes(name, new Span<byte>(ifr.IfrName, IFNAMSIZ - 1));
            ifr.IfrData = (nint)(&request);
            if (ioctl(fd, SIOCETHTOOL, &ifr) != 0)
                return false;   // EOPNOTSUPP: the driver has no get_channels; netlink counts stand in
            channels = request;
            return true;
        }
        finally
        {
            close(fd);
        }
    }
}
