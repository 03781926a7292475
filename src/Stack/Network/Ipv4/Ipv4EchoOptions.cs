using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>
/// The options of an echo reply to a request that carried some, as Linux builds them: the request's Record Route and
/// Timestamp, each given our entry when the request arrived (ip_options_compile on local delivery) and another when
/// the reply leaves (ip_options_echo, ip_options_build), in that order, padded with End of Option List; every other
/// option is left out.
/// </summary>
/// <remarks>
/// A source route is not echoed: a source-routed packet reaches the echo only with
/// <see cref="StackOptions.AcceptSourceRoute"/> on, and the reply then goes back the usual way without the reversed route
/// Linux would send it by.
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
    /// Writes the reply's options for <paramref name="request"/> (options that <see cref="Ipv4ForwardingOptions.FindProblem"/>
    /// passed) into <paramref name="reply"/>, at least as long; returns their length, a multiple of 4, or -1 when Linux
    /// would send no reply (an option left room for part of an entry only).
    /// </summary>
    /// <param name="request">The request's options, after the fixed header.</param>
    /// <param name="reply">Where the reply's options go.</param>
    /// <param name="ours">The address the request was for, which is also the reply's source.</param>
    /// <param name="stack">The stack: its wall clock, and its addresses for prespecified timestamps.</param>
    public static int Build(ReadOnlySpan<byte> request, Span<byte> reply, Ipv4Address ours, NetworkStack stack)
    {
        int recordRoute = Find(request, RecordRoute);
        int timestamp = Find(request, Timestamp);
        int length = 0;
        if (recordRoute >= 0)
        {
            Span<byte> option = reply.Slice(length, request[recordRoute + 1]);
            request.Slice(recordRoute, option.Length).CopyTo(option);
            // On arrival, then on the way out, while the list has room.
            if (RecordAddress(option, ours) && option[2] <= option.Length)
            {
                if (option[2] + 3 > option.Length)
                    return -1;
                RecordAddress(option, ours);
            }
            length += option.Length;
        }
        if (timestamp >= 0)
        {
            Span<byte> option = reply.Slice(length, request[timestamp + 1]);
            request.Slice(timestamp, option.Length).CopyTo(option);
            if (Stamp(option, ours, stack, countOverflow: true) && option[2] <= option.Length)
            {
                int flag = option[3] & 0xF;
                int slot = flag == TimestampsOnly ? 4 : 8;
                // Part of an entry left: no reply, except that a prespecified list simply goes unstamped.
                if (option[2] + slot - 1 <= option.Length)
                    Stamp(option, ours, stack, countOverflow: false);
                else if (flag != PrespecifiedAddresses)
                    return -1;
            }
            length += option.Length;
        }
        while ((length & 3) != 0)
            reply[length++] = EndOfList;
        return length;
    }

    // The offset of the first option of this kind, or -1.
    private static int Find(ReadOnlySpan<byte> options, byte kind)
    {
        int i = 0;
        while (i < options.Length && options[i] != EndOfList)
        {
            if (options[i] == NoOperation)
            {
                i++;
                continue;
            }
            if (i + 1 >= options.Length || options[i + 1] < 2)
                return -1;
            if (options[i] == kind)
                return i;
            i += options[i + 1];
        }
        return -1;
    }

    // Our address in the next slot, if there is one; true when it was written.
    private static bool RecordAddress(Span<byte> option, Ipv4Address address)
    {
        int pointer = option[2];
        if (pointer > option.Length)
            return false;
        address.CopyTo(option[(pointer - 1)..]);
        option[2] = (byte)(pointer + 4);
        return true;
    }

    // Our stamp in the next entry; true when one was written. A full option counts an overflow on arrival only.
    private static bool Stamp(Span<byte> option, Ipv4Address address, NetworkStack stack, bool countOverflow)
    {
        int pointer = option[2];
        int flag = option[3] & 0xF;
        if (pointer > option.Length)
        {
            if (countOverflow && flag != PrespecifiedAddresses)
                option[3] += 0x10;
            return false;
        }
        Span<byte> entry = option[(pointer - 1)..];
        uint now = MillisecondsSinceMidnight(stack);
        switch (flag)
        {
            case TimestampsOnly:
                BinaryPrimitives.WriteUInt32BigEndian(entry, now);
                option[2] = (byte)(pointer + 4);
                return true;
            case TimestampsAndAddresses:
                address.CopyTo(entry);
                BinaryPrimitives.WriteUInt32BigEndian(entry[4..], now);
                option[2] = (byte)(pointer + 8);
                return true;
            case PrespecifiedAddresses:
                if (!Ipv4Forwarder.IsLocalAddress(stack, Ipv4Address.Read(entry)))
                    return false;
                BinaryPrimitives.WriteUInt32BigEndian(entry[4..], now);
                option[2] = (byte)(pointer + 8);
                return true;
            default:
                return false;
        }
    }

    private static uint MillisecondsSinceMidnight(NetworkStack stack) =>
        (uint)(stack.Options.WallClock.GetUtcNow().UtcTicks / TimeSpan.TicksPerMillisecond % 86_400_000);
}
