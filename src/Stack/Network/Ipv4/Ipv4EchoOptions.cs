using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>
/// The options of a packet the stack sends in answer to one that carried some (an echo reply, an ICMP error), as
/// Linux builds them in two steps. On arrival (ip_options_compile) the received Record Route and Timestamp get this
/// host's entry and everything after End of Option List is zeroed, in the received bytes themselves, which is also
/// what an ICMP error then quotes. On the way out (ip_options_echo, ip_options_build) the answer carries those two
/// options with one more entry each for the address it leaves from, padded with End of Option List; every other
/// option is left out.
/// </summary>
/// <remarks>
/// A source route is not echoed: a source-routed packet reaches the stack only with
/// <see cref="StackOptions.AcceptSourceRoute"/> on, and the answer then goes back the usual way without the reversed
/// route Linux would send it by.
/// </remarks>
internal static class Ipv4EchoOptions
{
    private const byte EndOfList = 0;
    private const byte NoOperation = 1;
    private const byte RecordRoute = 7;
    private const byte Timestamp = 68;
    private const int TimestampsOnly = 0;
    private const int TimestampsAndAddresses = 1;
    private const int PrespecifiedAddresses = 3;

    /// <summary>
    /// Writes the echo reply's options for <paramref name="request"/> (options that
    /// <see cref="Ipv4ForwardingOptions.FindProblem"/> passed) into <paramref name="reply"/>, at least 40 octets; returns
    /// their length, a multiple of 4, or -1 when Linux would send no reply (an option left room for part of an entry).
    /// </summary>
    /// <param name="request">The request's options, after the fixed header.</param>
    /// <param name="reply">Where the reply's options go.</param>
    /// <param name="ours">The address the request was for, which is also the reply's source.</param>
    /// <param name="stack">The stack: its wall clock, and its addresses for prespecified timestamps.</param>
    public static int Build(ReadOnlySpan<byte> request, Span<byte> reply, Ipv4Address ours, NetworkStack stack)
    {
        Span<byte> received = stackalloc byte[40];
        received = received[..request.Length];
        request.CopyTo(received);
        Arrival arrival = Arrive(received, ours, stack);
        return Echo(received, arrival, reply, ours, stack);
    }

    /// <summary>
    /// Does to <paramref name="options"/> what Linux's ip_options_compile does to a received packet's: our entry in
    /// Record Route and Timestamp, an overflow counted in a full Timestamp, zeros after End of Option List; only the
    /// options that start before <paramref name="problem"/> (an offset in the options, where a Parameter Problem
    /// points) are taken in, as Linux stops at the bad one. Returns what <see cref="Echo"/> needs.
    /// </summary>
    /// <param name="options">Options that <see cref="Ipv4ForwardingOptions.FindProblem"/> passed up to <paramref name="problem"/>.</param>
    /// <param name="arrivedAt">The address the packet arrived at: its destination when ours, else our address toward its source.</param>
    /// <param name="stack">The stack: its wall clock, and its addresses for prespecified timestamps.</param>
    /// <param name="problem">Where a Parameter Problem points, as an offset in the options, or <see cref="int.MaxValue"/>.</param>
    public static Arrival Arrive(Span<byte> options, Ipv4Address arrivedAt, NetworkStack stack, int problem = int.MaxValue)
    {
        Arrival arrival = new() { RecordRoute = -1, Timestamp = -1 };
        int i = 0;
        while (i < options.Length)
        {
            byte kind = options[i];
            if (kind == EndOfList)
            {
                options[(i + 1)..].Clear();
                break;
            }
            if (kind == NoOperation)
            {
                i++;
                continue;
            }
            if (i + 1 >= options.Length)
                break;
            int length = options[i + 1];
            if (problem < i + Math.Max(length, 1) || length < 2 || i + length > options.Length)
                break;
            Span<byte> option = options.Slice(i, length);
            if (kind == RecordRoute && arrival.RecordRoute < 0)
            {
                arrival.RecordRoute = i;
                if (option[2] <= length)
                {
                    arrivedAt.CopyTo(option[(option[2] - 1)..]);
                    option[2] += 4;
                    arrival.RecordRouteNeedsAddress = true;
                }
            }
            else if (kind == Timestamp && arrival.Timestamp < 0)
            {
                arrival.Timestamp = i;
                ArriveTimestamp(option, arrivedAt, stack, ref arrival);
            }
            i += length;
        }
        return arrival;
    }

