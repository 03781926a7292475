using XdpStack.Appliance.Cli;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Workers;

/// <summary>The running reflector: a device, its redirect program, and one socket and worker per queue.</summary>
/// <remarks>
/// Start it from a thread inside the device's network namespace; the workers inherit the
/// namespace. <see cref="Dispose"/> stops the workers first, then detaches the program and closes
/// the sockets and UMEMs, so no worker ever touches a ring that is gone.
/// </remarks>
internal sealed class Reflector : IDisposable
{
    /// <summary>UMEM frames per queue: enough to keep the fill ring full while RX and TX hold frames too.</summary>
    public const int FramesPerQueue = 8192;

    public const int FrameSize = 2048;

    public const int RingSize = 2048;

    /// <summary>
    /// The fill ring is twice the RX ring: when the worker falls behind, frames wait in the RX
    /// ring instead of the kernel dropping them for want of a fill entry.
    /// </summary>
    public const int FillRingSize = 2 * RingSize;

    private readonly List<ReflectWorker> _workers = [];
    private readonly List<XskSocket> _sockets = [];
    private readonly List<Umem> _umems = [];
    private XskRedirectProgram? _program;
    private int _disposed;

    private Reflector(NetDevice device, ReflectSettings settings)
    {
        Device = device;
        Settings = settings;
    }

    public NetDevice Device { get; }

    public ReflectSettings Settings { get; }

    public IReadOnlyList<ReflectWorker> Workers => _workers;

    /// <summary>One counter slot per worker, in <see cref="Workers"/> order.</summary>
    public WorkerCounters[] Counters { get; private set; } = [];

    /// <summary>"native" or "generic": where the redirect program actually runs.</summary>
    public string AttachedMode => _program?.AttachedMode.ToString().ToLowerInvariant() ?? "none";

    /// <summary>Where the program runs, or null before it is attached.</summary>
    public XdpAttachMode? AttachMode => _program?.AttachedMode;

    /// <summary>UMEM bytes needed for <paramref name="queues"/> queues, for the memlock check.</summary>
    public static ulong UmemBytes(int queues) => (ulong)queues * FramesPerQueue * FrameSize;

    /// <summary>Opens the device, binds one socket per queue, attaches the program and starts the workers.</summary>
    public static Reflector Start(ReflectSettings settings)
    {
        NetDevice device = DeviceLookup.Open(settings.Interface);
        int[] queues = settings.Queues ?? [.. Enumerable.Range(0, device.QueueCount)];
        foreach (int q in queues)
        {
            if (q >= device.QueueCount)
                throw new ApplianceException($"{settings.Interface} has {device.QueueCount} queue(s) (0-{device.QueueCount - 1}); queue {q} does not exist");
        }
        if (settings.Cores is int[] cores)
            CoreCheck.EnsureUsable(cores);

        var reflector = new Reflector(device, settings);
        try
        {
            reflector.Bind(queues);
            reflector.Attach();
            foreach (ReflectWorker worker in reflector._workers)
                worker.Start();
            return reflector;
        }
        catch
        {
            reflector.Dispose();
            throw;
        }
    }

    private void Bind(int[] queues)
    {
        Counters = new WorkerCounters[queues.Length];
        var options = new XskSocketOptions
        {
            Mode = Settings.CopyMode.ToBindMode(),
            NeedWakeup = true,
            BusyPoll = Settings.BusyPoll,
            BusyPollBudget = Settings.Batch,
            RxRingSize = RingSize,
            TxRingSize = RingSize,
            FillRingSize = FillRingSize,
            CompletionRingSize = RingSize,
        };
        for (int i = 0; i < queues.Length; i++)
        {
            int queue = queues[i];
            var umem = new Umem(new UmemOptions { FrameSize = FrameSize, FrameCount = FramesPerQueue });
            _umems.Add(umem);
            XskSocket socket;
            try
            {
                socket = XskSocket.Create(Device, queue, umem, options);
            }
            catch (XdpException e) when (e.ErrnoName == "EBUSY")
            {
                throw new ApplianceException($"queue {queue} of {Settings.Interface} is busy: another AF_XDP socket (another xdpstack?) is bound to it", e);
            }
            _sockets.Add(socket);
            // One kick per batch instead of one per 32 frames where the kernel allows it.
            if (!socket.ZeroCopy)
                TxBudget.TryRaise(socket, Math.Max(32, Settings.Batch));
            int? cpu = Settings.Cores is int[] cores ? cores[i % cores.Length] : null;
            _workers.Add(new ReflectWorker(queue, socket, umem, Counters, i, Settings.Batch, Settings.Swap, Settings.BusyPoll, cpu));
        }
    }

    private void Attach()
    {
        XdpAttachMode mode = Settings.AttachMode.ToAttachMode();
        try
        {
            _program = XskRedirectProgram.Attach(Device, mode);
        }
        catch (XdpException e) when (e.ErrnoName == "EBUSY" || e.ErrnoName == "EEXIST")
        {
            throw new ApplianceException($"{Settings.Interface} already has an XDP program attached (another xdpstack?): {e.Message}", e);
        }
        foreach (ReflectWorker worker in _workers)
            _program.Register(worker.QueueId, worker.Socket);
    }

    /// <summary>Reads every worker's counters.</summary>
    public CounterSnapshot[] Snapshot()
    {
        var result = new CounterSnapshot[Counters.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = Counters[i].Snapshot();
        return result;
    }

    /// <summary>Stops and joins every worker; safe to call more than once.</summary>
    public void Stop()
    {
        foreach (ReflectWorker worker in _workers)
            worker.RequestStop();
        foreach (ReflectWorker worker in _workers)
            worker.Join();
    }

    public void Dispose()
    {
        // A signal handler and the main thread may both get here.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Stop();
        _program?.Dispose();
        foreach (XskSocket socket in _sockets)
            socket.Dispose();
        foreach (Umem umem in _umems)
            umem.Dispose();
    }
}
