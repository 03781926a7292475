using System.Text;

namespace XdpStack.Appliance.Control;

/// <summary>Reads and writes the control protocol's text lines (UTF-8, ended by a newline) on a stream that may carry binary data after them.</summary>
/// <remarks>
/// Reads a byte at a time, so nothing after the newline is consumed: a capture's binary messages follow its first
/// line on the same stream. Requests and replies are short, and come once a second at most from <c>stats</c>.
/// </remarks>
internal static class ControlLine
{
    /// <summary>Longest request line the server accepts.</summary>
    public const int MaxRequest = 4096;

    /// <summary>Longest reply line a client accepts (a large routing table).</summary>
    public const int MaxReply = 64 << 20;

    /// <summary>The next line without its newline, or null at the end of the stream (a partial last line included).</summary>
    /// <exception cref="ApplianceException">The line is longer than <paramref name="max"/> bytes.</exception>
    public static string? Read(Stream stream, int max)
    {
        var bytes = new MemoryStream();
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0)
                return null;
            if (b == '\n')
                return Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length).TrimEnd('\r');
            if (bytes.Length >= max)
                throw new ApplianceException($"control line longer than {max} bytes");
            bytes.WriteByte((byte)b);
        }
    }

    public static void Write(Stream stream, string line)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
        stream.Write(bytes);
        stream.Flush();
    }
}
