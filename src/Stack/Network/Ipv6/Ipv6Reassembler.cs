using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

/// <summary>Reassembles IPv6 fragments addressed to the stack (RFC 8200 §4.5) for one worker, within a memory limit and a time limit.</summary>
/// <remarks>
/// <para>
/// Datagrams are keyed by (source, destination, identification). A fragment identical to one
/// already held is a duplicate and is ignored; any other overlap drops the whole datagram (RFC
/// 5722, behaviour 50). The reassembled packet is the first fragment's Ethernet and fixed IPv6
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
    private const int MaxRanges = 64;

    private readonly Slot[] _slots;
    private readonly IClock _clock;
    private readonly TimeSpan _timeout;
    private readonly int _memoryLimit;
    private int _memoryUsed;

    /// <param name="options">The memory, time and slot limits.</param>
    /// <param name="clock">The stack's clock.</param>
    /// <param name="firstFragmentKept">Octets of the first fragment's frame kept for Time Exceeded: a whole frame of the link's MTU.</param>
    public Ipv6Reassembler(StackOptions options, IClock clock, int firstFragmentKept)
    {
        _clock = clock;
        _timeout = options.ReassemblyTimeout;
        _memoryLimit = options.ReassemblyMemoryLimit;
        _slots = new Slot[options.ReassemblySlots];
        for (int i = 0; i < _slots.Length; i++)
            _slots[i] = new Slot(firstFragmentKept);
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
    public int MemoryUsed => _memoryUsed;

    /// <summary>
    /// Frees the first expired datagram; true if one was found, with <paramref name="firstFragment"/>
    /// the start of its first fragment's frame when that fragment had arrived (empty otherwise), valid
    /// until the next call.
    /// </summary>
    public bool TakeExpired(out Span<byte> firstFragment)
    {
        TimeSpan now = _clock.Now;
        foreach (Slot slot in _slots)
        {
            if (!slot.InUse || now - slot.Started < _timeout)
                continue;
            firstFragment = slot.FirstLength > 0 ? slot.First.AsSpan(0, slot.FirstLength) : [];
            Release(slot);
            return true;
        }
        firstFragment = default;
        return false;
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
        Span<byte> data = ip.Packet[chain.UpperLayerOffset..];
        int end = offset + data.Length;
        if (end > MaxPayload)
            return Outcome.TooLong;
        Slot? slot = Find(ip.Source, ip.Destination, chain.FragmentIdentification);
        if (slot is null)
        {
            if (_memoryUsed + data.Length > _memoryLimit)
                return Outcome.NoMemory;
            slot = FreeSlot();
            if (slot is null)
                return Outcome.NoMemory;
            slot.Start(ip.Source, ip.Destination, chain.FragmentIdentification, _clock.Now);
        }
        else if (_memoryUsed + data.Length > _memoryLimit)
        {
            return Outcome.NoMemory;
        }
        for (int i = 0; i < slot.RangeCount; i++)
        {
            (int s, int e) = slot.Ranges[i];
            if (s == offset && e == end)
                return Outcome.Duplicate;
            if (offset < e && s < end)
            {
                Release(slot);
                return Outcome.Overlap;
            }
        }
        if (!chain.MoreFragments)
        {
            // A second "last" fragment, or data past the end, contradicts what came before.
            if ((slot.Total >= 0 && slot.Total != end) || slot.MaxEnd > end)
            {
                Release(slot);
                return Outcome.Overlap;
            }
            slot.Total = end;
        }
        else if (slot.Total >= 0 && end > slot.Total)
        {
            Release(slot);
            return Outcome.Overlap;
        }
        if (slot.RangeCount == MaxRanges)
        {
            Release(slot);
            return Outcome.NoMemory;
        }
        slot.Buffer ??= new byte[HeadersLength + MaxPayload];
        data.CopyTo(slot.Buffer.AsSpan(HeadersLength + offset));
        slot.Ranges[slot.RangeCount++] = (offset, end);
        slot.Received += data.Length;
        slot.MaxEnd = Math.Max(slot.MaxEnd, end);
        _memoryUsed += data.Length;
        if (offset == 0)
        {
            frame[..HeadersLength].CopyTo(slot.Buffer);
            // The fixed header of the result names what followed the fragment header.
            Span<byte> header = slot.Buffer.AsSpan(Ipv6Endpoint.LinkHeaderLength);
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
        Span<byte> result = slot.Buffer.AsSpan(0, HeadersLength + slot.Total);
        result[(Ipv6Endpoint.LinkHeaderLength + 4)] = (byte)(slot.Total >> 8);
        result[(Ipv6Endpoint.LinkHeaderLength + 5)] = (byte)slot.Total;
        Release(slot);
        whole = result;
        return Outcome.Complete;
    }

    private Slot? Find(Ipv6Address source, Ipv6Address destination, uint identification)
    {
        foreach (Slot slot in _slots)
        {
            if (slot.InUse && slot.Identification == identification && slot.Source == source && slot.Destination == destination)
                return slot;
        }
        return null;
    }

    private Slot? FreeSlot()
    {
        foreach (Slot slot in _slots)
        {
            if (!slot.InUse)
                return slot;
        }
        return null;
    }

    private void Release(Slot slot)
    {
        _memoryUsed -= slot.Received;
        slot.InUse = false;
    }

    private sealed class Slot
    {
        public bool InUse;
        public Ipv6Address Source;
        public Ipv6Address Destination;
        public uint Identification;
        public TimeSpan Started;
        public int Total;
        public int Received;
        public int MaxEnd;
        public int RangeCount;
        public int FirstLength;
        public readonly (int Start, int End)[] Ranges = new (int, int)[MaxRanges];
        public readonly byte[] First;
        public byte[]? Buffer;

        public Slot(int firstFragmentKept) => First = new byte[firstFragmentKept];

        public void Start(Ipv6Address source, Ipv6Address destination, uint identification, TimeSpan now)
        {
            InUse = true;
            Source = source;
            Destination = destination;
            Identification = identification;
            Started = now;
            Total = -1;
            Received = 0;
            MaxEnd = 0;
            RangeCount = 0;
            FirstLength = 0;
        }
    }
}
