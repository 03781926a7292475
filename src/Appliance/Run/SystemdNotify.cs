using System.Net.Sockets;
using System.Text;

namespace XdpStack.Appliance.Run;

/// <summary>Tells systemd about the service's state (sd_notify's protocol: one datagram to <c>$NOTIFY_SOCKET</c>).</summary>
/// <remarks>
/// The socket is connected once, by <see cref="Connect"/> while the process is still root: the notification socket may
/// be writable by root only, and a connected datagram socket is not checked again when the process has become its
/// unprivileged user (READY=1 and STOPPING=1 are sent after the privilege drop).
/// </remarks>
internal static class SystemdNotify
{
    private static Socket? s_socket;

    /// <summary>Connects to <c>$NOTIFY_SOCKET</c> when run under systemd with Type=notify; does nothing otherwise.</summary>
    public static void Connect()
    {
        if (s_socket is not null)
            return;
        string? path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
            return;
        // An abstract socket is written with a leading '@'; its real first byte is NUL.
        if (path[0] == '@')
            path = "\0" + path[1..];
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            s_socket = socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            Console.Error.WriteLine($"xdpstack: could not connect to systemd's notification socket {path}: {e.Message}");
        }
    }

    /// <summary>Sends <paramref name="state"/> through the socket <see cref="Connect"/> opened (connecting first if it was not called).</summary>
    public static void Send(string state)
    {
        Connect();
        try
        {
            s_socket?.Send(Encoding.UTF8.GetBytes(state));
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"xdpstack: could not notify systemd: {e.Message}");
        }
    }
}
