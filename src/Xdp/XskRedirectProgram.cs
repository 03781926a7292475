using XdpStack.Xdp.Bpf;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>The default XDP program: redirect each frame to the AF_XDP socket of its RX queue, else pass it to the kernel.</summary>
/// <remarks>
/// The program is libxdp's <c>xsk_def_prog</c> (bpf/xsk_redirect.bpf.c), assembled here:
/// <c>return bpf_redirect_map(&amp;xsks_map, ctx-&gt;rx_queue_index, XDP_PASS);</c>
/// The XSKMAP has one entry per queue of the device. Disposing closes the link (nothing stays
/// attached), the program and the map.
/// </remarks>
public sealed class XskRedirectProgram : IDisposable
{
    /// <summary>Offset of rx_queue_index in struct xdp_md.</summary>
    public const short XdpMdRxQueueIndexOffset = 16;

    private XskRedirectProgram(NetDevice device, BpfMap map, BpfProgram program, BpfLink link)
    {
        Device = device;
        Map = map;
        Program = program;
        Link = link;
    }

    /// <summary>The device the program is attached to.</summary>
    public NetDevice Device { get; }

    /// <summary>The XSKMAP: queue index → socket.</summary>
    public BpfMap Map { get; }

    /// <summary>The loaded program.</summary>
    public BpfProgram Program { get; }

    /// <summary>The attachment.</summary>
    public BpfLink Link { get; }

    /// <summary>Native or generic: where the program ended up.</summary>
    public XdpAttachMode AttachedMode => Link.Mode;

    /// <summary>The program's kernel id (what <see cref="NetDevice.XdpProgramId"/> reports while attached).</summary>
    public uint ProgramId => Program.Id;

    /// <summary>The 6 instruction slots of the program, for a map fd.</summary>
    public static BpfInstruction[] Assemble(int xskMapFd) => new BpfAssembler()
        .LoadMem32(BpfRegister.R2, BpfRegister.R1, XdpMdRxQueueIndexOffset)   // r2 = ctx->rx_queue_index
        .LoadMapFd(BpfRegister.R1, xskMapFd)                                   // r1 = &xsks_map
        .Mov64Imm(BpfRegister.R3, XDP_PASS)                                    // r3 = XDP_PASS when the queue has no socket
        .Call(BpfHelper.RedirectMap)
        .Exit()
        .ToArray();

    /// <summary>Loads the program and attaches it to <paramref name="device"/>; <see cref="XdpAttachMode.Auto"/> tries native, then generic.</summary>
    /// <param name="device">The device.</param>
    /// <param name="mode">Where to attach.</param>
    /// <param name="multiBuffer">Load the program with frags support (BPF_F_XDP_HAS_FRAGS), as multi-buffer sockets and MTUs above a page need.</param>
    public static XskRedirectProgram Attach(NetDevice device, XdpAttachMode mode = XdpAttachMode.Auto, bool multiBuffer = false) =>
        Attach(device, mode, Assemble, multiBuffer);

    /// <summary>Like <see cref="Attach(NetDevice, XdpAttachMode, bool)"/>, with the program built by <paramref name="assemble"/> for the XSKMAP's fd.</summary>
    public static XskRedirectProgram Attach(NetDevice device, XdpAttachMode mode, Func<int, BpfInstruction[]> assemble, bool multiBuffer = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(assemble);
        if (mode == XdpAttachMode.Offload)
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "offload is not supported");
        BpfMap map = BpfMap.CreateXskMap(device.QueueCount);
        BpfProgram? program = null;
        try
        {
            program = BpfProgram.LoadXdp(assemble(map.Fd), "xsk_redirect", hasFrags: multiBuffer);
            BpfLink link;
            if (mode == XdpAttachMode.Auto)
            {
                try
                {
                    link = BpfLink.AttachXdp(program, device, XdpAttachMode.Native);
                }
                catch (XdpException e) when (e.Errno is EOPNOTSUPP or EINVAL or ERANGE)
                {
                    link = BpfLink.AttachXdp(program, device, XdpAttachMode.Generic);
                }
            }
            else
            {
                link = BpfLink.AttachXdp(program, device, mode);
            }
            return new XskRedirectProgram(device, map, program, link);
        }
        catch
        {
            program?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Sends frames arriving on <paramref name="queueId"/> to <paramref name="socket"/> (XSKMAP update).</summary>
    /// <remarks>The kernel delivers only to a socket bound to the same device and queue; anything else is refused here.</remarks>
    public void Register(int queueId, XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.QueueId != queueId || socket.Device.IfIndex != Device.IfIndex)
            throw new ArgumentException($"{socket} is not bound to {Device.Name} queue {queueId}", nameof(socket));
        Map.Update((uint)queueId, (uint)socket.Fd);
    }

    /// <summary>Registers a socket under its own queue.</summary>
    public void Register(XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Register(socket.QueueId, socket);
    }

    /// <summary>Stops redirecting <paramref name="queueId"/> (its frames go to the kernel again).</summary>
    public bool Unregister(int queueId) => Map.Delete((uint)queueId);

    /// <summary>Detaches the program and frees the map.</summary>
    public void Dispose()
    {
        try
        {
            Link.Dispose();
        }
        finally
        {
            Program.Dispose();
            Map.Dispose();
        }
    }
}
