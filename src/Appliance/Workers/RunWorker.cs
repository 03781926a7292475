using XdpStack.Appliance.Capture;
using XdpStack.Stack;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Workers;

/// <summary>One pinned thread serving one queue index on every interface: the fast paths first, then the stack, run to completion.</summary>
/// <remarks>
/// <para>
/// The worker owns one UMEM, shared by its sockets on every interface (each with its own fill and completion ring),
/// so forwarding a frame between interfaces moves its descriptor from one socket's RX ring to another's TX ring
/// without a copy. Per round it reaps completions, refills the fill rings, drains the frames other threads handed
/// it, then per socket takes an RX batch: the IPv4 and IPv6 fast paths decide first, everything they leave goes to
/// the stack as one batch delivered as this worker, frames the stack turned into replies leave by the ingress TX
/// ring, and the rest return to the pool. Frames the stack builds (<c>WriteFrame</c>) are copied into frames of the
/// pool.
/// </para>
/// <para>
/// Packets larger than a frame (jumbo MTUs) arrive as chains of descriptors (multi-buffer AF_XDP): the worker gathers
/// each chain into a contiguous slot of the UMEM's reserved frames, so the fast paths and the stack see one frame,
/// and sends anything larger than a frame as a chain of pool frames. Both are copies in user space, paid only by
/// packets that do not fit one frame.
/// </para>
/// <para>
/// A UMEM frame is always in exactly one place: the pool, a fill ring or the kernel, an RX ring, this loop, a TX
/// ring or the kernel, a completion ring (<see cref="Account"/>). Per frame there is no allocation, lock, syscall
/// or <c>Interlocked</c>: syscalls are per batch (TX kicks when the kernel asks) or per idle period (poll).
/// </para>
/// </remarks>
internal sealed unsafe class RunWorker
{
    /// <summary>Empty rounds spent spinning before the worker sleeps in poll().</summary>
    private const int SpinRounds = 64;

    /// <summary>Longest poll() sleep; bounds how late the worker notices a stop request.</summary>
    private const int IdlePollMilliseconds = 20;

    /// <summary>Where the kernel puts a received frame in its UMEM frame (XDP_PACKET_HEADROOM); gathered frames keep the same headroom.</summary>
    private const int KernelHeadroom = 256;

    private readonly Umem _umem;
    private readonly int _frameSize;
    private readonly ulong _scratchBase;
    private readonly int _slotBytes;
    private readonly int _maxChain;
    private readonly FramePool _pool;
    private readonly RunPort[] _ports;
    private readonly int[] _portOfNic;

    // _vlanOfNic[n]: the VLAN id NIC n's frames are tagged with on its parent's port (_portOfNic[n]); 0 when untagged.
    private readonly ushort[] _vlanOfNic;
    private readonly Ipv4FastForwarder? _ipv4;
    private readonly Ipv6FastForwarder? _ipv6;
    private readonly int _batch;
    private readonly int _poolReserve;
    private readonly bool _busyPoll;
    private readonly FrameHandoff[] _inboxes;
    private readonly Lock _controlProducers = new();
    private readonly Frame[] _frames;
    private readonly ulong[] _addresses;
    private readonly ForwardVerdict[] _verdicts;
    private readonly int[] _egress;

    // Frames of an RX batch that the VLAN demux gave to sub-interfaces, with their (stripped) addresses and sub-interface.
    private readonly Frame[] _vlanFrames;
    private readonly ulong[] _vlanAddresses;
    private readonly int[] _vlanSubs;
    private readonly NetworkStack? _stack;
    private RunWorker[] _workers = [];
    private Links.XdpNicLink?[] _linkOfNic = [];
    private ulong _wakeMask;
    private Thread? _thread;
    private volatile bool _stopRequested;

    // Set before the thread starts (AttachPunt); the worker wakes the punt thread through it once per round.
    private Punt.PuntLane? _punt;

    // Control thread publishes (PublishCapture); the worker reads it once per RX batch and per TX flush.
    private CaptureLane? _capture;

