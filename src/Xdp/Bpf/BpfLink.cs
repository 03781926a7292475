using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp.Bpf;

/// <summary>An XDP program attached to a device, detached again on <see cref="Dispose"/>.</summary>
/// <remarks>
/// Attaches with BPF_LINK_CREATE (kernel 5.9+): the kernel detaches the program when the last
/// link fd closes, so even a killed process leaves nothing behind, and nobody can replace the
/// program through netlink meanwhile. Where links are unsupported (EINVAL) it falls back to
/// netlink IFLA_XDP, whose attachment outlives the process; then <see cref="Dispose"/> detaches
/// explicitly, through a netlink socket opened at attach time so it reaches the same namespace.
/// </remarks>
public sealed unsafe class BpfLink : IDisposable
{
    private int _linkFd = -1;
    private RouteNetlink? _netlink;     // netlink attachment only
    private int _programFd = -1;        // netlink attachment only: our dup, the expected fd on detach

    private BpfLink(int ifIndex, XdpAttachMode mode, uint programId)
    {
        IfIndex = ifIndex;
        Mode = mode;
        ProgramId = programId;
    }

    /// <summary>The device's index.</summary>
    public int IfIndex { get; }

    /// <summary>Native or generic.</summary>
    public XdpAttachMode Mode { get; }

    /// <summary>The attached program's id.</summary>
    public uint ProgramId { get; }

    /// <summary>The link's id; 0 for a netlink attachment.</summary>
    public uint LinkId { get; private set; }

    /// <summary>The link's file descriptor; -1 for a netlink attachment or once disposed.</summary>
    internal int Fd => _linkFd;

    /// <summary>True when attached through netlink IFLA_XDP rather than a BPF link.</summary>
    public bool UsesNetlink => _netlink is not null;

    /// <summary>True until disposed.</summary>
    public bool IsAttached => _linkFd >= 0 || _netlink is not null;

    /// <summary>Attaches an XDP program in native or generic mode.</summary>
    /// <exception cref="XdpException">The kernel refused, e.g. EOPNOTSUPP (no native XDP) or EBUSY (another program is attached).</exception>
    public static BpfLink AttachXdp(BpfProgram program, NetDevice device, XdpAttachMode mode)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(device);
        uint flags = ModeFlags(mode);
        var attr = new BpfAttrLinkCreate
        {
            ProgFd = (uint)program.Fd,
            TargetIfindex = (uint)device.IfIndex,
            AttachType = BPF_XDP,
            Flags = flags,
        };
        int fd = bpf(BPF_LINK_CREATE, &attr, sizeof(BpfAttrLinkCreate));
        if (fd >= 0)
        {
            var link = new BpfLink(device.IfIndex, mode, program.Id) { _linkFd = fd };
            try
            {
                link.LinkId = BpfObjectInfo.GetId(fd, "link");
            }
            catch
            {
                link.Dispose();
                throw;
            }
            return link;
        }
        int errno = Errno;
        // EINVAL: this kernel has no XDP links (before 5.9); do what aya does and use netlink.
        if (errno == EINVAL)
            return AttachXdpNetlink(program, device, mode);
        throw new XdpException($"bpf(BPF_LINK_CREATE, XDP {ModeName(mode)} on {device.Name})", errno, AttachHint(errno, device, mode));
    }

    /// <summary>Attaches through netlink IFLA_XDP (never replacing an attached program).</summary>
    public static BpfLink AttachXdpNetlink(BpfProgram program, NetDevice device, XdpAttachMode mode)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(device);
        uint flags = ModeFlags(mode);
        int programFd = fcntl(program.Fd, F_DUPFD_CLOEXEC, 0);
        if (programFd < 0)
            throw XdpException.FromErrno("fcntl(F_DUPFD_CLOEXEC)");
        var netlink = new RouteNetlink();
        try
        {
            netlink.SetXdp(device.IfIndex, program.Fd, flags | XDP_FLAGS_UPDATE_IF_NOEXIST);
        }
        catch (XdpException e)
        {
            netlink.Dispose();
            close(programFd);
            throw new XdpException(e.Call, e.Errno, AttachHint(e.Errno, device, mode) ?? e.Message);
        }
        return new BpfLink(device.IfIndex, mode, program.Id) { _netlink = netlink, _programFd = programFd };
    }

    /// <summary>
    /// Detaches whatever XDP program another process attached to <paramref name="device"/> through netlink, in the mode
    /// it runs in; for an operator who asked to replace it. A program held by another process's BPF link cannot be
    /// detached this way (EBUSY): its owner must go away first.
    /// </summary>
    public static void DetachForeign(NetDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        (uint programId, XdpAttachMode? mode) = device.QueryXdp();
        if (programId == 0 || mode is not XdpAttachMode attached)
            return;
        using var netlink = new RouteNetlink();
        try
        {
            netlink.SetXdp(device.IfIndex, -1, attached == XdpAttachMode.Offload ? XDP_FLAGS_HW_MODE : ModeFlags(attached));
        }
        catch (XdpException e) when (e.Errno == EBUSY)
        {
            throw new XdpException(e.Call, e.Errno,
                $"XDP program {programId} on {device.Name} is held by a BPF link of another process; stop that process first");
        }
    }

    /// <summary>Detaches the program: detaches and closes the link, or clears IFLA_XDP when attached through netlink.</summary>
    /// <exception cref="XdpException">The netlink detach failed for a reason other than the program being gone already.</exception>
    public void Dispose()
    {
        if (_linkFd >= 0)
        {
            // Detach first: a child forked by another thread may hold a copy of the fd until it
            // execs, and closing alone would leave the program attached until then.
            var detach = new BpfAttrLinkDetach { LinkFd = (uint)_linkFd };
            bpf(BPF_LINK_DETACH, &detach, sizeof(BpfAttrLinkDetach));
            close(_linkFd);
            _linkFd = -1;
        }
        if (_netlink is null)
            return;
        RouteNetlink netlink = _netlink;
        _netlink = null;
        try
        {
            // REPLACE with our program as the expected one: never detach a program someone else attached since.
            netlink.SetXdp(IfIndex, -1, ModeFlags(Mode) | XDP_FLAGS_REPLACE, _programFd);
        }
        catch (XdpException e) when (e.Errno is EEXIST or ENODEV)
        {
            // Replaced by someone else, or the device is gone: nothing of ours is attached.
        }
        finally
        {
            netlink.Dispose();
            close(_programFd);
            _programFd = -1;
        }
    }

    internal static uint ModeFlags(XdpAttachMode mode) => mode switch
    {
        XdpAttachMode.Native => XDP_FLAGS_DRV_MODE,
        XdpAttachMode.Generic => XDP_FLAGS_SKB_MODE,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "attach in Native or Generic mode"),
    };

    internal static string ModeName(XdpAttachMode mode) => mode == XdpAttachMode.Native ? "native" : "generic";

    private static string? AttachHint(int errno, NetDevice device, XdpAttachMode mode) => errno switch
    {
        EOPNOTSUPP when mode == XdpAttachMode.Native => $"{device.Name}'s driver has no native XDP; use generic mode",
        EBUSY or EEXIST => $"another XDP program is already attached to {device.Name} (id {device.XdpProgramId}); detach it first (ip link set dev {device.Name} xdp off)",
        ERANGE => $"the MTU of {device.Name} ({device.Mtu}) is too large for single-buffer XDP",
        EPERM => "attaching XDP programs needs CAP_NET_ADMIN and CAP_BPF",
        _ => null,
    };
}
