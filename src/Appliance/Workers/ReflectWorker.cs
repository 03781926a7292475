using XdpStack.Xdp;

namespace XdpStack.Appliance.Workers;

/// <summary>One dedicated thread that reflects every frame arriving on one queue back out of it.</summary>
/// <remarks>
/// The thread owns its socket, UMEM and frame pool outright; nothing it touches per batch is
/// shared except its counter slot, which only it writes. Per batch it: reaps completions into the
/// pool, refills the fill ring from the pool, peeks up to <c>batch</c> RX descriptors, swaps each
/// frame in place, and puts the very same descriptors on the TX ring. A frame is thus always in
/// exactly one place: pool, fill ring, kernel, RX ring, this loop, TX ring or completion ring.
/// </remarks>
internal sealed class ReflectWorker
{
    /// <summary>Empty rounds spent spinning before the worker blocks in poll().</summary>
    private const int SpinRounds = 64;

    /// <summary>Longest poll() sleep; bounds how late the worker notices a stop request.</summary>
    private const int IdlePollMilliseconds = 20;

    private readonly XskSocket _socket;
    private readonly Umem _umem;
    private readonly WorkerCounters[] _counters;
    private readonly int _slot;
    private readonly int _batch;
    private readonly SwapMode _swap;
    private readonly bool _busyPoll;
    private readonly int? _cpu;
    private readonly ulong[] _scratchAddresses;
    private readonly uint[] _scratchLengths;
    private Thread? _thread;

    // Written by the control thread, read once per round by the worker.
    private volatile bool _stopRequested;

    public ReflectWorker(int queueId, XskSocket socket, Umem umem, WorkerCounters[] counters, int slot,
        int batch, SwapMode swap, bool busyPoll, int? cpu)
    {
        QueueId = queueId;
        _socket = socket;
        _umem = umem;
        _counters = counters;
        _slot = slot;
        _batch = batch;
        _swap = swap;
        _busyPoll = busyPoll;
        _cpu = cpu;
        _scratchAddresses = new ulong[batch];
        _scratchLengths = new uint[batch];
        Activity = new WorkerActivity(batch);
    }

    public int QueueId { get; }

    public int? Cpu => _cpu;

    public XskSocket Socket => _socket;

    public Umem Umem => _umem;

    /// <summary>Rounds, busy time and RX batch sizes.</summary>
    public WorkerActivity Activity { get; }

    /// <summary>Starts the thread. Call it from a thread in the socket's network namespace: the worker inherits it.</summary>
    public void Start()
    {
        _thread = new Thread(Run)
        {
            IsBackground = true,
            Name = $"xdpstack q{QueueId}",
        };
        _thread.Start();
    }

    public void RequestStop() => _stopRequested = true;

    public void Join() => _thread?.Join();

