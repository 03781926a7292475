using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>The IPv4 options work of a router (RFC 791 §3.1, RFC 1812 §5.2.4): checks them (behaviour 33), fills in Record Route and Timestamp, follows source routes, and blanks uncopied options in fragments.</summary>
/// <remarks>
/// Every method takes the bytes after the 20-byte fixed header. Only <see cref="FindProblem"/>,
/// <see cref="FindSourceRoute"/>, <see cref="HasAddressesLeft"/> and <see cref="ClearUncopied"/>
/// accept unchecked options; the others expect options <see cref="FindProblem"/> passed.
/// </remarks>
internal static class Ipv4ForwardingOptions
{
    /// <summary>The octet a Parameter Problem points at when a strict source route reaches a router it does not name: the destination address, as Linux's ip_options_rcv_srr.</summary>
    public const int DestinationFieldPointer = 16;

    private const int FixedHeaderLength = 20;
    private const byte EndOfList = 0;
    private const byte NoOperation = 1;
    private const byte RecordRoute = 7;
    private const byte Timestamp = 68;
    private const byte LooseSourceRoute = 131;
    private const byte StrictSourceRoute = 137;
    private const byte RouterAlert = 148;
    private const byte CopiedFlag = 0x80;

    // RFC 791 Internet Timestamp flags.
    private const int TimestampsOnly = 0;
    private const int TimestampsAndAddresses = 1;
    private const int PrespecifiedAddresses = 3;

    private const long MillisecondsPerDay = 86_400_000;

    /// <summary>
    /// Returns -1 when <paramref name="options"/> are well formed, or the offset from the start of
    /// the IP header of the first bad octet, as Linux's ip_options_compile judges a received packet
    /// (checked against it with crafted packets): the type octet of a repeated option or of a length
    /// below 2 or past the options; the length octet of a length too short for its kind; the pointer
    /// when it is below the first entry or leaves room for part of one only; the flag octet for an
    /// overflow count that would wrap. Pointers need not be 4-aligned, and an unknown timestamp flag
    /// is accepted (nothing is stamped), as in Linux.
    /// </summary>
    public static int FindProblem(ReadOnlySpan<byte> options)
    {
        bool recordRoute = false, timestamp = false, sourceRoute = false;
        int i = 0;
        while (true)
        {
            switch (NextOption(options, ref i, out int length))
            {
                case OptionStep.End:
                    return -1;
                case OptionStep.NoLength:
                    return FixedHeaderLength + i;
                case OptionStep.BadLength:
                    return FixedHeaderLength + i;
            }
            byte kind = options[i];
            switch (kind)
            {
                case RecordRoute:
                case LooseSourceRoute:
                case StrictSourceRoute:
                {
                    // RFC 791: each "appears at most once"; RFC 1812 §5.2.4.1 adds that two source routes are an error.
                    ref bool seen = ref kind == RecordRoute ? ref recordRoute : ref sourceRoute;
                    if (seen)
                        return FixedHeaderLength + i;
                    seen = true;
                    if (length < 3)
                        return FixedHeaderLength + i + 1;
                    // Pointer counts from the option's first octet; the first slot is at octet 4.
                    int pointer = options[i + 2];
                    if (pointer < 4)
                        return FixedHeaderLength + i + 2;
                    // "Some room but not enough room for a full address": the datagram is in error.
                    if (pointer <= length && pointer + 3 > length)
                        return FixedHeaderLength + i + 2;
                    break;
                }
                case Timestamp:
                {
                    if (timestamp)
                        return FixedHeaderLength + i;
                    timestamp = true;
                    if (length < 4)
                        return FixedHeaderLength + i + 1;
                    int pointer = options[i + 2];
                    int flag = options[i + 3] & 0xF;
                    if (pointer < 5)
                        return FixedHeaderLength + i + 2;
                    // An unknown flag stamps nothing, so only the time's four octets need room (Linux).
                    int slot = flag is TimestampsAndAddresses or PrespecifiedAddresses ? 8 : 4;
                    if (pointer <= length && pointer + slot - 1 > length)
                        return FixedHeaderLength + i + 2;
                    // A full option counts the hops that could not stamp it; a 4-bit counter that
                    // would wrap makes the packet unforwardable (RFC 791). Linux counts no overflow
                    // for prespecified addresses: a full list means every named hop has stamped.
                    if (pointer > length && flag != PrespecifiedAddresses && (options[i + 3] >> 4) == 0xF)
                        return FixedHeaderLength + i + 3;
                    break;
                }
                case RouterAlert:
                    // RFC 2113: four octets.
                    if (length < 4)
                        return FixedHeaderLength + i + 1;
                    break;
            }
            i += length;
        }
    }

    /// <summary>The offset in <paramref name="options"/> of a Loose or Strict Source Route option, or -1; the scan stops at the end of the list or the first option whose length does not fit.</summary>
    public static int FindSourceRoute(ReadOnlySpan<byte> options)
    {
        int i = 0;
        while (NextOption(options, ref i, out int length) == OptionStep.Option)
        {
            if (options[i] is LooseSourceRoute or StrictSourceRoute)
                return i;
            i += length;
        }
        return -1;
    }

    /// <summary>True when the source route at <paramref name="at"/> (from <see cref="FindSourceRoute"/>) still names an address to go to: its pointer is not past its length.</summary>
    public static bool HasAddressesLeft(ReadOnlySpan<byte> options, int at) =>
        options[at + 1] >= 3 && options[at + 2] <= options[at + 1];

    /// <summary>True when the source route at <paramref name="at"/> is strict (SSRR): every hop must be directly connected to the previous one.</summary>
    public static bool IsStrict(ReadOnlySpan<byte> options, int at) => options[at] == StrictSourceRoute;

