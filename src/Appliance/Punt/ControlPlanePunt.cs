using System.Collections.Frozen;
using System.Net;
using XdpStack.Appliance.Links;
using XdpStack.Appliance.Run;
using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Punt;

/// <summary>The control-plane punt (VPP linux-cp): a kernel TAP twin per punting interface, fed what the appliance does not serve, whose sends go out of the interface.</summary>
/// <remarks>
/// <para>
/// Routing daemons (BIRD, FRR) bind to the TAP's addresses as if it were the interface. The stack hands this class
/// the frames that are the control plane's (<see cref="IPuntHandler"/>, docs/punt.md); on the worker, <see cref="Punt"/>
/// copies each into the worker's <see cref="PuntLane"/> (a full one is a <c>punt_full</c> drop), and the punt thread
/// writes them to the TAP. What the kernel sends on the TAP the same thread reads and queues out of the interface
/// through the workers' control hand-off, as every frame a control thread builds, less the kernel's answers to
/// neighbour queries the appliance answers itself (<see cref="InjectFilter"/>).
/// </para>
/// <para>
/// The TAPs live as long as this object holds them, and the process at most (<see cref="TapDevice"/>): a stop, a
/// failed start, a signal or <c>kill -9</c> removes them, and the next start replaces a stale one.
/// </para>
/// </remarks>
internal sealed class ControlPlanePunt : IPuntHandler, IDisposable
{
    /// <summary>Frames per lane; a punt burst larger than this within one wake-up of the punt thread is dropped and counted.</summary>
    private const int LaneCapacity = 1024;

    /// <summary>Frames moved per lane or TAP before the thread turns to the others.</summary>
    private const int Budget = 256;

    /// <summary>Longest sleep; bounds how late the thread notices a stop request.</summary>
    private const int IdlePollMilliseconds = 50;

    private readonly PuntTap[] _taps;
    private readonly int[] _tapOfNic;
    private readonly PuntLane[] _lanes;
    private readonly RunWorker[] _workers;
    private readonly XskWaitSet _waitSet;
    private readonly byte[] _buffer = new byte[65536];
    private readonly int _maxFrame;
    private Thread? _thread;
    private volatile bool _stopRequested;
    private int _disposed;

    private ControlPlanePunt(PuntTap[] taps, RunWorker[] workers, int maxFrame)
    {
        _taps = taps;
        _workers = workers;
        _maxFrame = maxFrame;
        _tapOfNic = new int[taps.Max(t => t.Nic.Id.Value) + 1];
        Array.Fill(_tapOfNic, -1);
        foreach (PuntTap tap in taps)
            _tapOfNic[tap.Nic.Id.Value] = tap.Index;
        _waitSet = XskWaitSet.ForTaps([.. taps.Select(t => t.Device)]);
        _lanes = [.. workers.Select(_ => new PuntLane(new FrameHandoff(LaneCapacity, maxFrame), _waitSet))];
        TapIfIndexes = taps.ToFrozenDictionary(t => t.Device.IfIndex, t => t.Nic.Id);
    }

    /// <summary>The punting interfaces, in interface order.</summary>
    public IReadOnlyList<PuntTap> Taps => _taps;

    /// <summary>
    /// Each TAP's kernel ifindex and the NIC it stands for: routes the kernel learns through a TAP (BIRD's, FRR's)
    /// lead out of that NIC. This is what a kernel FIB sync needs to take such routes as the NIC's own.
    /// </summary>
    public IReadOnlyDictionary<int, NicId> TapIfIndexes { get; }

