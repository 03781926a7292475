using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

/// <summary>Reassembles IPv6 fragments addressed to the stack (RFC 8200 §4.5) for one worker, within a memory limit and a time limit.</summary>
/// <remarks>
/// <para>
/// Datagrams are keyed by (source, destination, identification). A fragment inside a run of data
/// already held is a duplicate and is ignored; any other overlap drops the whole datagram (RFC
/// 5722, behaviour 50), as do a zero-length fragment and a last fragment that contradicts the data
/// or the end already seen (Linux's ip6_frag_queue and inet_frag_queue_insert). The reassembled packet is the first fragment's Ethernet and fixed IPv6
/// headers followed by the data, with the fragment header's Next Header in the fixed header: the
/// unfragmentable extension headers were already processed on each fragment and are not kept.
/// </para>
/// <para>
/// One worker owns it, so it takes no lock. Slot buffers are allocated on first use and reused.
/// Expired datagrams are reclaimed by <see cref="TakeExpired"/>, which the endpoint calls when a
/// fragment arrives (and the worker may call when idle), so no timer thread touches worker state.
/// </para>
/// </remarks>
internal sealed class Ipv6Reassembler
{
    internal const int MaxPayload = 65535;
    private const int HeadersLength = Ipv6Endpoint.LinkHeaderLength + Ipv6Packet.HeaderLength;
    private const int FragmentHeaderLength = 8;

    private readonly ReassemblySlots<DatagramKey, Slot> _slots;
    private readonly IClock _clock;

    /// <param name="options">The memory, time and slot limits.</param>
    /// <param name="clock">The stack's clock.</param>
    /// <param name="firstFragmentKept">Octets of the first fragment's frame kept for Time Exceeded: a whole frame of the link's MTU.</param>
    public Ipv6Reassembler(StackOptions options, IClock clock, int firstFragmentKept)
    {
        _clock = clock;
        _slots = new ReassemblySlots<DatagramKey, Slot>(options, HeadersLength, () => new Slot(firstFragmentKept));
    }

    /// <summary>What <see cref="Add"/> did with a fragment.</summary>
    public enum Outcome
    {
        Held,
        Complete,
        Duplicate,
        Overlap,
        TooLong,
        NoMemory,
    }

    /// <summary>Bytes of fragment data held now.</summary>
    public int MemoryUsed => _slots.MemoryUsed;

    /// <summary>
    /// Frees the first expired datagram; true if one was found, with <paramref name="firstFragment"/>
    /// the start of its first fragment's frame when that fragment had arrived (empty otherwise), valid
    /// until the next call.
    /// </summary>
    public bool TakeExpired(out Span<byte> firstFragment)
    {
        Slot? slot = _slots.TakeExpired(_clock.Now);
        if (slot is null)
        {
            firstFragment = default;
            return false;
        }
        firstFragment = slot.FirstLength > 0 ? slot.First.AsSpan(0, slot.FirstLength) : [];
        return true;
    }

    /// <summary>
    /// Adds the fragment in <paramref name="frame"/> (an Ethernet frame with a checked IPv6 packet);
    /// on <see cref="Outcome.Complete"/>, <paramref name="whole"/> is the reassembled frame, valid
    /// until the next call.
    /// </summary>
    public Outcome Add(Span<byte> frame, Ipv6Packet ip, Ipv6ExtensionChain chain, out Span<byte> whole)
    {
        whole = default;
        int offset = chain.FragmentOffset;
        // The fragmentable part starts right after the fragment header (RFC 8200 §4.5): in a first fragment
        // that may be extension headers (destination options) before the upper layer.
        Span<byte> data = ip.Packet[(chain.FragmentHeaderOffset + FragmentHeaderLength)..];
        int end = offset + data.Length;
        if (end > MaxPayload)
            return Outcome.TooLong;
        var key = new DatagramKey(ip.Source, ip.Destination, chain.FragmentIdentification);
        Slot? slot = _slots.Find(key);
        if (slot is null)
        {
            slot = _slots.Start(key, data.Length, _clock.Now);
            if (slot is null)
                return Outcome.NoMemory;
        }
        switch (slot.Admit(offset, end, chain.MoreFragments))
        {
            case FragmentPlacement.Duplicate:
                return Outcome.Duplicate;
            case FragmentPlacement.Overlap:
                _slots.Release(slot);
                return Outcome.Overlap;
        }
        if (slot.RangesFull || !_slots.Fits(data.Length))
        {
            _slots.Release(slot);
            return Outcome.NoMemory;
        }
        byte[] buffer = _slots.Store(slot, data, offset, end);
        if (offset == 0)
        {
            frame[..HeadersLength].CopyTo(buffer);
            // The fixed header of the result names what followed the fragment header.
            Span<byte> header = buffer.AsSpan(Ipv6Endpoint.LinkHeaderLength);
            header[6] = ip.Packet[chain.FragmentHeaderOffset];
            slot.FirstLength = Math.Min(frame.Length, slot.First.Length);
            frame[..slot.FirstLength].CopyTo(slot.First);
            if (slot.FirstLength < frame.Length)
            {
                // Longer than the link should carry: keep a shortened but self-consistent packet.
                int payload = slot.FirstLength - HeadersLength;
                slot.First[Ipv6Endpoint.LinkHeaderLength + 4] = (byte)(payload >> 8);
                slot.First[Ipv6Endpoint.LinkHeaderLength + 5] = (byte)payload;
            }
        }
        if (slot.Total < 0 || slot.Received != slot.Total || slot.FirstLength == 0)
            return Outcome.Held;
        Span<byte> result = buffer.AsSpan(0, HeadersLength + slot.Total);
        result[(Ipv6Endpoint.LinkHeaderLength + 4)] = (byte)(slot.Total >> 8);
        result[(Ipv6Endpoint.LinkHeaderLength + 5)] = (byte)slot.Total;
        _slots.Release(slot);
        whole = result;
        return Outcome.Complete;
    }

    // RFC 8200 §4.5: fragments belong together when source, destination and identification agree.
    private readonly record struct DatagramKey(Ipv6Address Source, Ipv6Address Destination, uint Identification);

    private sealed class Slot(int firstFragmentKept) : ReassemblySlot<DatagramKey>
    {
        // How much of First is the first fragment's frame; 0 until it has arrived.
        public int FirstLength;

        // The first fragment's frame, kept to quote in Time Exceeded (code 1 needs it, §4.5).
        public readonly byte[] First = new byte[firstFragmentKept];

        protected override void Clear()
        {
            FirstLength = 0;
        }
    }
}
