using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Links;
using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Wire;
using XdpStack.Xdp;
using XdpStack.Xdp.Bpf;

namespace XdpStack.Appliance.Run;

/// <summary>The AF_XDP half of <c>xdpstack run</c>: one NIC per interface in the stack, one worker per queue index, the redirect programs.</summary>
/// <remarks>
/// <para>
/// Open it from a thread inside the interfaces' network namespace (the workers inherit it). <see cref="Open"/>
/// checks every interface, creates the stack's NICs on <see cref="XdpNicLink"/>s and binds the sockets; the caller
/// then gives the stack its addresses, routes and services, and <see cref="Start"/> starts the workers and only then
/// attaches the redirect programs, so that no frame is steered to a socket nobody serves.
/// <see cref="Dispose"/> stops the workers, detaches the programs (BPF links: a killed process leaves nothing
/// attached either), restores GRO where it was turned off (by device name: call it from a thread in the interfaces'
/// namespace too) and closes sockets and UMEMs.
/// </para>
/// <para>
/// Worker i serves the i-th smallest queue index on every interface that has it. An interface with fewer queues
/// than there are workers is received by the workers of its queues only; the other workers send to it through the
/// worker of queue <c>w mod n</c> (n: its queue count), by a copy into that worker's hand-off ring.
/// </para>
/// </remarks>
internal sealed class DataPlane : IDisposable
{
    private const int EthernetHeader = 14;

    private readonly List<Umem> _umems = [];
    private readonly List<XskRedirectProgram> _programs = [];
    private readonly List<NetDevice> _devices = [];
    private readonly List<XdpNicLink> _links = [];
    private readonly Dictionary<string, int[]> _queues = [];
    private readonly List<NetDevice> _groToRestore = [];
    private readonly Dictionary<int, XdpAttachMode> _attachedModes = [];
    private RunWorker[] _workers = [];
    private Ipv4FastForwarder? _ipv4;

    /// <summary>The IPv4 fast path the workers use, once started.</summary>
    public Ipv4FastForwarder? Ipv4FastPath => _ipv4;
    private Ipv6FastForwarder? _ipv6;
    private int _disposed;
    private bool _stopped;

    private DataPlane(NetworkStack stack, DataPlaneSettings settings)
    {
        Stack = stack;
        Settings = settings;
    }

    public NetworkStack Stack { get; }

    public DataPlaneSettings Settings { get; }

    public IReadOnlyList<RunWorker> Workers => _workers;

    /// <summary>Every NIC's link: the interfaces' first, in <see cref="Devices"/> order, then the VLAN sub-interfaces'.</summary>
    public IReadOnlyList<XdpNicLink> Links => _links;

    public IReadOnlyList<NetDevice> Devices => _devices;

    /// <summary>Where the redirect program of the device with <paramref name="ifIndex"/> runs, or null before <see cref="Start"/> attached it.</summary>
    public XdpAttachMode? AttachedMode(int ifIndex) => _attachedModes.TryGetValue(ifIndex, out XdpAttachMode mode) ? mode : null;

    /// <summary>The redirect program of each device, in <see cref="Devices"/> order, once <see cref="Start"/> attached them.</summary>
    public IReadOnlyList<XskRedirectProgram> Programs => _programs;

    /// <summary>The queue indexes served on the device named <paramref name="device"/>.</summary>
    public IReadOnlyList<int> QueuesOf(string device) => _queues[device];

    /// <summary>The queue indexes, sorted, that at least one interface serves: worker i serves the i-th.</summary>
    public static int[] WorkerQueues(IEnumerable<int[]> queuesPerInterface) =>
        [.. queuesPerInterface.SelectMany(q => q).Distinct().Order()];

    /// <summary>UMEM bytes the settings need for <paramref name="workers"/> workers, for the memlock check.</summary>
    public static ulong UmemBytes(DataPlaneSettings settings, int workers) =>
        (ulong)workers * (ulong)settings.FramesPerWorker * (ulong)settings.FrameSize;

