using System.Net.Sockets;
using System.Text;

namespace XdpStack.Appliance.Run;

/// <summary>Tells systemd about the service's state (sd_notify's protocol: one datagram to <c>$NOTIFY_SOCKET</c>).</summary>
internal static class SystemdNotify
{
    /// <summary>Sends <paramref name="state"/> when run under systemd with Type=notify; does nothing otherwise.</summary>
    public static void Send(string state)
    {
        string? path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
            return;
        // An abstract socket is written with a leading '@'; its real first byte is NUL.
        if (path[0] == '@')
            path = "\0" + path[1..];
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"xdpstack: could not notify systemd at {path}: {e.Message}");
        }
    }
}
