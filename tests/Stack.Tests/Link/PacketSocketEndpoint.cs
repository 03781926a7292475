using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XdpStack.Lab;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Link;

/// <summary>A link endpoint over raw AF_PACKET sockets bound to one interface inside a lab namespace: recv → stack → send, one thread per queue.</summary>
/// <remarks>
/// Each receive thread enters the namespace before it opens its socket, so the interface name and
/// index are the namespace's. Frames the interface sends (PACKET_OUTGOING) are skipped, so the
/// stack never sees its own replies or the kernel's chatter on that side. With several queues the
/// sockets join one PACKET_FANOUT_HASH group, so the kernel spreads received frames by flow hash
/// the way RSS spreads them over NIC queues, and queue q delivers as stack worker
/// <c>worker + q</c>: a flow stays on one worker, in order. Test code only: it copies every frame,
/// which is what AF_XDP exists to avoid.
/// </remarks>
internal sealed partial class PacketSocketEndpoint : ILinkEndpoint, IDisposable
{
    private const int AF_PACKET = 17;
    private const int SOCK_RAW = 3;
    private const ushort ETH_P_ALL = 0x0003;
    private const int SOL_SOCKET = 1;
    private const int SO_RCVTIMEO = 20;
    private const int SO_RCVBUFFORCE = 33;
    private const int SOL_PACKET = 263;
    private const int PACKET_FANOUT = 18;
    private const int PACKET_FANOUT_HASH = 0;
    private const byte PACKET_OUTGOING = 4;
    private const int MSG_DONTWAIT = 0x40;
    private const int BatchSize = 32;
    private const int FrameSize = 2048;

    private readonly NetNamespace _namespace;
    private readonly int _worker;
    private readonly string _interface;
    private readonly Thread[] _threads;
    private readonly CountdownEvent _ready;
    private readonly int[] _fds;
    private volatile bool _stopping;
    private INetworkDispatcher? _dispatcher;
    private Exception? _failure;