    private static void ArriveTimestamp(Span<byte> option, Ipv4Address arrivedAt, NetworkStack stack, ref Arrival arrival)
    {
        int pointer = option[2];
        int flag = option[3] & 0xF;
        if (pointer > option.Length)
        {
            // FindProblem refused a counter of 15, so this cannot carry into the flag bits.
            if (flag != PrespecifiedAddresses)
                option[3] += 0x10;
            return;
        }
        Span<byte> entry = option[(pointer - 1)..];
        switch (flag)
        {
            case TimestampsOnly:
                BinaryPrimitives.WriteUInt32BigEndian(entry, MillisecondsSinceMidnight(stack));
                option[2] = (byte)(pointer + 4);
                arrival.TimestampNeedsTime = true;
                break;
            case TimestampsAndAddresses:
                arrivedAt.CopyTo(entry);
                BinaryPrimitives.WriteUInt32BigEndian(entry[4..], MillisecondsSinceMidnight(stack));
                option[2] = (byte)(pointer + 8);
                arrival.TimestampNeedsAddress = true;
                arrival.TimestampNeedsTime = true;
                break;
            case PrespecifiedAddresses:
                // Only the hop the entry names stamps it.
                if (!Ipv4Forwarder.IsLocalAddress(stack, Ipv4Address.Read(entry)))
                    break;
                BinaryPrimitives.WriteUInt32BigEndian(entry[4..], MillisecondsSinceMidnight(stack));
                option[2] = (byte)(pointer + 8);
                arrival.TimestampNeedsTime = true;
                break;
        }
    }

    /// <summary>
    /// Writes the answer's options into <paramref name="reply"/> (at least 40 octets) from <paramref name="arrived"/>,
    /// options <see cref="Arrive"/> took in: Record Route, then Timestamp, each with an entry for
    /// <paramref name="source"/> where the arrival left a need and room for it. Returns their length, a multiple of 4,
    /// or -1 when an option has room for part of an entry only, where Linux sends nothing.
    /// </summary>
    public static int Echo(ReadOnlySpan<byte> arrived, in Arrival arrival, Span<byte> reply, Ipv4Address source, NetworkStack stack)
    {
        int length = 0;
        if (arrival.RecordRoute >= 0)
        {
            Span<byte> option = reply.Slice(length, arrived[arrival.RecordRoute + 1]);
            arrived.Slice(arrival.RecordRoute, option.Length).CopyTo(option);
            int pointer = option[2];
            if (arrival.RecordRouteNeedsAddress && pointer <= option.Length)
            {
                if (pointer + 3 > option.Length)
                    return -1;
                source.CopyTo(option[(pointer - 1)..]);
                option[2] = (byte)(pointer + 4);
            }
            length += option.Length;
        }
        if (arrival.Timestamp >= 0)
        {
            Span<byte> option = reply.Slice(length, arrived[arrival.Timestamp + 1]);
            arrived.Slice(arrival.Timestamp, option.Length).CopyTo(option);
            if (!EchoTimestamp(option, arrival, source, stack))
                return -1;
            length += option.Length;
        }
        while ((length & 3) != 0)
            reply[length++] = EndOfList;
        return length;
    }

    // ip_options_echo's reservation, then ip_options_build's entry; false where an entry does not fit.
    private static bool EchoTimestamp(Span<byte> option, in Arrival arrival, Ipv4Address source, NetworkStack stack)
    {
        int pointer = option[2];
        if (pointer > option.Length)
            return true;
        int next = pointer;
        bool address = false, time = false;
        if (arrival.TimestampNeedsAddress)
        {
            if (next + 3 > option.Length)
                return false;
            address = true;
            next += 4;
        }
        if (arrival.TimestampNeedsTime)
        {
            if (next + 3 > option.Length)
                return false;
            if ((option[3] & 0xF) != PrespecifiedAddresses)
            {
                time = true;
                next += 4;
            }
            else if (next + 7 <= option.Length && Ipv4Forwarder.IsLocalAddress(stack, Ipv4Address.Read(option[(next - 1)..])))
            {
                time = true;
                next += 8;
            }
        }
        option[2] = (byte)next;
        if (address)
            source.CopyTo(option[(pointer - 1)..]);
        if (time)
            BinaryPrimitives.WriteUInt32BigEndian(option[(next - 5)..], MillisecondsSinceMidnight(stack));
        return true;
    }

    private static uint MillisecondsSinceMidnight(NetworkStack stack) =>
        (uint)(stack.Options.WallClock.GetUtcNow().UtcTicks / TimeSpan.TicksPerMillisecond % 86_400_000);

    /// <summary>What <see cref="Arrive"/> found: where the two echoed options are (-1 when absent) and which entries the answer is to add.</summary>
    internal struct Arrival
    {
        public int RecordRoute;
        public bool RecordRouteNeedsAddress;
        public int Timestamp;
        public bool TimestampNeedsAddress;
        public bool TimestampNeedsTime;
    }
}
