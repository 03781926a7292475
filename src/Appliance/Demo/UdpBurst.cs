using System.Net;
using System.Net.Sockets;

namespace XdpStack.Appliance.Demo;

/// <summary>A Linux UDP socket that sends a burst to the reflector and counts what comes back to it.</summary>
/// <remarks>
/// With <c>--swap l3</c> a reflected datagram comes back from the reflector's address and port to
/// the sender's own address and port, so the kernel delivers it to this very socket, which also
/// proves its UDP checksum still verifies.
/// </remarks>
internal static class UdpBurst
{
    public const int Port = 40000;

    /// <summary>Sends <paramref name="count"/> datagrams and returns how many came back, with the same payload, from <paramref name="target"/>.</summary>
    public static int SendAndCount(IPAddress local, IPEndPoint target, int count, int payloadLength, TimeSpan wait)
    {
        using var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 << 20;
        socket.Bind(new IPEndPoint(local, Port));
        var payload = new byte[payloadLength];
        var buffer = new byte[2048];
        int back = 0;
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(payload, i);
            socket.SendTo(payload, target);
            back += Drain(socket, buffer, target, payloadLength, TimeSpan.Zero);
        }
        DateTime end = DateTime.UtcNow + wait;
        while (back < count && DateTime.UtcNow < end)
            back += Drain(socket, buffer, target, payloadLength, TimeSpan.FromMilliseconds(50));
        return back;
    }

    private static int Drain(Socket socket, byte[] buffer, IPEndPoint expectedSender, int payloadLength, TimeSpan wait)
    {
        int n = 0;
        if (!socket.Poll(wait, SelectMode.SelectRead))
            return 0;
        while (socket.Available > 0)
        {
            EndPoint from = new IPEndPoint(expectedSender.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            int length = socket.ReceiveFrom(buffer, ref from);
            if (from.Equals(expectedSender) && length == payloadLength)
                n++;
        }
        return n;
    }
}