    /// <summary>
    /// Creates a TAP for every interface and VLAN sub-interface of <paramref name="plane"/> that has a punt TAP
    /// (<see cref="DataPlaneInterface.PuntTap"/>, <see cref="DataPlaneVlan.PuntTap"/>),
    /// gives it the interface's MAC, MTU and planned addresses, hands every worker its lane and every such NIC this
    /// handler, and starts the punt thread. Null when no interface punts. Call it before the workers start, from a thread
    /// in the interfaces' namespace.
    /// </summary>
    public static ControlPlanePunt? Start(DataPlane plane, IReadOnlyList<PlannedAddress> addresses, Action<string> report)
    {
        var taps = new List<PuntTap>();
        try
        {
            // The data plane's links are the interfaces', then the VLAN sub-interfaces', each in settings order.
            int interfaces = plane.Settings.Interfaces.Count;
            IEnumerable<(string? Tap, int Link)> wanted = plane.Settings.Interfaces.Select((i, n) => (i.PuntTap, n))
                .Concat(plane.Settings.Vlans.Select((v, n) => (v.PuntTap, interfaces + n)));
            foreach ((string? tapName, int index) in wanted)
            {
                if (tapName is not string name)
                    continue;
                XdpNicLink link = plane.Links[index];
                if (!plane.Stack.TryGetNic(link.NicId, out Nic nic))
                    throw new ApplianceException($"{link.Name}: no NIC to punt for");
                TapDevice device;
                try
                {
                    // A sub-interface's twin is untagged: the appliance strips the tag of what it punts and tags what
                    // the kernel sends (XdpNicLink.WriteFrame), as a kernel VLAN device would.
                    byte[] mac = new byte[6];
                    link.LinkAddress.CopyTo(mac);
                    device = TapDevice.Create(name, mac, link.Mtu);
                }
                catch (XdpException e)
                {
                    throw new ApplianceException($"{link.Name}: cannot create its punt TAP {name}: {e.Message}", e);
                }
                taps.Add(new PuntTap(taps.Count, nic, link, device));
            }
            if (taps.Count == 0)
                return null;
            var punt = new ControlPlanePunt([.. taps], [.. plane.Workers], plane.MaxFrame);
            // At start a TAP without its addresses is refused, not run half-configured.
            if (punt.SyncAddresses(addresses).FirstOrDefault(c => c.Contains(": cannot ", StringComparison.Ordinal)) is string failed)
                throw new ApplianceException(failed);
            for (int w = 0; w < punt._workers.Length; w++)
                punt._workers[w].AttachPunt(punt._lanes[w]);
            foreach (PuntTap tap in taps)
            {
                tap.Nic.SetPuntHandler(punt);
                report($"{tap.Link.Name}: control plane punted to TAP {tap.Device.Name} (ifindex {tap.Device.IfIndex}), {tap.Addresses.Count} address(es)");
            }
            punt._thread = new Thread(punt.Run) { IsBackground = true, Name = "xdpstack punt" };
            punt._thread.Start();
            return punt;
        }
        catch
        {
            foreach (PuntTap tap in taps)
                tap.Device.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Punt(Nic nic, int worker, ReadOnlySpan<byte> frame)
    {
        int id = nic.Id.Value;
        // The stack punts only what a worker received; nothing else has a lane.
        if ((uint)id >= (uint)_tapOfNic.Length || _tapOfNic[id] < 0 || (uint)worker >= (uint)_lanes.Length)
            return;
        PuntLane lane = _lanes[worker];
        if (!lane.Ring.TryEnqueue(_tapOfNic[id], frame))
        {
            _workers[worker].Counters.Drop(id, WorkerDrop.PuntFull);
            return;
        }
        lane.Pending = true;
    }

    /// <summary>
    /// Makes each TAP's addresses those <paramref name="addresses"/> plans for its NIC: adds the new, removes the gone;
    /// one line per change, or per change the kernel refused ("TAP: cannot add address …: why", for instance IPv6
    /// disabled on the TAP), which a later call tries again. Start and reloads call it, one at a time.
    /// </summary>
    public IReadOnlyList<string> SyncAddresses(IReadOnlyList<PlannedAddress> addresses)
    {
        var changes = new List<string>();
        foreach (PuntTap tap in _taps)
        {
            var wanted = addresses.Where(a => a.Nic == tap.Nic.Id).Select(a => (a.Address, a.PrefixLength)).ToHashSet();
            foreach ((IpAddress address, int length) in tap.Addresses.Except(wanted).ToList())
            {
                try
                {
                    tap.Device.RemoveAddress(IPAddress.Parse(address.ToString()), length);
                    tap.Addresses.Remove((address, length));
                    changes.Add($"{tap.Device.Name}: removed address {address}/{length}");
                }
                catch (XdpException e)
                {
                    changes.Add($"{tap.Device.Name}: cannot remove address {address}/{length}: {e.Message}");
                }
            }
            foreach ((IpAddress address, int length) in wanted.Except(tap.Addresses).ToList())
            {
                try
                {
                    tap.Device.AddAddress(IPAddress.Parse(address.ToString()), length);
                    tap.Addresses.Add((address, length));
                    changes.Add($"{tap.Device.Name}: added address {address}/{length}");
                }
                catch (XdpException e)
                {
                    changes.Add($"{tap.Device.Name}: cannot add address {address}/{length}: {e.Message}");
                }
            }
        }
        return changes;
    }

    /// <summary>Stops the punt thread and removes the TAPs; the NICs stop punting. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        foreach (PuntTap tap in _taps)
            tap.Nic.SetPuntHandler(null);
        _stopRequested = true;
        _waitSet.Wake();
        _thread?.Join();
        foreach (PuntTap tap in _taps)
            tap.Device.Dispose();
        _waitSet.Dispose();
    }

    private void Run()
    {
        try
        {
            Loop();
        }
        catch (Exception e)
        {
            // A punt thread that dies quietly would cut every routing session while the data plane looks healthy.
            Environment.FailFast($"xdpstack: punt thread failed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    private void Loop()
    {
        while (!_stopRequested)
        {
            int work = 0;
            foreach (PuntLane lane in _lanes)
                work += ToKernel(lane);
            foreach (PuntTap tap in _taps)
                work += FromKernel(tap);
            if (work > 0)
                continue;
            _waitSet.PrepareToSleep();
            if (_lanes.Any(l => l.Ring.Count > 0))
            {
                _waitSet.CancelSleep();
                continue;
            }
            _waitSet.Sleep(IdlePollMilliseconds);
        }
    }

    private int ToKernel(PuntLane lane)
    {
        int moved = 0;
        for (; moved < Budget && lane.Ring.TryPeek(out int index, out ReadOnlySpan<byte> frame); moved++)
        {
            PuntTap tap = _taps[index];
            if (tap.Device.TryWrite(frame))
            {
                tap.Counters.PuntedFrames++;
                tap.Counters.PuntedBytes += (ulong)frame.Length;
            }
            else
            {
                tap.Counters.TapWriteFailed++;
            }
            lane.Ring.Advance();
        }
        return moved;
    }

    private int FromKernel(PuntTap tap)
    {
        int moved = 0;
        for (; moved < Budget && tap.Device.TryRead(_buffer, out int length); moved++)
        {
            ReadOnlySpan<byte> frame = _buffer.AsSpan(0, length);
            if (!InjectFilter.ShouldSend(frame, tap.Nic.Addresses))
            {
                tap.Counters.Suppressed++;
                continue;
            }
            // The control hand-off counts a full ring itself (control_handoff_full); too long a frame only here.
            if (length <= _maxFrame && tap.Link.WriteFrame(NicStats.ControlWorker, frame))
            {
                tap.Counters.InjectedFrames++;
                tap.Counters.InjectedBytes += (ulong)length;
            }
            else
            {
                tap.Counters.InjectFailed++;
            }
        }
        return moved;
    }
}