    /// <summary>
    /// Takes the next hop of a source route for a packet addressed to this router: writes
    /// <paramref name="egress"/> (the address it leaves by) over the slot of <paramref name="pointer"/>,
    /// the slot holding the new destination, and moves the pointer past it (RFC 791 "Loose Source
    /// and Record Route").
    /// </summary>
    public static void RecordSourceRouteHop(Span<byte> options, int at, int pointer, Ipv4Address egress)
    {
        egress.CopyTo(options[(at + pointer - 1)..]);
        options[at + 2] = (byte)(pointer + 4);
    }

    /// <summary>
    /// Records this router in the Record Route and Timestamp options of a packet it forwards, zeroes
    /// whatever follows End of Option List (as Linux's ip_options_compile does to every received
    /// packet), and returns true when any octet changed (the header checksum must then be recomputed).
    /// </summary>
    /// <param name="options">Options that <see cref="FindProblem"/> passed.</param>
    /// <param name="egress">The address of the NIC the packet leaves by, which RFC 791 asks for ("as known in the environment into which this datagram is being forwarded").</param>
    /// <param name="stack">The stack: its wall clock, and its addresses for prespecified timestamps.</param>
    public static bool RecordHop(Span<byte> options, Ipv4Address egress, NetworkStack stack)
    {
        bool changed = false;
        int i = 0;
        while (NextOption(options, ref i, out int length) == OptionStep.Option)
        {
            byte kind = options[i];
            Span<byte> option = options.Slice(i, length);
            if (kind == RecordRoute)
                changed |= RecordAddress(option, egress);
            else if (kind == Timestamp)
                changed |= Stamp(option, egress, stack);
            i += length;
        }
        if (i < options.Length && options[i] == EndOfList)
        {
            Span<byte> rest = options[(i + 1)..];
            if (rest.ContainsAnyExcept(EndOfList))
            {
                rest.Clear();
                changed = true;
            }
        }
        return changed;
    }

    /// <summary>
    /// Overwrites with No Operation every option without the copied flag, for a fragment other
    /// than the first (RFC 791 §3.2 "Fragmentation": such options go in the first fragment only).
    /// The header keeps its length, as Linux's ip_options_fragment does.
    /// </summary>
    public static void ClearUncopied(Span<byte> options)
    {
        int i = 0;
        while (NextOption(options, ref i, out int length) == OptionStep.Option)
        {
            if ((options[i] & CopiedFlag) == 0)
                options.Slice(i, length).Fill(NoOperation);
            i += length;
        }
    }

    /// <summary>
    /// Steps <paramref name="i"/> over No Operation octets to the next option and reads its length:
    /// <see cref="OptionStep.End"/> at End of Option List or the end of the bytes, otherwise whether
    /// the option at <paramref name="i"/> has a length octet that fits (RFC 791 §3.1 option format).
    /// </summary>
    private static OptionStep NextOption(ReadOnlySpan<byte> options, ref int i, out int length)
    {
        length = 0;
        while (i < options.Length && options[i] == NoOperation)
            i++;
        if (i >= options.Length || options[i] == EndOfList)
            return OptionStep.End;
        if (i + 1 >= options.Length)
            return OptionStep.NoLength;
        length = options[i + 1];
        return length < 2 || i + length > options.Length ? OptionStep.BadLength : OptionStep.Option;
    }

    private static bool RecordAddress(Span<byte> option, Ipv4Address address)
    {
        int pointer = option[2];
        // Full: the packet goes on unchanged (RFC 791).
        if (pointer > option.Length)
            return false;
        address.CopyTo(option[(pointer - 1)..]);
        option[2] = (byte)(pointer + 4);
        return true;
    }

    private static bool Stamp(Span<byte> option, Ipv4Address address, NetworkStack stack)
    {
        int pointer = option[2];
        int flag = option[3] & 0xF;
        if (pointer > option.Length)
        {
            if (flag == PrespecifiedAddresses)
                return false;
            // FindProblem refused a counter of 15, so this cannot carry into the flag bits.
            option[3] += 0x10;
            return true;
        }
        Span<byte> entry = option[(pointer - 1)..];
        switch (flag)
        {
            case TimestampsOnly:
                BinaryPrimitives.WriteUInt32BigEndian(entry, MillisecondsSinceMidnight(stack));
                option[2] = (byte)(pointer + 4);
                return true;
            case TimestampsAndAddresses:
                address.CopyTo(entry);
                BinaryPrimitives.WriteUInt32BigEndian(entry[4..], MillisecondsSinceMidnight(stack));
                option[2] = (byte)(pointer + 8);
                return true;
            case PrespecifiedAddresses:
                // Only the hop the next entry names stamps it, and that may be any of our addresses.
                if (!Ipv4Forwarder.IsLocalAddress(stack, Ipv4Address.Read(entry)))
                    return false;
                BinaryPrimitives.WriteUInt32BigEndian(entry[4..], MillisecondsSinceMidnight(stack));
                option[2] = (byte)(pointer + 8);
                return true;
            default:
                // An unknown flag: carried on unstamped, as Linux does.
                return false;
        }
    }

    // RFC 791: "milliseconds since midnight UT"; ticks since 0001-01-01 00:00 UTC are whole days plus that.
    private static uint MillisecondsSinceMidnight(NetworkStack stack) =>
        (uint)(stack.Options.WallClock.GetUtcNow().UtcTicks / TimeSpan.TicksPerMillisecond % MillisecondsPerDay);

    // What NextOption found where the scan stands.
    private enum OptionStep
    {
        Option,
        End,
        NoLength,
        BadLength,
    }
}
