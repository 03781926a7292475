using System.Net;
using System.Net.Sockets;
using System.Text;
using XdpStack.Xdp.Interop;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>A kernel TAP interface this process holds open: frames written to it the kernel receives, frames the kernel sends on it are read here.</summary>
/// <remarks>
/// <para>
/// The TAP is not persistent: it exists while this object's file descriptor is open, so the kernel removes it when
/// the process ends however it ends (exit, a signal, <c>kill -9</c>). <see cref="Create"/> also removes a stale TAP of
/// the same name that no process holds (one made persistent by a tool), refuses one another process holds, and
/// never touches a device of that name that is not a TAP.
/// </para>
/// <para>
/// Create it from a thread in the network namespace the TAP belongs in; its netlink socket stays in that namespace
/// for <see cref="AddAddress"/> and <see cref="RemoveAddress"/> from any thread (one at a time). The descriptor is
/// non-blocking: <see cref="TryRead"/> and <see cref="TryWrite"/> never wait.
/// </para>
/// </remarks>
public sealed unsafe class TapDevice : IDisposable
{
    private const int IfNameSize = 16;
    private readonly RouteNetlink _netlink;
    private int _fd;

    private TapDevice(string name, int fd, int ifIndex, RouteNetlink netlink)
    {
        Name = name;
        _fd = fd;
        IfIndex = ifIndex;
        _netlink = netlink;
    }

    /// <summary>The interface name.</summary>
    public string Name { get; }

    /// <summary>The kernel's index of the interface.</summary>
    public int IfIndex { get; }

    /// <summary>The file descriptor, for poll(2) (<see cref="XskWaitSet.ForTaps"/>).</summary>
    public int Fd => _fd;

    /// <summary>Creates the TAP <paramref name="name"/> (replacing a stale one), gives it <paramref name="mac"/> and <paramref name="mtu"/>, and brings it up.</summary>
    /// <exception cref="XdpException">A call failed; the message names it, and says when another process holds the name or it is not a TAP.</exception>
    public static TapDevice Create(string name, ReadOnlySpan<byte> mac, int mtu)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= IfNameSize)
            throw new ArgumentException($"'{name}' is longer than 15 bytes", nameof(name));
        if (mac.Length != 6)
            throw new ArgumentException("a 6-byte MAC", nameof(mac));
        var netlink = new RouteNetlink();
        try
        {
            int stale = IndexOf(name);
            if (stale != 0)
            {
                // Attaching tells what it is: EBUSY while a process holds it, EINVAL when it is no TAP at all.
                int probe = OpenTap(name, out int errno);
                if (probe < 0)
                {
                    string why = errno == EBUSY ? "another process holds it (another xdpstack?)" : "it is not a TAP device";
                    throw new XdpException($"TUNSETIFF({name})", errno, $"a device named {name} exists and {why}");
                }
                close(probe);
                netlink.DeleteLink(stale);
            }
            int fd = OpenTap(name, out int error);
            if (fd < 0)
                throw new XdpException($"TUNSETIFF({name})", error);
            int ifIndex = IndexOf(name);
            var tap = new TapDevice(name, fd, ifIndex, netlink);
            try
            {
                netlink.SetUp(ifIndex, mac, mtu);
            }
            catch
            {
                tap.Dispose();
                throw;
            }
            return tap;
        }
        catch
        {
            netlink.Dispose();
            throw;
        }
    }

    /// <summary>Adds <paramref name="address"/>/<paramref name="prefixLength"/> (IPv6 without duplicate address detection); an address already there is kept.</summary>
    public void AddAddress(IPAddress address, int prefixLength) => ChangeAddress(address, prefixLength, add: true);

    /// <summary>Removes <paramref name="address"/>/<paramref name="prefixLength"/>.</summary>
    public void RemoveAddress(IPAddress address, int prefixLength) => ChangeAddress(address, prefixLength, add: false);

    /// <summary>Reads one frame the kernel sent; false when none is waiting.</summary>
    /// <exception cref="XdpException">read(2) failed otherwise.</exception>
    public bool TryRead(Span<byte> buffer, out int length)
    {
        nint n;
        fixed (byte* p = buffer)
            n = read(_fd, p, (nuint)buffer.Length);
        if (n >= 0)
        {
            length = (int)n;
            return true;
        }
        length = 0;
        int errno = Kernel.Errno;
        if (errno is EAGAIN or EINTR)
            return false;
        throw new XdpException($"read({Name})", errno);
    }

    /// <summary>Hands one frame to the kernel as if <see cref="Name"/> received it; false when the kernel refused it.</summary>
    public bool TryWrite(ReadOnlySpan<byte> frame)
    {
        nint n;
        fixed (byte* p = frame)
            n = write(_fd, p, (nuint)frame.Length);
        return n == frame.Length;
    }

    /// <summary>Closes the descriptor, which removes the TAP.</summary>
    public void Dispose()
    {
        if (_fd >= 0)
        {
            close(_fd);
            _fd = -1;
        }
        _netlink.Dispose();
    }

    private void ChangeAddress(IPAddress address, int prefixLength, bool add)
    {
        ArgumentNullException.ThrowIfNull(address);
        int max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, max);
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        _netlink.ChangeAddress(IfIndex, bytes[..written], prefixLength, add);
    }

    private static int OpenTap(string name, out int errno)
    {
        byte* path = stackalloc byte[] { (byte)'/', (byte)'d', (byte)'e', (byte)'v', (byte)'/', (byte)'n', (byte)'e', (byte)'t', (byte)'/', (byte)'t', (byte)'u', (byte)'n', 0 };
        int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
        {
            errno = Kernel.Errno;
            return -1;
        }
        var ifr = default(IfreqFlags);
        Encoding.UTF8.GetBytes(name, new Span<byte>(ifr.IfrName, IfNameSize - 1));
        ifr.IfrFlags = IFF_TAP | IFF_NO_PI;
        if (ioctl(fd, TUNSETIFF, &ifr) != 0)
        {
            errno = Kernel.Errno;
            close(fd);
            return -1;
        }
        errno = 0;
        return fd;
    }

    private static int IndexOf(string name)
    {
        byte* buffer = stackalloc byte[IfNameSize];
        new Span<byte>(buffer, IfNameSize).Clear();
        Encoding.UTF8.GetBytes(name, new Span<byte>(buffer, IfNameSize - 1));
        return (int)if_nametoindex(buffer);
    }
}
