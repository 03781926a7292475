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
/// </remarks>
internal sealed class XdpNicLink : ILinkEndpoint
{
    private INetworkDispatcher? _dispatcher;
    private RunWorker[] _workers = [];
    private int[] _portOfWorker = [];
    private int[] _ownerOfWorker = [];
    private int _controlOwner = -1;

    public XdpNicLink(string name, NicId nicId, MacAddress mac, int mtu)
    {
        Name = name;
        NicId = nicId;
        LinkAddress = mac;
        Mtu = mtu;
    }

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

    public bool WriteFrame(int worker, ReadOnlySpan<byte> frame)
    {
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
}