    /// <summary>Opens and checks every interface, creates its NIC in <paramref name="stack"/> (ids 1, 2, … in order), and binds the sockets.</summary>
    /// <param name="stack">The stack, made with <see cref="CountWorkers"/> workers.</param>
    /// <param name="settings">Interfaces, queues, rings and UMEM.</param>
    /// <param name="report">Receives one line per fact an operator wants at start (modes obtained, offloads).</param>
    public static DataPlane Open(NetworkStack stack, DataPlaneSettings settings, Action<string> report)
    {
        var plane = new DataPlane(stack, settings);
        try
        {
            plane.OpenDevices(report);
            plane.CreateNics();
            plane.Bind(report);
            return plane;
        }
        catch
        {
            plane.Dispose();
            throw;
        }
    }

    /// <summary>How many workers the interfaces' queues call for, before opening anything (for <see cref="StackOptions.Workers"/>).</summary>
    public static int CountWorkers(DataPlaneSettings settings) => WorkerQueues(settings).Length;

    /// <summary>The queue indexes the workers will serve, in worker order, reading a device's queue count where the settings say "all".</summary>
    public static int[] WorkerQueues(DataPlaneSettings settings) =>
        WorkerQueues(settings.Interfaces.Select(i => i.Queues ?? [.. Enumerable.Range(0, DeviceLookup.Open(i.Name).QueueCount)]));

    /// <summary>The largest frame any interface carries: its MTU plus the Ethernet header.</summary>
    public int MaxFrame { get; private set; }

    /// <summary>True when that frame does not fit one UMEM frame, so sockets bind with XDP_USE_SG and the program handles frags.</summary>
    public bool MultiBuffer { get; private set; }

    /// <summary>Starts the workers, then steers each interface's queues to them.</summary>
    public void Start(Action<string> report)
    {
        foreach (RunWorker worker in _workers)
        {
            worker.Nice = Settings.WorkerNice;
            worker.Start();
            if (worker.NiceError is { } error)
                report($"xdpstack: warning: worker {worker.Index} keeps the default priority: {error}");
        }
        if (Settings.WorkerNice != 0 && _workers.All(w => w.NiceError is null))
            report($"workers: nice {Settings.WorkerNice} (ahead of the kernel's RX threads on a CPU they share)");
        XdpAttachMode mode = Settings.AttachMode.ToAttachMode();
        foreach (NetDevice device in _devices)
        {
            XskRedirectProgram program;
            try
            {
                program = XskRedirectProgram.Attach(device, mode, MultiBuffer);
            }
            catch (XdpException e) when (e.ErrnoName is "EBUSY" or "EEXIST")
            {
                throw new ApplianceException($"{device.Name} already has an XDP program attached (another xdpstack?): {e.Message}", e);
            }
            _programs.Add(program);
            _attachedModes[device.IfIndex] = program.AttachedMode;
            foreach (RunWorker worker in _workers)
            {
                foreach (RunPort port in worker.Ports)
                {
                    if (port.Socket.Device.IfIndex == device.IfIndex)
                        program.Register(port.Socket.QueueId, port.Socket);
                }
            }
            report($"{device.Name}: XDP program {program.ProgramId} attached ({program.AttachedMode.ToString().ToLowerInvariant()}), queues {string.Join(',', _queues[device.Name])}");
            report($"{device.Name}: {CheckOffloads(device, program.AttachedMode)}");
        }
    }

    /// <summary>
    /// GRO and LRO merge received frames. Native XDP runs before GRO, and drivers (or the kernel) turn LRO off for
    /// XDP, so AF_XDP sees frames as they arrived. Generic XDP runs after GRO, on merged frames larger than the MTU
    /// that no UMEM frame holds: GRO is turned off for the run and restored at stop.
    /// </summary>
    private string CheckOffloads(NetDevice device, XdpAttachMode mode)
    {
        (bool? gro, bool? lro) = device.GetOffloads();
        string state = $"GRO {OnOff(gro)}, LRO {OnOff(lro)}";
        if (lro == true)
            return state + ": LRO would hand AF_XDP merged frames; turn it off ('ethtool -K " + device.Name + " lro off')";
        if (gro == true && mode == XdpAttachMode.Generic)
        {
            device.SetGro(false);
            _groToRestore.Add(device);
            return state + ": GRO turned off while xdpstack runs (generic XDP runs after GRO and would see merged frames); restored at stop";
        }
        return state + (gro == true ? " (GRO runs after native XDP: AF_XDP sees frames as they arrived)" : "");

        static string OnOff(bool? on) => on switch { true => "on", false => "off", null => "unknown" };
    }

