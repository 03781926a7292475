using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp.Bpf;

/// <summary>Reads the type and kernel id of a BPF map, program or link (BPF_OBJ_GET_INFO_BY_FD).</summary>
internal static unsafe class BpfObjectInfo
{
    /// <summary>The id the kernel gave the object (what bpftool and IFLA_XDP_PROG_ID show).</summary>
    internal static uint GetId(int fd, string what)
    {
        // The kernel copies min(info_len, sizeof(info)) bytes, so the two leading fields are enough.
        var head = default(BpfObjInfoHead);
        var attr = new BpfAttrObjInfo { BpfFd = (uint)fd, InfoLen = (uint)sizeof(BpfObjInfoHead), Info = (ulong)&head };
        if (bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(BpfAttrObjInfo)) != 0)
            throw XdpException.FromErrno($"bpf(BPF_OBJ_GET_INFO_BY_FD, {what})");
        return head.Id;
    }
}
