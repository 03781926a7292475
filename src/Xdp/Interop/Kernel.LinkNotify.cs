namespace XdpStack.Xdp.Interop;

// What LinkNotifications needs beyond the link requests of Kernel.Netlink.cs: include/uapi/linux/rtnetlink.h,
// netlink.h, and the interface flags of <net/if.h>.
internal static partial class Kernel
{
    internal const ushort RTM_DELLINK = 17;

    // The legacy group bitmask of sockaddr_nl.nl_groups: link changes.
    internal const uint RTMGRP_LINK = 1;

    internal const uint IFF_UP = 0x1;
    internal const uint IFF_RUNNING = 0x40;
}
