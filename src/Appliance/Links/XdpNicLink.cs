using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Links;

/// <summary>One network interface as the stack sees it: the set of AF_XDP sockets, one per served queue, that the workers own.</summary>
/// <remarks>
/// Receiving is driven by the workers, which deliver each RX batch to <see cref="Dispatcher"/> themselves. Sending
/// a frame the stack built (<see cref="WriteFrame"/>) copies it into a UMEM frame of a worker that has a socket on
/// this interface: the calling worker itself when it has one (no hand-off, no lock), otherwise that worker's
/// owner on this interface through a single-producer hand-off ring, or, from control threads, through the owner's
/// control hand-off (control threads serialise on that worker's producer lock; the worker reading it takes none).
/// A VLAN sub-interface (<see cref="Parent"/> set) has no sockets of its own: it sends through its parent, tagging
/// each frame with <see cref="VlanId"/> on the way (docs/run.md, "VLAN sub-interfaces").
/// </remarks>
internal sealed class XdpNicLink : ILinkEndpoint
{
    private INetworkDispatcher? _dispatcher;
    private RunWorker[] _workers = [];
    private int[] _portOfWorker = [];
    private int[] _ownerOfWorker = [];
    private int _controlOwner = -1;

    // A sub-interface's tagging buffers: one per worker (only that worker writes its own), and one for control
    // threads, which take _controlScratch's lock. Sized at Bind, so WriteFrame allocates nothing.
    private byte[][] _scratch = [];
    private readonly Lock _controlScratch = new();

    public XdpNicLink(string name, NicId nicId, MacAddress mac, int mtu)
    {
        Name = name;
        NicId = nicId;
        LinkAddress = mac;
        Mtu = mtu;
    }

    /// <summary>A VLAN sub-interface of <paramref name="parent"/>: its MAC, its sockets, frames tagged with <paramref name="vlanId"/>.</summary>
    public XdpNicLink(string name, NicId nicId, XdpNicLink parent, ushort vlanId, int mtu)
        : this(name, nicId, parent.LinkAddress, mtu)
    {
        Parent = parent;
        VlanId = vlanId;
    }

    /// <summary>The interface a VLAN sub-interface rides on; null for an interface with sockets of its own.</summary>
    public XdpNicLink? Parent { get; }

    /// <summary>The 802.1Q VLAN id of a sub-interface (1 to 4094); 0 for an untagged interface.</summary>
    public ushort VlanId { get; }

    public string Name { get; }

    public NicId NicId { get; }

    public int Mtu { get; }

    public MacAddress LinkAddress { get; }

    public LinkCapabilities Capabilities => LinkCapabilities.ResolutionRequired;

    public bool IsAttached => Volatile.Read(ref _dispatcher) is not null;

    /// <summary>The NIC the workers deliver this interface's frames to; null while detached.</summary>
    public INetworkDispatcher? Dispatcher => Volatile.Read(ref _dispatcher);

    public void Attach(INetworkDispatcher? dispatcher) => Volatile.Write(ref _dispatcher, dispatcher);

    /// <summary>
    /// Wires the link to the workers once they exist: <paramref name="portOfWorker"/>[w] is worker w's port index for
    /// this interface or −1, and <paramref name="ownerOfWorker"/>[w] the worker that sends for w when it has none.
    /// </summary>
    public void Bind(RunWorker[] workers, int[] portOfWorker, int[] ownerOfWorker)
    {
        _workers = workers;
        _portOfWorker = portOfWorker;
        _ownerOfWorker = ownerOfWorker;
        _controlOwner = Array.FindIndex(portOfWorker, p => p >= 0);
    }

    /// <summary>Sizes a sub-interface's tagging buffers: frames of up to <paramref name="maxFrame"/> bytes, tag included.</summary>
    public void BindVlan(int workerCount, int maxFrame)
    {
        var scratch = new byte[workerCount + 1][];
        for (int i = 0; i < scratch.Length; i++)
            scratch[i] = new byte[maxFrame];
        _scratch = scratch;
    }

    public bool WriteFrame(int worker, ReadOnlySpan<byte> frame)
    {
        if (Parent is { } parent)
            return WriteTagged(parent, worker, frame);
        RunWorker[] workers = _workers;
        if ((uint)worker < (uint)workers.Length)
        {
            int port = _portOfWorker[worker];
            if (port >= 0)
                return workers[worker].SendCopy(port, frame);
            int owner = _ownerOfWorker[worker];
            return workers[worker].HandOff(workers[owner], _portOfWorker[owner], frame);
        }
        if (_controlOwner < 0)
            return false;
        return workers[_controlOwner].EnqueueFromControl(_portOfWorker[_controlOwner], frame);
    }

    /// <summary>
    /// Tags a frame the stack built for this sub-interface into a buffer of the calling thread and sends it through
    /// the parent (which copies it into a UMEM frame): the stack's frames take one copy more than the parent's own.
    /// </summary>
    private bool WriteTagged(XdpNicLink parent, int worker, ReadOnlySpan<byte> frame)
    {
        byte[][] scratch = _scratch;
        if ((uint)worker < (uint)(scratch.Length - 1))
        {
            int length = VlanTag.CopyTagged(frame, scratch[worker], VlanId);
            return length > 0 && parent.WriteFrame(worker, scratch[worker].AsSpan(0, length));
        }
        return scratch.Length > 0 && WriteTaggedFromControl(parent, worker, frame, scratch[^1]);
    }

    /// <summary>Control threads only (worker index −1: NUD timers, applications): they share one buffer, under its lock.</summary>
    private bool WriteTaggedFromControl(XdpNicLink parent, int worker, ReadOnlySpan<byte> frame, byte[] scratch)
    {
        lock (_controlScratch)
        {
            int length = VlanTag.CopyTagged(frame, scratch, VlanId);
            return length > 0 && parent.WriteFrame(worker, scratch.AsSpan(0, length));
        }
    }
}