    /// <param name="worker">The stack worker the first queue's receive thread delivers as; endpoints of one stack need distinct ones.</param>
    /// <param name="queues">Receive sockets and threads in one fanout group; queue q delivers as worker <paramref name="worker"/> + q.</param>
    public PacketSocketEndpoint(NetNamespace ns, string interfaceName, MacAddress linkAddress, int mtu = 1500, int worker = 0, int queues = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queues, 1);
        _worker = worker;
        _namespace = ns;
        _interface = interfaceName;
        LinkAddress = linkAddress;
        Mtu = mtu;
        _fds = new int[queues];
        Array.Fill(_fds, -1);
        _ready = new CountdownEvent(queues);
        _threads = new Thread[queues];
        for (int q = 0; q < queues; q++)
        {
            int queue = q;
            _threads[q] = new Thread(() => Run(queue)) { IsBackground = true, Name = $"packet-socket {interfaceName} q{q}" };
        }
    }

    public int Mtu { get; }

    public MacAddress LinkAddress { get; }

    public LinkCapabilities Capabilities => LinkCapabilities.ResolutionRequired;

    public bool IsAttached => Volatile.Read(ref _dispatcher) is not null;

    public long Received;

    /// <summary>Called by each receive thread, as its worker, between batches and at least every 10 ms: where a test runs the stack's per-worker timers (<see cref="NetworkStack.PollTimers"/>), as an appliance worker does between rounds.</summary>
    public Action<int>? Idle { get; set; }

    public long Sent;

    public void Attach(INetworkDispatcher? dispatcher) => Volatile.Write(ref _dispatcher, dispatcher);

    /// <summary>Opens the sockets inside the namespace and starts the receive loops; throws if a socket could not be set up.</summary>
    public void Start()
    {
        foreach (Thread thread in _threads)
            thread.Start();
        _ready.Wait();
        if (Volatile.Read(ref _failure) is { } failure)
            throw new InvalidOperationException("packet socket setup failed", failure);
    }

    public unsafe bool WriteFrame(int worker, ReadOnlySpan<byte> frame)
    {
        // A worker sends on its own queue's socket; control threads use the first.
        int queue = worker - _worker;
        int fd = Volatile.Read(ref _fds[queue >= 0 && queue < _fds.Length ? queue : 0]);
        if (fd < 0)
            return false;
        fixed (byte* p = frame)
        {
            if (send(fd, p, frame.Length, 0) != frame.Length)
                return false;
        }
        Interlocked.Increment(ref Sent);
        return true;
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (Thread thread in _threads)
        {
            if (thread.IsAlive)
                thread.Join();
        }
    }

    private unsafe void Run(int queue)
    {
        bool signalled = false;
        try
        {
            using (_namespace.Enter())
            {
                Open(queue);
                _ready.Signal();
                signalled = true;
                Loop(queue);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            if (!signalled)
                _ready.Signal();
        }
        finally
        {
            int fd = Interlocked.Exchange(ref _fds[queue], -1);
            if (fd >= 0)
                close(fd);
        }
    }

    private unsafe void Open(int queue)
    {
        int fd = socket(AF_PACKET, SOCK_RAW, BinaryPrimitives.ReverseEndianness(ETH_P_ALL));
        if (fd < 0)
            throw new InvalidOperationException($"socket(AF_PACKET) failed: errno {Marshal.GetLastPInvokeError()}");
        // Stored at once so that Run closes it also when the setup below fails.
        Volatile.Write(ref _fds[queue], fd);
        uint index = if_nametoindex(_interface);
        if (index == 0)
            throw new InvalidOperationException($"if_nametoindex({_interface}) failed: errno {Marshal.GetLastPInvokeError()}");
        SockaddrLl address = default;
        address.Family = AF_PACKET;
        address.Protocol = BinaryPrimitives.ReverseEndianness(ETH_P_ALL);
        address.IfIndex = (int)index;
        if (bind(fd, &address, sizeof(SockaddrLl)) != 0)
            throw new InvalidOperationException($"bind(AF_PACKET, {_interface}) failed: errno {Marshal.GetLastPInvokeError()}");
        // A receive timeout lets the loop notice Dispose and run the stack's timers (Idle) at least every 10 ms.
        long* timeout = stackalloc long[2] { 0, 10_000 };
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16) != 0)
            throw new InvalidOperationException($"setsockopt(SO_RCVTIMEO) failed: errno {Marshal.GetLastPInvokeError()}");
        // The default buffer holds only a few hundred small frames; when the test's threads are
        // starved of CPU (tests run in parallel on 2 vCPUs) bursts would be dropped here, in the
        // test link, not in the stack under test.
        int receiveBuffer = 32 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receiveBuffer, sizeof(int)) != 0)
            throw new InvalidOperationException($"setsockopt(SO_RCVBUFFORCE) failed: errno {Marshal.GetLastPInvokeError()}");
        if (_fds.Length > 1)
        {
            // Group id: the interface index, unique among this namespace's interfaces (groups are per namespace).
            int fanout = (int)(index & 0xFFFF) | (PACKET_FANOUT_HASH << 16);
            if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(int)) != 0)
                throw new InvalidOperationException($"setsockopt(PACKET_FANOUT) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private unsafe void Loop(int queue)
    {
        int fd = _fds[queue];
        int worker = _worker + queue;
        byte[] arena = new byte[BatchSize * FrameSize];
        var frames = new Frame[BatchSize];
        while (!_stopping)
        {
            Idle?.Invoke(worker);
            int count = 0;
            while (count < BatchSize)
            {
                SockaddrLl from = default;
                int fromLength = sizeof(SockaddrLl);
                int n;
                fixed (byte* p = &arena[count * FrameSize])
                    n = (int)recvfrom(fd, p, FrameSize, count == 0 ? 0 : MSG_DONTWAIT, &from, &fromLength);
                if (n <= 0)
                    break;
                if (from.PacketType == PACKET_OUTGOING)
                    continue;
                frames[count] = new Frame(count * FrameSize, n);
                count++;
            }
            if (count == 0)
                continue;
            Interlocked.Add(ref Received, count);
            INetworkDispatcher? dispatcher = Volatile.Read(ref _dispatcher);
            if (dispatcher is null)
                continue;
            dispatcher.DeliverNetworkPackets(new FrameBatch(arena, frames.AsSpan(0, count), worker));
            for (int i = 0; i < count; i++)
            {
                if (frames[i].Action == FrameAction.Transmit)
                    WriteFrame(worker, arena.AsSpan(frames[i].Offset, frames[i].Length));
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrLl
    {
        public ushort Family;      // sll_family
        public ushort Protocol;    // sll_protocol, network order
        public int IfIndex;        // sll_ifindex
        public ushort HaType;      // sll_hatype
        public byte PacketType;    // sll_pkttype
        public byte HaLength;      // sll_halen
        public ulong Address;      // sll_addr[8]
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int bind(int fd, SockaddrLl* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint recvfrom(int fd, byte* buffer, nint length, int flags, SockaddrLl* from, int* fromLength);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint if_nametoindex(string name);
}
