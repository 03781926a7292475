using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Interop;

// include/uapi/linux/netlink.h, rtnetlink.h, if_link.h
internal static partial class Kernel
{
    internal const int NETLINK_ROUTE = 0;
    internal const int SOL_NETLINK = 270;
    internal const int NETLINK_EXT_ACK = 11;

    internal const int NETLINK_ADD_MEMBERSHIP = 1;
    internal const int SO_RCVBUFFORCE = 33;

    internal const ushort NLMSG_NOOP = 1;
    internal const ushort NLMSG_ERROR = 2;
    internal const ushort NLMSG_DONE = 3;
    internal const ushort NLMSG_OVERRUN = 4;
    internal const ushort RTM_NEWLINK = 16;
    internal const ushort RTM_GETLINK = 18;
    internal const ushort RTM_SETLINK = 19;
    internal const ushort RTM_NEWADDR = 20;
    internal const ushort RTM_DELADDR = 21;
    internal const ushort RTM_NEWROUTE = 24;
    internal const ushort RTM_DELROUTE = 25;
    internal const ushort RTM_GETROUTE = 26;

    internal const ushort NLM_F_REQUEST = 0x01;
    internal const ushort NLM_F_MULTI = 0x02;
    internal const ushort NLM_F_ACK = 0x04;
    internal const ushort NLM_F_DUMP_INTR = 0x10;
    // Modifiers of GET requests
    internal const ushort NLM_F_ROOT = 0x100;
    internal const ushort NLM_F_MATCH = 0x200;
    internal const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    // Modifiers of NEW requests, echoed in route notifications
    internal const ushort NLM_F_REPLACE = 0x100;
    internal const ushort NLM_F_APPEND = 0x800;
    internal const ushort NLM_F_CREATE = 0x400;
    internal const ushort NLM_F_CAPPED = 0x100;
    internal const ushort NLM_F_ACK_TLVS = 0x200;
    internal const ushort NLA_F_NESTED = 1 << 15;

    // enum nlmsgerr_attrs
    internal const ushort NLMSGERR_ATTR_MSG = 1;

    // IFLA_* attributes of struct ifinfomsg
    // linux/if_addr.h
    internal const ushort IFA_ADDRESS = 1;
    internal const ushort IFA_LOCAL = 2;
    internal const ushort IFA_FLAGS = 8;
    internal const uint IFA_F_NODAD = 0x02;
    internal const byte RT_SCOPE_UNIVERSE = 0;

    internal const ushort IFLA_ADDRESS = 1;
    internal const ushort IFLA_IFNAME = 3;
    internal const ushort IFLA_MTU = 4;
    internal const ushort IFLA_NUM_TX_QUEUES = 31;
    internal const ushort IFLA_NUM_RX_QUEUES = 32;
    internal const ushort IFLA_XDP = 43;

    // IFLA_XDP_* attributes nested in IFLA_XDP
    internal const ushort IFLA_XDP_FD = 1;
    internal const ushort IFLA_XDP_ATTACHED = 2;
    internal const ushort IFLA_XDP_FLAGS = 3;
    internal const ushort IFLA_XDP_PROG_ID = 4;
    internal const ushort IFLA_XDP_DRV_PROG_ID = 5;
    internal const ushort IFLA_XDP_SKB_PROG_ID = 6;
    internal const ushort IFLA_XDP_HW_PROG_ID = 7;
    internal const ushort IFLA_XDP_EXPECTED_FD = 8;

    // enum rtnetlink_groups
    internal const int RTNLGRP_IPV4_ROUTE = 7;
    internal const int RTNLGRP_IPV6_ROUTE = 11;

    // enum rtattr_type_t: attributes of struct rtmsg
    internal const ushort RTA_DST = 1;
    internal const ushort RTA_OIF = 4;
    internal const ushort RTA_GATEWAY = 5;
    internal const ushort RTA_PRIORITY = 6;
    internal const ushort RTA_MULTIPATH = 9;
    internal const ushort RTA_TABLE = 15;
    internal const ushort RTA_VIA = 18;

    // rtm_type values
    internal const byte RTN_UNICAST = 1;

    // rtm_flags
    internal const uint RTM_F_CLONED = 0x200;

