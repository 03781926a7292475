using System.Net;
using System.Net.Sockets;

namespace XdpStack.Appliance.Tests.Cli;

/// <summary>An AF_PACKET socket that sees every frame sent and received in the namespace it was opened in.</summary>
internal sealed class PacketCapture : IDisposable
{
    private const int SOL_SOCKET = 1;
    private const int SO_RCVBUFFORCE = 33;
    private const short ETH_P_ALL = 0x0003;

    private readonly Socket _socket;

    /// <summary>Opens the capture; call it on a thread inside the namespace to watch.</summary>
    public PacketCapture()
    {
        _socket = new Socket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)(ushort)IPAddress.HostToNetworkOrder(ETH_P_ALL));
        // The default buffer holds only a few hundred small frames.
        _socket.SetRawSocketOption(SOL_SOCKET, SO_RCVBUFFORCE, BitConverter.GetBytes(32 << 20));
    }

    /// <summary>Reads every frame that arrives until none has for <paramref name="quiet"/>.</summary>
    public List<byte[]> Drain(TimeSpan quiet)
    {
        var frames = new List<byte[]>();
        var buffer = new byte[65536];
        while (_socket.Poll(quiet, SelectMode.SelectRead))
        {
            int n = _socket.Receive(buffer);
            frames.Add(buffer[..n]);
        }
        return frames;
    }

    public void Dispose() => _socket.Dispose();
}
