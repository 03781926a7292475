namespace XdpStack.Stack.Network.Ipv4;

/// <summary>Checks the IPv4 options of a packet to be forwarded (RFC 791 §3.1, behaviour 33) and finds the octet a Parameter Problem points at.</summary>
internal static class Ipv4ForwardingOptions
{
    private const byte EndOfList = 0;
    private const byte NoOperation = 1;
    private const byte RecordRoute = 7;
    private const byte Timestamp = 68;
    private const byte LooseSourceRoute = 131;
    private const byte StrictSourceRoute = 137;

    /// <summary>
    /// Returns -1 when <paramref name="options"/> (the bytes after the 20-byte fixed header) are
    /// well formed, or the offset from the start of the IP header of the first bad octet.
    /// </summary>
    public static int FindProblem(ReadOnlySpan<byte> options)
    {
        const int Base = 20;
        int i = 0;
        while (i < options.Length)
        {
            byte kind = options[i];
            if (kind == EndOfList)
                return -1;
            if (kind == NoOperation)
            {
                i++;
                continue;
            }
            if (i + 1 >= options.Length)
                return Base + i;
            int length = options[i + 1];
            if (length < 2 || i + length > options.Length)
                return Base + i + 1;
            switch (kind)
            {
                case RecordRoute:
                case LooseSourceRoute:
                case StrictSourceRoute:
                {
                    // Pointer counts from the option's first octet; slots are 4 bytes from octet 4.
                    if (length < 3)
                        return Base + i + 1;
                    int pointer = options[i + 2];
                    if (pointer < 4 || (pointer & 3) != 0)
                        return Base + i + 2;
                    break;
                }
                case Timestamp:
                {
                    if (length < 4)
                        return Base + i + 1;
                    int pointer = options[i + 2];
                    int flag = options[i + 3] & 0xF;
                    int slot = flag == 0 ? 4 : 8;
                    if (flag is not (0 or 1 or 3))
                        return Base + i + 3;
                    if (pointer < 5 || (pointer - 5) % slot != 0)
                        return Base + i + 2;
                    // A full option counts the hops that could not stamp it; a 4-bit counter that
                    // would overflow makes the packet unforwardable (RFC 791 "Internet Timestamp").
                    if (pointer > length && (options[i + 3] >> 4) == 0xF)
                        return Base + i + 3;
                    break;
                }
            }
            i += length;
        }
        return -1;
    }
}