    /// <param name="index">The worker's index: its stack worker number and its slot in every worker's inbox array.</param>
    /// <param name="cpu">The CPU to pin to, if any.</param>
    /// <param name="umem">The worker's UMEM, already shared by every socket of <paramref name="ports"/>.</param>
    /// <param name="ports">One per interface that has this queue index.</param>
    /// <param name="nicSlots">One more than the largest NIC id value, to map egress NICs to ports.</param>
    /// <param name="workerCount">How many workers there are: one inbox for each, plus one for control threads.</param>
    /// <param name="ipv4">The IPv4 fast path, shared by every worker, or null.</param>
    /// <param name="ipv6">The IPv6 fast path, shared by every worker, or null.</param>
    /// <param name="batch">The most RX descriptors taken per socket and round.</param>
    /// <param name="busyPoll">Whether idle rounds kick the driver's NAPI (preferred busy polling).</param>
    /// <param name="handoffCapacity">Frames each inbox holds.</param>
    /// <param name="maxFrame">The largest frame, Ethernet header included, any interface carries (MTU + 14).</param>
    /// <param name="stack">The stack whose per-worker timers (TCP) this worker runs between batches, or null.</param>
    public RunWorker(int index, int? cpu, Umem umem, RunPort[] ports, int nicSlots, int workerCount,
        Ipv4FastForwarder? ipv4, Ipv6FastForwarder? ipv6, int batch, bool busyPoll, int handoffCapacity, int maxFrame,
        NetworkStack? stack = null)
    {
        _stack = stack;
        Index = index;
        Cpu = cpu;
        _umem = umem;
        _frameSize = umem.FrameSize;
        _scratchBase = umem.ReservedStart;
        MultiBuffer = NeedsMultiBuffer(umem.FrameSize, maxFrame);
        if (MultiBuffer)
        {
            if (umem.ReservedFrames < ScratchFrames(umem.FrameSize, batch, maxFrame))
                throw new ArgumentException($"the UMEM reserves {umem.ReservedFrames} frames; {ScratchFrames(umem.FrameSize, batch, maxFrame)} are needed to gather {maxFrame}-byte frames", nameof(umem));
            _slotBytes = SlotFrames(umem.FrameSize, maxFrame) * umem.FrameSize;
            // One more descriptor than a full slot needs, so that a chain the MTU does not allow is seen whole and dropped.
            _maxChain = (maxFrame + umem.FrameSize - KernelHeadroom - 1) / (umem.FrameSize - KernelHeadroom) + 1;
        }
        _pool = umem.Frames;
        _ports = ports;
        _ipv4 = ipv4;
        _ipv6 = ipv6;
        _batch = batch;
        _busyPoll = busyPoll;
        // Frames the stack builds mid-batch (ARP replies, ICMP errors) and hand-offs need frames while every fill
        // ring is topped up: refilling stops short of this many.
        _poolReserve = PoolReserve(batch, umem.FrameCount);
        _portOfNic = new int[nicSlots];
        Array.Fill(_portOfNic, -1);
        _vlanOfNic = new ushort[nicSlots];
        for (int p = 0; p < ports.Length; p++)
        {
            _portOfNic[ports[p].NicId.Value] = p;
            // A sub-interface leaves by its parent's socket of this worker.
            foreach (Links.XdpNicLink sub in ports[p].Vlans?.Links ?? [])
            {
                _portOfNic[sub.NicId.Value] = p;
                _vlanOfNic[sub.NicId.Value] = sub.VlanId;
            }
        }
        // One inbox per other worker (single producer each) and one for control threads (index workerCount).
        _inboxes = new FrameHandoff[workerCount + 1];
        for (int i = 0; i <= workerCount; i++)
            _inboxes[i] = new FrameHandoff(handoffCapacity, Math.Max(umem.FrameSize, maxFrame));
        _frames = new Frame[batch];
        _addresses = new ulong[batch];
        _verdicts = new ForwardVerdict[batch];
        _egress = new int[batch];
        _vlanFrames = new Frame[batch];
        _vlanAddresses = new ulong[batch];
        _vlanSubs = new int[batch];
        Counters = new RunWorkerCounters(nicSlots);
        Activity = new WorkerActivity(batch);
        WaitSet = new XskWaitSet(ports.Select(p => p.Socket).ToArray());
    }

    /// <summary>Frames the pool keeps back from the fill rings: room for what the stack builds and for hand-offs.</summary>
    public static int PoolReserve(int batch, int frameCount) => Math.Min(4 * batch, frameCount / 8);

    public int Index { get; }

    /// <summary>True when some interface's frames do not fit one UMEM frame, so sockets use multi-buffer chains.</summary>
    public bool MultiBuffer { get; }

    /// <summary>Whether frames of <paramref name="maxFrame"/> bytes need more than one UMEM frame of <paramref name="frameSize"/> bytes.</summary>
    public static bool NeedsMultiBuffer(int frameSize, int maxFrame) => maxFrame > frameSize - KernelHeadroom;

    /// <summary>The frames a worker's UMEM must reserve as gathering slots (one per packet of an RX batch); 0 without multi-buffer.</summary>
    public static int ScratchFrames(int frameSize, int batch, int maxFrame) =>
        NeedsMultiBuffer(frameSize, maxFrame) ? batch * SlotFrames(frameSize, maxFrame) : 0;