    private void Run()
    {
        try
        {
            if (_cpu is int cpu)
                CpuAffinity.PinCurrentThread(cpu);
            Loop();
        }
        catch (Exception e)
        {
            // A worker that dies quietly would leave its queue black-holed while the stats
            // look merely idle; better to end the process loudly.
            Environment.FailFast($"xdpstack: reflect worker for queue {QueueId} failed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    private void Loop()
    {
        ref WorkerCounters counters = ref _counters[_slot];
        FramePool pool = _umem.Frames;
        int idleRounds = 0;
        WorkerActivity activity = Activity;
        activity.Start();
        while (!_stopRequested)
        {
            activity.BeginRound();
            int completed = ReapCompletions(pool, ref counters);
            Refill(pool);
            int received = ReflectBatch(pool, ref counters);
            if (received > 0 || completed > 0)
            {
                activity.MarkBusy();
                idleRounds = 0;
                continue;
            }
            if (_busyPoll)
            {
                // Preferred busy polling runs the driver's NAPI inside this syscall.
                _socket.Poll(0);
                counters.RxWakeups++;
            }
            if (++idleRounds < SpinRounds)
            {
                Thread.SpinWait(20);
                continue;
            }
            // Nothing for a while: sleep in poll() so the CPU goes to the kernel's RX work (on a
            // shared core that is what feeds us), and so the fill ring's need_wakeup is served.
            counters.IdlePolls++;
            counters.RxWakeups++;
            _socket.Poll(IdlePollMilliseconds);
            idleRounds = SpinRounds / 2;
        }
    }

    /// <summary>
    /// Wakes the kernel's transmit path while it asks for it and has not taken everything. In copy
    /// mode each sendto() sends at most the socket's TX budget (32 frames unless raised), so a
    /// batch can need more than one kick; the bound keeps a back-pressured device from turning
    /// this into a spin.
    /// </summary>
    private void KickTx(ref WorkerCounters counters)
    {
        int maxKicks = _batch / 32 + 2;
        for (int kicks = 0; kicks < maxKicks && _socket.Tx.NeedsWakeup && _socket.Tx.Outstanding > 0; kicks++)
        {
            _socket.WakeTx();
            counters.TxWakeups++;
        }
    }

    private int ReapCompletions(FramePool pool, ref WorkerCounters counters)
    {
        int n = _socket.Completion.Peek(_batch * 2, out uint index);
        if (n == 0)
            return 0;
        for (int i = 0; i < n; i++)
            pool.Put(_socket.Completion[index + (uint)i]);
        _socket.Completion.Release(n);
        counters.Completions += (ulong)n;
        return n;
    }

    private void Refill(FramePool pool)
    {
        int want = Math.Min(pool.Available, _batch * 4);
        if (want == 0)
            return;
        int reserved = _socket.Fill.Reserve(want, out uint index);
        for (int i = 0; i < reserved; i++)
        {
            pool.TryGet(out ulong address);
            _socket.Fill[index + (uint)i] = address;
        }
        if (reserved > 0)
            _socket.Fill.Submit(reserved);
    }

    private int ReflectBatch(FramePool pool, ref WorkerCounters counters)
    {
        int received = _socket.Rx.Peek(_batch, out uint rxIndex);
        if (received == 0)
            return 0;

        // Pass 1: swap every frame in place; keep the good ones in order.
        int keep = 0;
        ulong bytes = 0;
        for (int i = 0; i < received; i++)
        {
            ref readonly XdpDescriptor desc = ref _socket.Rx.Descriptor(rxIndex + (uint)i);
            bytes += desc.Length;
            if (FrameReflector.Reflect(_umem.GetFrame(desc.Address, (int)desc.Length), _swap))
            {
                _scratchAddresses[keep] = desc.Address;
                _scratchLengths[keep] = desc.Length;
                keep++;
            }
            else
            {
                pool.Put(desc.Address);
                counters.Dropped++;
                counters.ShortFrameDrops++;
            }
        }
        _socket.Rx.Release(received);

        // Pass 2: the same descriptors (address and length) go out on the TX ring.
        int reserved = _socket.Tx.Reserve(keep, out uint txIndex);
        ulong txBytes = 0;
        for (int i = 0; i < reserved; i++)
        {
            ref XdpDescriptor tx = ref _socket.Tx.Descriptor(txIndex + (uint)i);
            tx.Address = _scratchAddresses[i];
            tx.Length = _scratchLengths[i];
            tx.Options = 0;
            txBytes += _scratchLengths[i];
        }
        for (int i = reserved; i < keep; i++)
        {
            pool.Put(_scratchAddresses[i]);
            counters.Dropped++;
            counters.TxRingFullDrops++;
        }
        if (reserved > 0)
        {
            _socket.Tx.Submit(reserved);
            KickTx(ref counters);
        }

        counters.RxPackets += (ulong)received;
        counters.RxBytes += bytes;
        counters.TxPackets += (ulong)reserved;
        counters.TxBytes += txBytes;
        counters.Batches++;
        Activity.CountBatch(received);
        return received;
    }
}