    // enum rt_class_t: reserved table ids
    internal const uint RT_TABLE_COMPAT = 252;
    internal const uint RT_TABLE_DEFAULT = 253;
    internal const uint RT_TABLE_MAIN = 254;
    internal const uint RT_TABLE_LOCAL = 255;

    // IFLA_XDP_ATTACHED values
    internal const byte XDP_ATTACHED_NONE = 0;
    internal const byte XDP_ATTACHED_DRV = 1;
    internal const byte XDP_ATTACHED_SKB = 2;
    internal const byte XDP_ATTACHED_HW = 3;
    internal const byte XDP_ATTACHED_MULTI = 4;

    // IFLA_XDP_FLAGS and BPF_LINK_CREATE flags for XDP
    internal const uint XDP_FLAGS_UPDATE_IF_NOEXIST = 1u << 0;
    internal const uint XDP_FLAGS_SKB_MODE = 1u << 1;
    internal const uint XDP_FLAGS_DRV_MODE = 1u << 2;
    internal const uint XDP_FLAGS_HW_MODE = 1u << 3;
    internal const uint XDP_FLAGS_REPLACE = 1u << 4;

    /// <summary>struct sockaddr_nl.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SockaddrNl
    {
        public ushort NlFamily;         // __kernel_sa_family_t nl_family
        public ushort NlPad;            // unsigned short nl_pad
        public uint NlPid;              // __u32 nl_pid
        public uint NlGroups;           // __u32 nl_groups
    }

    /// <summary>struct nlmsghdr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Nlmsghdr
    {
        public uint NlmsgLen;           // __u32 nlmsg_len
        public ushort NlmsgType;        // __u16 nlmsg_type
        public ushort NlmsgFlags;       // __u16 nlmsg_flags
        public uint NlmsgSeq;           // __u32 nlmsg_seq
        public uint NlmsgPid;           // __u32 nlmsg_pid
    }

    /// <summary>struct nlmsgerr: an NLMSG_ERROR payload (error 0 is an ACK).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Nlmsgerr
    {
        public int Error;               // int error
        public Nlmsghdr Msg;            // struct nlmsghdr msg
    }

    /// <summary>struct ifinfomsg.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Ifinfomsg
    {
        public byte IfiFamily;          // unsigned char ifi_family
        public byte IfiPad;             // unsigned char __ifi_pad
        public ushort IfiType;          // unsigned short ifi_type
        public int IfiIndex;            // int ifi_index
        public uint IfiFlags;           // unsigned ifi_flags
        public uint IfiChange;          // unsigned ifi_change
    }

    /// <summary>struct ifaddrmsg.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Ifaddrmsg
    {
        public byte IfaFamily;          // __u8 ifa_family
        public byte IfaPrefixlen;       // __u8 ifa_prefixlen
        public byte IfaFlags;           // __u8 ifa_flags
        public byte IfaScope;           // __u8 ifa_scope
        public uint IfaIndex;           // __u32 ifa_index
    }

    /// <summary>struct rtmsg: the fixed part of RTM_NEWROUTE, RTM_DELROUTE and RTM_GETROUTE.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Rtmsg
    {
        public byte RtmFamily;          // unsigned char rtm_family
        public byte RtmDstLen;          // unsigned char rtm_dst_len
        public byte RtmSrcLen;          // unsigned char rtm_src_len
        public byte RtmTos;             // unsigned char rtm_tos
        public byte RtmTable;           // unsigned char rtm_table
        public byte RtmProtocol;        // unsigned char rtm_protocol
        public byte RtmScope;           // unsigned char rtm_scope
        public byte RtmType;            // unsigned char rtm_type
        public uint RtmFlags;           // unsigned rtm_flags
    }

    /// <summary>struct rtnexthop: one entry of RTA_MULTIPATH, followed by its own attributes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Rtnexthop
    {
        public ushort RtnhLen;          // unsigned short rtnh_len
        public byte RtnhFlags;          // unsigned char rtnh_flags
        public byte RtnhHops;           // unsigned char rtnh_hops
        public int RtnhIfindex;         // int rtnh_ifindex
    }

    /// <summary>struct nlattr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Nlattr
    {
        public ushort NlaLen;           // __u16 nla_len
        public ushort NlaType;          // __u16 nla_type
    }
}
