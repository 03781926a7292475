namespace XdpStack.Stack.Transport.Tcp;

/// <summary>A <see cref="TcpSocket"/> operation failed: the connection was refused, timed out, reset, or could not be made.</summary>
public sealed class TcpSocketException : IOException
{
    public TcpSocketException(TcpError error, string? message = null)
        : base(message ?? $"tcp: {error}")
    {
        Error = error;
    }

    /// <summary>What went wrong, as the connection reported it.</summary>
    public TcpError Error { get; }
}