    /// <summary>Stops and joins every worker; safe to call more than once.</summary>
    public void Stop()
    {
        foreach (RunWorker worker in _workers)
            worker.RequestStop();
        foreach (RunWorker worker in _workers)
            worker.Join();
    }

    /// <summary>
    /// Detaches the programs, restores GRO and stops the workers (the first half of <see cref="Dispose"/>), then
    /// reaps the last completions and returns where each worker's UMEM frames are, in worker order.
    /// </summary>
    public IReadOnlyList<FrameAccount> StopAndAccount()
    {
        DetachAndStop();
        var accounts = new FrameAccount[_workers.Length];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i].ReapAfterStop();
            accounts[i] = _workers[i].Account();
        }
        return accounts;
    }

    public void Dispose()
    {
        // A signal handler and the main thread may both get here.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        DetachAndStop();
        _ipv4?.Dispose();
        _ipv6?.Dispose();
        foreach (RunWorker worker in _workers)
            worker.WaitSet.Dispose();
        foreach (Umem umem in _umems)
            umem.Dispose();
    }

    private void DetachAndStop()
    {
        lock (_programs)
        {
            if (_stopped)
                return;
            _stopped = true;
            // Programs first, so the kernel stops steering frames into sockets that are about to stop being served.
            foreach (XskRedirectProgram program in _programs)
                program.Dispose();
            foreach (NetDevice device in _groToRestore)
            {
                try
                {
                    device.SetGro(true);
                }
                catch (XdpException)
                {
                    // The device went away meanwhile: nothing to restore.
                }
            }
            Stop();
        }
    }

    private void OpenDevices(Action<string> report)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (DataPlaneInterface iface in Settings.Interfaces)
        {
            if (!names.Add(iface.Name))
                throw new ApplianceException($"interface {iface.Name} is listed twice");
            NetDevice device = DeviceLookup.Open(iface.Name);
            int[] queues = iface.Queues ?? [.. Enumerable.Range(0, device.QueueCount)];
            foreach (int q in queues)
            {
                if (q < 0 || q >= device.QueueCount)
                    throw new ApplianceException($"{iface.Name} has {device.QueueCount} queue(s) (0-{device.QueueCount - 1}); queue {q} does not exist");
            }
            (uint programId, XdpAttachMode? attachedMode) = device.QueryXdp();
            if (programId != 0)
            {
                if (!Settings.ReplaceProgram)
                {
                    throw new ApplianceException(
                        $"{iface.Name} already has XDP program {programId} attached ({attachedMode?.ToString().ToLowerInvariant()}); " +
                        "detach it ('ip link set dev " + iface.Name + " xdp off') or set replace_program = true");
                }
                BpfLink.DetachForeign(device);
                report($"{iface.Name}: replaced XDP program {programId} as configured");
                device = NetDevice.Open(iface.Name);
            }
            _devices.Add(device);
            _queues[iface.Name] = queues;
        }
        if (Settings.Cores is int[] cores)
            CoreCheck.EnsureUsable(cores);
        // A sub-interface's frames carry a 4-octet tag on top of its MTU, which is at most the parent's.
        MaxFrame = _devices.Max(d => d.Mtu + EthernetHeader + (Settings.Vlans.Any(v => v.Parent == d.Name) ? EthernetFrame.VlanTagLength : 0));
        MultiBuffer = RunWorker.NeedsMultiBuffer(Settings.FrameSize, MaxFrame);
        if (MultiBuffer)
        {
            NetDevice widest = _devices.MaxBy(d => d.Mtu)!;
            report($"{widest.Name}: MTU {widest.Mtu} does not fit one {Settings.FrameSize}-byte UMEM frame: multi-buffer AF_XDP " +
                "(larger frames arrive and leave as chains of frames; the workers copy them, single-frame packets stay zero-copy)");
        }
    }

    private void CreateNics()
    {
        for (int i = 0; i < _devices.Count; i++)
        {
            NetDevice device = _devices[i];
            var link = new XdpNicLink(device.Name, new NicId(i + 1), new MacAddress(device.Mac), device.Mtu);
            StackError error = Stack.CreateNic(link.NicId, link, device.Name);
            if (error != StackError.None)
                throw new ApplianceException($"{device.Name}: the stack refused the NIC: {error}");
            _links.Add(link);
        }
        var ids = new HashSet<(string, ushort)>();
        foreach (DataPlaneVlan vlan in Settings.Vlans)
        {
            int parentIndex = _devices.FindIndex(d => d.Name == vlan.Parent);
            if (parentIndex < 0)
                throw new ApplianceException($"{vlan.Name}: parent interface {vlan.Parent} is not one of the appliance's interfaces");
            if (vlan.VlanId is < VlanTag.MinId or > VlanTag.MaxId || !ids.Add((vlan.Parent, vlan.VlanId)))
                throw new ApplianceException($"{vlan.Name}: VLAN id {vlan.VlanId} is outside {VlanTag.MinId}-{VlanTag.MaxId} or already used on {vlan.Parent}");
            XdpNicLink parent = _links[parentIndex];
            if (vlan.Mtu > parent.Mtu)
                throw new ApplianceException($"{vlan.Name}: MTU {vlan.Mtu} is above its parent {vlan.Parent}'s {parent.Mtu}");
            var link = new XdpNicLink(vlan.Name, new NicId(_links.Count + 1), parent, vlan.VlanId, vlan.Mtu ?? parent.Mtu);
            StackError error = Stack.CreateNic(link.NicId, link, vlan.Name);
            if (error != StackError.None)
                throw new ApplianceException($"{vlan.Name}: the stack refused the NIC: {error}");
            _links.Add(link);
        }
    }

    /// <summary>The VLAN sub-interfaces of the interface with link <paramref name="parent"/>, for its ports' demux; null when it has none.</summary>
    private VlanDemux? DemuxOf(XdpNicLink parent)
    {
        XdpNicLink[] subs = [.. _links.Where(l => l.Parent == parent)];
        return subs.Length == 0 ? null : new VlanDemux(subs);
    }

    private void Bind(Action<string> report)
    {
        int[] workerQueues = WorkerQueues(_devices.Select(d => _queues[d.Name]));
        if (workerQueues.Length != Stack.Workers)
            throw new InvalidOperationException($"the stack has {Stack.Workers} worker(s), the interfaces need {workerQueues.Length}");
        if (Settings.Cores is int[] cores && cores.Length < workerQueues.Length)
            throw new ApplianceException($"{workerQueues.Length} workers need {workerQueues.Length} cores; only {cores.Length} given");

        XskSocketOptions SocketOptions(int prefill) => new()
        {
            PrefillFrames = prefill,
            Mode = Settings.CopyMode.ToBindMode(),
            NeedWakeup = true,
            BusyPoll = Settings.BusyPoll,
            BusyPollBudget = Settings.Batch,
            RxRingSize = Settings.RxRingSize,
            TxRingSize = Settings.TxRingSize,
            FillRingSize = Settings.FillRingSize,
            CompletionRingSize = Settings.CompletionRingSize,
            MultiBuffer = MultiBuffer,
        };
        // Double-buffered route updates: each writes the LPM the workers left, not a 64 MiB copy. The workers quiesce
        // once per round (one store) and go offline while they sleep.
        _ipv4 = new Ipv4FastForwarder(Stack, Settings.LpmHugePages, doubleBuffered: true);
        _ipv6 = new Ipv6FastForwarder(Stack, Settings.LpmHugePages);
        int nicSlots = _links.Count + 1;
        var workers = new RunWorker[workerQueues.Length];
        var portOfWorker = new int[_devices.Count][];
        VlanDemux?[] demuxes = [.. _devices.Select((_, l) => DemuxOf(_links[l]))];
        for (int l = 0; l < _devices.Count; l++)
            portOfWorker[l] = Enumerable.Repeat(-1, workers.Length).ToArray();

        for (int w = 0; w < workers.Length; w++)
        {
            int queue = workerQueues[w];
            int scratch = RunWorker.ScratchFrames(Settings.FrameSize, Settings.Batch, MaxFrame);
            var umem = new Umem(new UmemOptions
            {
                FrameSize = Settings.FrameSize,
                FrameCount = Settings.FramesPerWorker + scratch,
                ReservedFrames = scratch,
                HugePages = Settings.UmemHugePages,
            });
            _umems.Add(umem);
            if (umem.HugePagesFallbackReason is string reason)
                report($"worker {w}: UMEM on 4 KiB pages ({reason})");
            var ports = new List<RunPort>();
            // The fill rings get the pool less the worker's reserve, shared out: prefilled to the brim, four rings of
            // 4096 would take every frame, and the stack's first frames (the ARP announcements of its addresses)
            // would find the pool empty.
            int portCount = _devices.Count(d => _queues[d.Name].Contains(queue));
            int prefill = (umem.Frames.Available - RunWorker.PoolReserve(Settings.Batch, umem.FrameCount)) / Math.Max(portCount, 1);
            XskSocketOptions socketOptions = SocketOptions(Math.Min(prefill, Settings.FillRingSize));
            for (int l = 0; l < _devices.Count; l++)
            {
                NetDevice device = _devices[l];
                if (!_queues[device.Name].Contains(queue))
                    continue;
                int before = umem.Frames.Available;
                XskSocket socket;
                try
                {
                    socket = XskSocket.Create(device, queue, umem, socketOptions);
                }
                catch (XdpException e) when (e.ErrnoName == "EBUSY")
                {
                    throw new ApplianceException($"queue {queue} of {device.Name} is busy: another AF_XDP socket (another xdpstack?) is bound to it", e);
                }
                // One kick per batch instead of one per 32 frames where the kernel allows it.
                if (!socket.ZeroCopy)
                    TxBudget.TryRaise(socket, Math.Max(32, Settings.Batch));
                portOfWorker[l][w] = ports.Count;
                ports.Add(new RunPort(socket, _links[l], pendingCapacity: Settings.Batch * 4, prefilled: (ulong)(before - umem.Frames.Available), nicSlots: nicSlots)
                {
                    Vlans = demuxes[l],
                });
                report($"{device.Name} queue {queue}: worker {w}, {(socket.ZeroCopy ? "zero-copy" : "copy")} mode{(socket.BusyPoll ? ", busy poll" : "")}");
            }
            int? cpu = Settings.Cores is int[] c ? c[w] : null;
            workers[w] = new RunWorker(w, cpu, umem, [.. ports], nicSlots, workers.Length, _ipv4, _ipv6,
                Settings.Batch, Settings.BusyPoll, Settings.HandoffCapacity, MaxFrame, Stack);
        }

        var linkOfNic = new XdpNicLink?[nicSlots];
        for (int l = _devices.Count; l < _links.Count; l++)
        {
            linkOfNic[_links[l].NicId.Value] = _links[l];
            _links[l].BindVlan(workers.Length, MaxFrame);
        }
        for (int l = 0; l < _devices.Count; l++)
        {
            linkOfNic[_links[l].NicId.Value] = _links[l];
            // A worker without a socket on this interface sends through the worker of queue (w mod n).
            int[] owners = portOfWorker[l].Select((p, w) => w).Where(w => portOfWorker[l][w] >= 0).ToArray();
            int[] ownerOfWorker = new int[workers.Length];
            for (int w = 0; w < workers.Length; w++)
                ownerOfWorker[w] = portOfWorker[l][w] >= 0 ? w : owners[w % owners.Length];
            _links[l].Bind(workers, portOfWorker[l], ownerOfWorker);
        }
        foreach (RunWorker worker in workers)
            worker.Bind(workers, linkOfNic);
        _workers = workers;
    }
}
