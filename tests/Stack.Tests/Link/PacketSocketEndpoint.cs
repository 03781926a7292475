using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XdpStack.Lab;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Link;

/// <summary>A link endpoint over a raw AF_PACKET socket bound to one interface inside a lab namespace: recv → stack → send, on one thread.</summary>
/// <remarks>
/// The receive thread enters the namespace before it opens the socket, so the interface name and
/// index are the namespace's. Frames the interface sends (PACKET_OUTGOING) are skipped, so the
/// stack never sees its own replies or the kernel's chatter on that side. Test code only: it
/// copies every frame, which is what AF_XDP exists to avoid.
/// </remarks>
internal sealed partial class PacketSocketEndpoint : ILinkEndpoint, IDisposable
{
    private const int AF_PACKET = 17;
    private const int SOCK_RAW = 3;
    private const ushort ETH_P_ALL = 0x0003;
    private const int SOL_SOCKET = 1;
    private const int SO_RCVTIMEO = 20;
    private const int SO_RCVBUFFORCE = 33;
    private const byte PACKET_OUTGOING = 4;
    private const int MSG_DONTWAIT = 0x40;
    private const int BatchSize = 32;
    private const int FrameSize = 2048;

    private readonly NetNamespace _namespace;
    private readonly int _worker;
    private readonly string _interface;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _ready = new();
    private volatile bool _stopping;
    private INetworkDispatcher? _dispatcher;
    private int _fd = -1;
    private Exception? _failure;

    /// <param name="worker">The stack worker this endpoint's receive thread delivers as; endpoints of one stack need distinct ones.</param>
    public PacketSocketEndpoint(NetNamespace ns, string interfaceName, MacAddress linkAddress, int mtu = 1500, int worker = 0)
    {
        _worker = worker;
        _namespace = ns;
        _interface = interfaceName;
        LinkAddress = linkAddress;
        Mtu = mtu;
        _thread = new Thread(Run) { IsBackground = true, Name = "packet-socket " + interfaceName };
    }

    public int Mtu { get; }

    public MacAddress LinkAddress { get; }

    public LinkCapabilities Capabilities => LinkCapabilities.ResolutionRequired;

    public bool IsAttached => Volatile.Read(ref _dispatcher) is not null;

    public long Received;

    public long Sent;

    public void Attach(INetworkDispatcher? dispatcher) => Volatile.Write(ref _dispatcher, dispatcher);

    /// <summary>Opens the socket inside the namespace and starts the receive loop; throws if the socket could not be set up.</summary>
    public void Start()
    {
        _thread.Start();
        _ready.Wait();
        if (_failure is not null)
            throw new InvalidOperationException("packet socket setup failed", _failure);
    }

    public unsafe bool WriteFrame(int worker, ReadOnlySpan<byte> frame)
    {
        int fd = Volatile.Read(ref _fd);
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
        if (_thread.IsAlive)
            _thread.Join();
    }

    private unsafe void Run()
    {
        try
        {
            using (_namespace.Enter())
            {
                Open();
                _ready.Set();
                Loop();
            }
        }
        catch (Exception e)
        {
            _failure = e;
            _ready.Set();
        }
        finally
        {
            int fd = Interlocked.Exchange(ref _fd, -1);
            if (fd >= 0)
                close(fd);
        }
    }

    private unsafe void Open()
    {
        int fd = socket(AF_PACKET, SOCK_RAW, BinaryPrimitives.ReverseEndianness(ETH_P_ALL));
        if (fd < 0)
            throw new InvalidOperationException($"socket(AF_PACKET) failed: errno {Marshal.GetLastPInvokeError()}");
        uint index = if_nametoindex(_interface);
        if (index == 0)
            throw new InvalidOperationException($"if_nametoindex({_interface}) failed: errno {Marshal.GetLastPInvokeError()}");
        SockaddrLl address = default;
        address.Family = AF_PACKET;
        address.Protocol = BinaryPrimitives.ReverseEndianness(ETH_P_ALL);
        address.IfIndex = (int)index;
        if (bind(fd, &address, sizeof(SockaddrLl)) != 0)
            throw new InvalidOperationException($"bind(AF_PACKET, {_interface}) failed: errno {Marshal.GetLastPInvokeError()}");
        // A receive timeout lets the loop notice Dispose.
        long* timeout = stackalloc long[2] { 0, 100_000 };
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16) != 0)
            throw new InvalidOperationException($"setsockopt(SO_RCVTIMEO) failed: errno {Marshal.GetLastPInvokeError()}");
        // The default buffer holds only a few hundred small frames; when the test's threads are
        // starved of CPU (tests run in parallel on 2 vCPUs) bursts would be dropped here, in the
        // test link, not in the stack under test.
        int receiveBuffer = 32 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receiveBuffer, sizeof(int)) != 0)
            throw new InvalidOperationException($"setsockopt(SO_RCVBUFFORCE) failed: errno {Marshal.GetLastPInvokeError()}");
        Volatile.Write(ref _fd, fd);
    }

    private unsafe void Loop()
    {
        byte[] arena = new byte[BatchSize * FrameSize];
        var frames = new Frame[BatchSize];
        while (!_stopping)
        {
            int count = 0;
            while (count < BatchSize)
            {
                SockaddrLl from = default;
                int fromLength = sizeof(SockaddrLl);
                int n;
                fixed (byte* p = &arena[count * FrameSize])
                    n = (int)recvfrom(_fd, p, FrameSize, count == 0 ? 0 : MSG_DONTWAIT, &from, &fromLength);
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
            dispatcher.DeliverNetworkPackets(new FrameBatch(arena, frames.AsSpan(0, count), _worker));
            for (int i = 0; i < count; i++)
            {
                if (frames[i].Action == FrameAction.Transmit)
                    WriteFrame(_worker, arena.AsSpan(frames[i].Offset, frames[i].Length));
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