    private static int SlotFrames(int frameSize, int maxFrame) => (KernelHeadroom + maxFrame + frameSize - 1) / frameSize;

    public int? Cpu { get; }

    public IReadOnlyList<RunPort> Ports => _ports;

    public Umem Umem => _umem;

    public XskWaitSet WaitSet { get; }

    public RunWorkerCounters Counters { get; }

    /// <summary>Rounds, busy time and RX batch sizes.</summary>
    public WorkerActivity Activity { get; }

    /// <summary>Frames in the pool now (read from another thread: a moment's view).</summary>
    public int PoolAvailable => _pool.Available;

    /// <summary>The hand-off control threads write to (under this worker's producer lock).</summary>
    public FrameHandoff ControlInbox => _inboxes[^1];

    /// <summary>Gives the worker every worker (to wake the ones it hands frames to) and every interface's link by NIC id value.</summary>
    public void Bind(RunWorker[] workers, Links.XdpNicLink?[] linkOfNic)
    {
        _workers = workers;
        _linkOfNic = linkOfNic;
    }

    /// <summary>Before <see cref="Start"/>: the lane this worker's punted frames take to the punt thread, which it wakes once per round.</summary>
    public void AttachPunt(Punt.PuntLane lane) => _punt = lane;

    /// <summary>Starts the thread; call it from a thread in the sockets' network namespace, which the worker inherits.</summary>
    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = $"xdpstack w{Index}" };
        _thread.Start();
        // The thread sets its own nice value while the process still has CAP_SYS_NICE (privileges drop after start-up).
        _settled.Wait();
    }

    /// <summary>Before <see cref="Start"/>: the worker thread's nice value; 0 leaves it as inherited.</summary>
    public int Nice { get; set; }

    /// <summary>After <see cref="Start"/>: why the nice value could not be set, or null.</summary>
    public string? NiceError { get; private set; }

    private readonly ManualResetEventSlim _settled = new();

    public void RequestStop()
    {
        _stopRequested = true;
        WaitSet.Wake();
    }

    public void Join() => _thread?.Join();

    /// <summary>Control thread: starts (a lane) or stops (null) copying this worker's frames for <c>xdpstack capture</c>.</summary>
    public void PublishCapture(CaptureLane? lane) => Volatile.Write(ref _capture, lane);

    /// <summary>
    /// Worker thread: copies <paramref name="frame"/> into a pool frame and queues it on port <paramref name="port"/>.
    /// False (counted) when the pool is empty.
    /// </summary>
    public bool SendCopy(int port, ReadOnlySpan<byte> frame)
    {
        if (frame.Length > _frameSize)
        {
            if (!QueueChain(_ports[port], frame))
                return false;
            Counters.StackBuilt++;
            return true;
        }
        if (!_pool.TryGet(out ulong address))
        {
            Counters.Drop(_ports[port].NicId.Value, WorkerDrop.PoolEmpty);
            return false;
        }
        frame.CopyTo(_umem.GetFrame(address, frame.Length));
        Queue(_ports[port], address, (uint)frame.Length);
        Counters.StackBuilt++;
        return true;
    }

    /// <summary>Worker thread: hands a copy of <paramref name="frame"/> to <paramref name="owner"/>, which sends it on its port <paramref name="ownerPort"/>.</summary>
    public bool HandOff(RunWorker owner, int ownerPort, ReadOnlySpan<byte> frame)
    {
        if (!owner._inboxes[Index].TryEnqueue(ownerPort, frame))
        {
            Counters.Drop(owner._ports[ownerPort].NicId.Value, WorkerDrop.HandoffFull);
            return false;
        }
        Counters.HandoffsOut++;
        _wakeMask |= 1UL << (owner.Index & 63);
        return true;
    }

    /// <summary>Any control thread: hands a copy of <paramref name="frame"/> to this worker for its port <paramref name="port"/>.</summary>
    public bool EnqueueFromControl(int port, ReadOnlySpan<byte> frame)
    {
        bool queued;
        lock (_controlProducers)
        {
            queued = ControlInbox.TryEnqueue(port, frame);
            if (queued)
                Counters.ControlHandoffs++;
            else
                Counters.Drop(_ports[port].NicId.Value, WorkerDrop.ControlHandoffFull);
        }
        if (queued)
            WaitSet.Wake();
        return queued;
    }

    /// <summary>Where the UMEM's frames are; call it once the thread has stopped, for an exact count.</summary>
    public FrameAccount Account()
    {
        ulong fill = 0, tx = 0;
        int pending = 0;
        foreach (RunPort port in _ports)
        {
            fill += port.FillSubmitted - port.RxDescriptors;
            tx += port.TxDescriptors - port.Completed;
            pending += port.PendingCount;
        }
        return new FrameAccount(_pool.Capacity, _pool.Available, fill, tx, pending);
    }

    /// <summary>After the thread stopped: reaps whatever completions arrived since, so <see cref="Account"/> sees them.</summary>
    public void ReapAfterStop()
    {
        foreach (RunPort port in _ports)
            Reap(port);
    }

    private void Run()
    {
        try
        {
            try
            {
                if (Cpu is int cpu)
                    CpuAffinity.PinCurrentThread(cpu);
                if (Nice != 0)
                    NiceError = ThreadNice.TrySetCurrent(Nice);
            }
            finally
            {
                _settled.Set();
            }
            // The IPv4 fast path's LPM is double-buffered: a table is written again only after every worker has left it.
            ReaderEpoch? lpmReader = _ipv4?.RegisterReader();
            try
            {
                Loop(lpmReader);
            }
            finally
            {
                if (lpmReader is not null)
                    _ipv4!.UnregisterReader(lpmReader);
            }
        }
        catch (Exception e)
        {
            // A worker that dies quietly would black-hole its queues while the counters look merely idle.
            Environment.FailFast($"xdpstack: worker {Index} failed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    // Busy rounds between two readings of the thread's allocated bytes (a power of two, less one).
    private const int AllocationSampleMask = 4095;
    private uint _busyRounds;

    private void Loop(ReaderEpoch? lpmReader)
    {
        var memory = new Span<byte>(_umem.Base, checked((int)_umem.Size));
        int idleRounds = 0;
        WorkerActivity activity = Activity;
        activity.Start();
        while (!_stopRequested)
        {
            activity.BeginRound();
            // Between rounds the worker holds nothing it read from the LPM: one plain store.
            lpmReader?.Quiesce();
            int work = 0;
            foreach (RunPort port in _ports)
                work += Reap(port);
            foreach (RunPort port in _ports)
                Refill(port);
            work += DrainInboxes();
            foreach (RunPort port in _ports)
                work += Receive(port, memory);
            // The stack's timers for this worker's connections (retransmission, delayed ACK, TIME_WAIT): one
            // comparison when nothing is due; what they send is queued with the batch's replies.
            _stack?.PollTimers(Index);
            foreach (RunPort port in _ports)
                Flush(port);
            WakeOwners();
            _punt?.WakeIfPending();
            if (work > 0)
            {
                activity.MarkBusy();
                idleRounds = 0;
                // A worker under constant load never goes idle: its allocation figure is refreshed every so many
                // busy rounds as well (a thread-local read, not a syscall), so a soak can watch it stay flat.
                if ((++_busyRounds & AllocationSampleMask) == 0)
                    Counters.AllocatedBytes = GC.GetAllocatedBytesForCurrentThread();
                continue;
            }
            if (_busyPoll)
            {
                // Preferred busy polling runs the driver's NAPI inside this syscall.
                foreach (RunPort port in _ports)
                {
                    port.Socket.WakeRx();
                    port.RxWakeups++;
                }
            }
            if (++idleRounds < SpinRounds)
            {
                Thread.SpinWait(20);
                // Idle, not per frame: on a CPU shared with the kernel's RX threads (a veth's NAPI thread, the
                // softirq that completes our sends), what the worker waits for runs only when it gets the CPU, and
                // at nice -10 the worker would keep it for the whole spin. sched_yield hands it over at once and
                // returns at once when nothing else is runnable (a dedicated core).
                Thread.Yield();
                continue;
            }
            WaitSet.PrepareToSleep();
            // No longer than until the next TCP timer: a retransmission or delayed ACK must not wait out the idle period.
            int sleepMs = IdlePollMilliseconds;
            if (_stack is not null)
                sleepMs = (int)Math.Ceiling(_stack.UntilNextTimer(Index, TimeSpan.FromMilliseconds(IdlePollMilliseconds)).TotalMilliseconds);
            if (sleepMs <= 0 || HasWork())
            {
                WaitSet.CancelSleep();
                continue;
            }
            // Once per idle period, never per frame: lets tests prove the data path allocates nothing.
            Counters.AllocatedBytes = GC.GetAllocatedBytesForCurrentThread();
            // Nothing for a while: sleep so the CPU goes to the kernel's RX work (on a shared core that is what
            // feeds us), and so a fill ring's need_wakeup is served.
            Counters.IdlePolls++;
            foreach (RunPort port in _ports)
                port.RxWakeups++;
            // Asleep, the worker holds nothing from the LPM: a route update need not wait for it to wake.
            lpmReader?.GoOffline();
            WaitSet.Sleep(sleepMs);
            lpmReader?.GoOnline();
            idleRounds = SpinRounds / 2;
        }
    }

    private bool HasWork()
    {
        foreach (FrameHandoff inbox in _inboxes)
        {
            if (inbox.Count > 0)
                return true;
        }
        foreach (RunPort port in _ports)
        {
            if (port.Socket.Rx.Available > 0 || port.Socket.Completion.Available > 0)
                return true;
        }
        return false;
    }

    private int Reap(RunPort port)
    {
        CompletionRing completion = port.Socket.Completion;
        int n = completion.Peek(_batch * 2, out uint index);
        if (n == 0)
            return 0;
        for (int i = 0; i < n; i++)
            _pool.Put(_umem.FrameStart(completion[index + (uint)i]));
        completion.Release(n);
        port.Completed += (ulong)n;
        return n;
    }

    private void Refill(RunPort port)
    {
        int want = Math.Min(_pool.Available - _poolReserve, _batch * 4);
        if (want <= 0)
            return;
        FillRing fill = port.Socket.Fill;
        int reserved = fill.Reserve(want, out uint index);
        for (int i = 0; i < reserved; i++)
        {
            _pool.TryGet(out ulong address);
            fill[index + (uint)i] = address;
        }
        if (reserved > 0)
        {
            fill.Submit(reserved);
            port.FillSubmitted += (ulong)reserved;
        }
    }

    private int DrainInboxes()
    {
        int drained = 0;
        for (int i = 0; i < _inboxes.Length; i++)
        {
            FrameHandoff inbox = _inboxes[i];
            bool fromWorker = i < _inboxes.Length - 1;
            for (int budget = _batch; budget > 0 && inbox.TryPeek(out int port, out ReadOnlySpan<byte> frame); budget--)
            {
                // SendCopy counts a frame it cannot place; one it places counts as taken from a worker or control.
                if (SendCopy(port, frame) && fromWorker)
                    Counters.HandoffsIn++;
                inbox.Advance();
                drained++;
            }
        }
        return drained;
    }

    private int Receive(RunPort port, Span<byte> memory)
    {
        RxRing rx = port.Socket.Rx;
        int peeked = rx.Peek(_batch + _maxChain, out uint rxIndex);
        if (peeked == 0)
            return 0;
        int received = 0, consumed = 0, gathered = 0;
        ulong bytes = 0;
        if (port.DiscardingChain)
            consumed = SkipChainTail(port, rx, rxIndex, peeked);
        while (consumed < peeked && received < _batch)
        {
            ref readonly XdpDescriptor desc = ref rx.Descriptor(rxIndex + (uint)consumed);
            if ((desc.Options & XdpDescriptor.PacketContinues) == 0)
            {
                _frames[received] = new Frame((int)desc.Address, (int)desc.Length);
                _addresses[received] = desc.Address;
                bytes += desc.Length;
                received++;
                consumed++;
                continue;
            }
            int last = consumed + 1;
            while (last < peeked && (rx.Descriptor(rxIndex + (uint)last).Options & XdpDescriptor.PacketContinues) != 0)
                last++;
            if (last == peeked)
            {
                // The kernel publishes whole chains, so the rest is past this peek: take it next round, unless the
                // chain alone fills the peek (longer than any MTU allows), which is dropped head first.
                if (consumed == 0 && peeked == _batch + _maxChain)
                {
                    for (int i = 0; i < peeked; i++)
                        _pool.Put(rx.Descriptor(rxIndex + (uint)i).Address);
                    consumed = peeked;
                    port.DiscardingChain = true;
                    Counters.Drop(port.NicId.Value, WorkerDrop.Oversize);
                }
                break;
            }
            int length = Gather(port, rx, rxIndex, consumed, last, memory, gathered);
            consumed = last + 1;
            if (length == 0)
                continue;
            ulong slot = _scratchBase + (ulong)gathered * (ulong)_slotBytes + KernelHeadroom;
            _frames[received] = new Frame((int)slot, length);
            _addresses[received] = slot;
            bytes += (ulong)length;
            received++;
            gathered++;
        }
        // The descriptors are copied out; the frames now belong to this loop until they are queued or pooled. What a
        // full batch or a cut chain left is peeked again next round.
        rx.Unpeek(peeked - consumed);
        rx.Release(consumed);
        port.RxDescriptors += (ulong)consumed;
        if (received == 0)
            return consumed;
        port.RxPackets += (ulong)received;
        port.RxBytes += bytes;
        Counters.Batches++;
        Counters.JumboReceived += (ulong)gathered;
        Activity.CountBatch(received);
        // While no capture runs, this load is all a batch pays for it.
        if (Volatile.Read(ref _capture) is { } capture)
            capture.Received(port, _frames.AsSpan(0, received));

        int untagged = received, tagged = 0;
        if (port.Vlans is { } vlans)
            untagged = Demux(port, vlans, memory, received, out tagged);
        Process(port, port.Link, memory, untagged);
        if (tagged > 0)
            ProcessTagged(port, port.Vlans!, memory, tagged);
        return received;
    }

    /// <summary>
    /// Runs the first <paramref name="count"/> frames of the batch, received on <paramref name="port"/> for the NIC
    /// of <paramref name="ingress"/> (the port's own, or one of its VLAN sub-interfaces, tags already stripped),
    /// through the fast paths and then the stack.
    /// </summary>
    private void Process(RunPort port, Links.XdpNicLink ingress, Span<byte> memory, int count)
    {
        int left = count;
        if (_ipv4 is not null && left > 0)
            left = FastPath(port, memory, left, _ipv4.Forward(ingress.NicId, memory, _frames.AsSpan(0, left), _verdicts, _egress), ref Counters.FastForwardedIpv4);
        if (_ipv6 is not null && left > 0)
            left = FastPath(port, memory, left, _ipv6.Forward(ingress.NicId, memory, _frames.AsSpan(0, left), _verdicts, _egress), ref Counters.FastForwardedIpv6);
        if (left > 0)
            ToStack(port, ingress, memory, left);
    }

    /// <summary>
    /// Sorts the batch's <paramref name="count"/> frames by VLAN: untagged ones stay at the front of the batch (their
    /// count is returned), sub-interfaces' ones, stripped, go to the VLAN arrays (<paramref name="tagged"/> of them),
    /// the rest are counted and dropped.
    /// </summary>
    private int Demux(RunPort port, VlanDemux vlans, Span<byte> memory, int count, out int tagged)
    {
        int kept = 0;
        tagged = 0;
        for (int i = 0; i < count; i++)
        {
            Frame frame = _frames[i];
            int before = frame.Offset;
            VlanVerdict verdict = vlans.Classify(memory, ref frame, out int sub);
            ulong address = _addresses[i] + (ulong)(frame.Offset - before);
            switch (verdict)
            {
                case VlanVerdict.Untagged:
                    _frames[kept] = frame;
                    _addresses[kept] = address;
                    kept++;
                    break;
                case VlanVerdict.SubInterface:
                    _vlanFrames[tagged] = frame;
                    _vlanAddresses[tagged] = address;
                    _vlanSubs[tagged] = sub;
                    tagged++;
                    Counters.VlanRx(vlans.Links[sub].NicId.Value, frame.Length);
                    break;
                default:
                    Counters.Drop(port.NicId.Value, verdict switch
                    {
                        VlanVerdict.UnknownVlan => WorkerDrop.UnknownVlan,
                        VlanVerdict.ServiceTag => WorkerDrop.ServiceTag,
                        _ => WorkerDrop.TruncatedVlanTag,
                    });
                    Recycle(_addresses[i]);
                    break;
            }
        }
        return kept;
    }

    /// <summary>Processes the frames <see cref="Demux"/> gave to sub-interfaces: one pass per sub-interface present, arrival order kept within each.</summary>
    private void ProcessTagged(RunPort port, VlanDemux vlans, Span<byte> memory, int tagged)
    {
        for (int first = 0; first < tagged; first++)
        {
            int sub = _vlanSubs[first];
            if (sub < 0)
                continue;
            int n = 0;
            for (int j = first; j < tagged; j++)
            {
                if (_vlanSubs[j] != sub)
                    continue;
                _frames[n] = _vlanFrames[j];
                _addresses[n] = _vlanAddresses[j];
                _vlanSubs[j] = -1;
                n++;
            }
            Process(port, vlans.Links[sub], memory, n);
        }
    }

    /// <summary>
    /// Tags the frame at <paramref name="address"/> with <paramref name="vlanId"/> in place, using 4 octets of the
    /// headroom in front of it (every received frame has the kernel's 256); false when there are not 4 (never for a
    /// received frame, but the caller then copies).
    /// </summary>
    private bool TryTag(Span<byte> memory, ref ulong address, ref int length, ushort vlanId)
    {
        bool room = address >= _scratchBase || address - _umem.FrameStart(address) >= EthernetFrame.VlanTagLength;
        if (!room)
            return false;
        address -= EthernetFrame.VlanTagLength;
        length += EthernetFrame.VlanTagLength;
        VlanTag.Insert(memory.Slice((int)address, length), vlanId);
        return true;
    }

    /// <summary>
    /// Copies the chain of descriptors <paramref name="first"/>..<paramref name="last"/> into gathering slot
    /// <paramref name="slot"/> and returns the chain's frames to the pool; the packet's length, or 0 when it does not
    /// fit a slot (dropped and counted).
    /// </summary>
    private int Gather(RunPort port, RxRing rx, uint rxIndex, int first, int last, Span<byte> memory, int slot)
    {
        int target = (int)(_scratchBase + (ulong)slot * (ulong)_slotBytes) + KernelHeadroom;
        int capacity = _slotBytes - KernelHeadroom;
        int length = 0;
        for (int i = first; i <= last; i++)
        {
            ref readonly XdpDescriptor desc = ref rx.Descriptor(rxIndex + (uint)i);
            int n = (int)desc.Length;
            if (length + n <= capacity)
                memory.Slice((int)desc.Address, n).CopyTo(memory.Slice(target + length, n));
            length += n;
            _pool.Put(desc.Address);
        }
        if (length > capacity)
        {
            Counters.Drop(port.NicId.Value, WorkerDrop.Oversize);
            return 0;
        }
        return length;
    }

    /// <summary>Drops the descriptors of a too-long chain whose head an earlier round dropped; returns how many it consumed.</summary>
    private int SkipChainTail(RunPort port, RxRing rx, uint rxIndex, int peeked)
    {
        int consumed = 0;
        while (consumed < peeked)
        {
            ref readonly XdpDescriptor desc = ref rx.Descriptor(rxIndex + (uint)consumed);
            _pool.Put(desc.Address);
            consumed++;
            if ((desc.Options & XdpDescriptor.PacketContinues) == 0)
            {
                port.DiscardingChain = false;
                break;
            }
        }
        return consumed;
    }

    /// <summary>Returns a frame the batch is done with to the pool; gathering slots are not pool frames.</summary>
    private void Recycle(ulong address)
    {
        if (address < _scratchBase)
            _pool.Put(_umem.FrameStart(address));
    }

    /// <summary>Queues the frames a fast path forwarded and moves the ones it left to the front, in order; returns how many it left.</summary>
    private int FastPath(RunPort port, Span<byte> memory, int count, int forwarded, ref ulong counter)
    {
        if (forwarded == 0)
            return count;
        counter += (ulong)forwarded;
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            if (_verdicts[i] == ForwardVerdict.Forward)
            {
                Forward(port, memory, _addresses[i], _frames[i].Length, _egress[i]);
            }
            else
            {
                _frames[kept] = _frames[i];
                _addresses[kept] = _addresses[i];
                kept++;
            }
        }
        return kept;
    }

    private void Forward(RunPort ingress, Span<byte> memory, ulong address, int length, int egressNic)
    {
        int egressPort = (uint)egressNic < (uint)_portOfNic.Length ? _portOfNic[egressNic] : -1;
        // To a VLAN sub-interface: tagged in place and out of the parent's socket, still without a copy.
        if (egressPort >= 0 && (_vlanOfNic[egressNic] == 0 || TryTag(memory, ref address, ref length, _vlanOfNic[egressNic])))
        {
            ingress.ForwardedTo[egressNic]++;
            Queue(_ports[egressPort], address, (uint)length);
            return;
        }
        // No socket of ours on the egress interface (it has fewer queues than there are workers): its owner copies
        // the frame into its own UMEM. Ours goes back to the pool either way. A refused copy is counted where it was
        // refused (pool empty or hand-off full), so it is not counted again here.
        Links.XdpNicLink? link = (uint)egressNic < (uint)_linkOfNic.Length ? _linkOfNic[egressNic] : null;
        if (link is null)
            Counters.Drop(ingress.NicId.Value, WorkerDrop.NoEgressLink);
        else if (link.WriteFrame(Index, memory.Slice((int)address, length)))
            ingress.ForwardedTo[egressNic]++;
        Recycle(address);
    }

    private void ToStack(RunPort port, Links.XdpNicLink ingress, Span<byte> memory, int count)
    {
        Span<Frame> frames = _frames.AsSpan(0, count);
        INetworkDispatcher? dispatcher = ingress.Dispatcher;
        if (dispatcher is not null)
        {
            Counters.SlowPath += (ulong)count;
            dispatcher.DeliverNetworkPackets(new FrameBatch(memory, frames, Index));
        }
        else
        {
            Counters.Drop(ingress.NicId.Value, WorkerDrop.Detached, (ulong)count);
        }
        for (int i = 0; i < count; i++)
        {
            if (dispatcher is not null && frames[i].Action == FrameAction.Transmit)
            {
                Counters.InPlaceReplies++;
                ulong address = _addresses[i];
                int length = frames[i].Length;
                // A sub-interface's reply gets back the tag it came with, in the 4 octets the demux stripped (which
                // are always there, so the drop below is a guard: an untagged reply would leak onto the parent).
                if (ingress.VlanId != 0 && !TryTag(memory, ref address, ref length, ingress.VlanId))
                {
                    Counters.Drop(ingress.NicId.Value, WorkerDrop.Oversize);
                    Recycle(address);
                    continue;
                }
                Queue(port, address, (uint)length);
            }
            else
            {
                Recycle(_addresses[i]);
            }
        }
    }

    private void Queue(RunPort port, ulong address, uint length)
    {
        if (address >= _scratchBase)
        {
            // A gathered frame: its slot is reused by the next batch, so it leaves as a chain of pool frames.
            QueueChain(port, _umem.GetFrame(address, (int)length));
            return;
        }
        if (port.PendingCount == port.PendingAddresses.Length)
            Flush(port);
        Append(port, address, length, 0);
    }

    /// <summary>Copies a frame larger than one UMEM frame into a chain of pool frames and queues it; false (counted) when it cannot.</summary>
    private bool QueueChain(RunPort port, ReadOnlySpan<byte> frame)
    {
        if (!MultiBuffer)
        {
            Counters.Drop(port.NicId.Value, WorkerDrop.Oversize);
            return false;
        }
        int pieces = (frame.Length + _frameSize - 1) / _frameSize;
        if (pieces > _pool.Available)
        {
            Counters.Drop(port.NicId.Value, WorkerDrop.PoolEmpty);
            return false;
        }
        if (port.PendingCount + pieces > port.PendingAddresses.Length)
            Flush(port);
        for (int i = 0, offset = 0; i < pieces; i++, offset += _frameSize)
        {
            _pool.TryGet(out ulong address);
            int n = Math.Min(_frameSize, frame.Length - offset);
            frame.Slice(offset, n).CopyTo(_umem.GetFrame(address, n));
            Append(port, address, (uint)n, i < pieces - 1 ? XdpDescriptor.PacketContinues : 0);
        }
        Counters.JumboSent++;
        return true;
    }

    private static void Append(RunPort port, ulong address, uint length, uint options)
    {
        int i = port.PendingCount;
        port.PendingAddresses[i] = address;
        port.PendingLengths[i] = length;
        port.PendingOptions[i] = options;
        port.PendingCount = i + 1;
    }

    private void Flush(RunPort port)
    {
        TxRing tx = port.Socket.Tx;
        int pending = port.PendingCount;
        if (pending > 0)
        {
            int reserved = tx.Reserve(pending, out uint index);
            if (reserved < pending)
            {
                // A chain goes whole or not at all: the kernel would take a cut one as a packet of its own.
                int whole = reserved;
                while (whole > 0 && (port.PendingOptions[whole - 1] & XdpDescriptor.PacketContinues) != 0)
                    whole--;
                tx.Unreserve(reserved - whole);
                reserved = whole;
            }
            ulong bytes = 0;
            ulong packets = 0;
            for (int i = 0; i < reserved; i++)
            {
                ref XdpDescriptor desc = ref tx.Descriptor(index + (uint)i);
                desc.Address = port.PendingAddresses[i];
                desc.Length = port.PendingLengths[i];
                uint options = port.PendingOptions[i];
                desc.Options = options;
                bytes += port.PendingLengths[i];
                if ((options & XdpDescriptor.PacketContinues) == 0)
                    packets++;
            }
            for (int i = reserved; i < pending; i++)
            {
                _pool.Put(_umem.FrameStart(port.PendingAddresses[i]));
                if ((port.PendingOptions[i] & XdpDescriptor.PacketContinues) == 0)
                    port.TxRingFullDrops++;
            }
            port.PendingCount = 0;
            if (reserved > 0)
            {
                // Before Submit: once the kernel has the descriptors, the frames may complete and be reused.
                if (Volatile.Read(ref _capture) is { } capture)
                    capture.Transmitted(port, port.PendingAddresses, port.PendingLengths, port.PendingOptions, reserved);
                tx.Submit(reserved);
                port.TxDescriptors += (ulong)reserved;
                port.TxPackets += packets;
                port.TxBytes += bytes;
            }
        }
        // In copy mode each sendto() sends at most the socket's TX budget (32 frames unless raised), so a batch can
        // need more than one kick; the bound keeps a back-pressured device from turning this into a spin.
        int maxKicks = _batch / 32 + 2;
        for (int kicks = 0; kicks < maxKicks && tx.Outstanding > 0 && tx.NeedsWakeup; kicks++)
        {
            port.Socket.WakeTx();
            port.TxWakeups++;
        }
    }

    private void WakeOwners()
    {
        ulong mask = _wakeMask;
        if (mask == 0)
            return;
        _wakeMask = 0;
        foreach (RunWorker worker in _workers)
        {
            if ((mask & (1UL << (worker.Index & 63))) != 0)
                worker.WaitSet.Wake();
        }
    }
}
