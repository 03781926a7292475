using System.Buffers.Binary;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>Reassembles IPv4 fragments addressed to the stack (RFC 791 §3.2, RFC 815) for one worker, within a memory limit and a time limit.</summary>
/// <remarks>
/// <para>
/// Datagrams are keyed by (source, destination, protocol, identification). Each slot keeps the
/// fragment ranges it has seen. A fragment identical to one already held is a duplicate and is
/// ignored; one that overlaps or lies inside another in any other way makes the whole datagram
/// suspect (RFC 5722 reasons the same way for IPv6; gVisor drops it, behaviour 50), so the
/// datagram is dropped. The datagram is complete when the last fragment has arrived and the
/// ranges, which cannot overlap, add up to its length.
/// </para>
/// <para>
/// One worker owns the reassembler, so it takes no lock. Slot buffers are allocated on first use
/// and then reused. Expired datagrams are reclaimed when the next fragment arrives, so no timer
/// thread touches worker state. Fragments of one datagram that arrive on different workers are
/// not joined: RSS must steer them to one queue (it hashes fragments on addresses only).
/// </para>
/// </remarks>
internal sealed class Ipv4Reassembler
{
    private const int MaxDatagram = 65535;
    private const int MaxRanges = 64;

    private readonly Slot[] _slots;
    private readonly IClock _clock;
    private readonly TimeSpan _timeout;
    private readonly int _memoryLimit;
    private int _memoryUsed;

    public Ipv4Reassembler(StackOptions options, IClock clock)
    {
        _clock = clock;
        _timeout = options.ReassemblyTimeout;
        _memoryLimit = options.ReassemblyMemoryLimit;
        _slots = new Slot[options.ReassemblySlots];
        for (int i = 0; i < _slots.Length; i++)
            _slots[i] = new Slot();
    }

    /// <summary>Bytes of fragment data held now.</summary>
    public int MemoryUsed => _memoryUsed;

    /// <summary>Datagrams being reassembled now.</summary>
    public int PendingDatagrams
    {
        get
        {
            int n = 0;
            foreach (Slot s in _slots)
                n += s.InUse ? 1 : 0;
            return n;
        }
    }

    /// <summary>
    /// Adds one fragment (an Ethernet frame, validated, cut to the IPv4 total length). Returns true
    /// with the whole datagram, Ethernet header in front, when this fragment completed it; the span
    /// is valid until the next call.
    /// </summary>
    public bool Add(ReadOnlySpan<byte> frame, Ipv4Packet ip, NicStats stats, int worker, out Span<byte> datagram)
    {
        datagram = default;
        TimeSpan now = _clock.Now;
        ExpireOld(now, stats, worker);

        uint source = ip.Source.Value;
        uint destination = ip.Destination.Value;
        ushort id = ip.Identification;
        byte protocol = (byte)ip.Protocol;
        bool more = ip.MoreFragments;
        int offset = ip.FragmentOffset;
        int headerLength = ip.HeaderLength;
        ReadOnlySpan<byte> payload = ip.Payload;
        int length = payload.Length;
        int end = offset + length;

        // RFC 791: every fragment but the last carries a multiple of 8 bytes; nothing may end past 65535.
        if ((more && (length % 8 != 0 || length == 0)) || headerLength + end > MaxDatagram)
        {
            stats.Add(worker, StatCounter.Ipv4MalformedFragmentsReceived);
            return false;
        }

        Slot? slot = Find(source, destination, id, protocol);
        if (slot is null)
        {
            if (_memoryUsed + length > _memoryLimit || (slot = FreeSlot()) is null)
            {
                stats.Add(worker, StatCounter.Ipv4ReassemblyMemoryDrops);
                return false;
            }
            slot.Start(source, destination, id, protocol, now);
        }

        for (int i = 0; i < slot.RangeCount; i++)
        {
            (int s, int e) = slot.Ranges[i];
            if (s == offset && e == end)
                return false; // an exact duplicate: already have these bytes
            if (offset < e && s < end)
            {
                stats.Add(worker, StatCounter.Ipv4MalformedFragmentsReceived);
                Release(slot);
                return false;
            }
        }
        if (!more && slot.TotalLength >= 0 && slot.TotalLength != end)
        {
            stats.Add(worker, StatCounter.Ipv4MalformedFragmentsReceived);
            Release(slot);
            return false;
        }
        if ((slot.TotalLength >= 0 && end > slot.TotalLength) || slot.RangeCount == MaxRanges)
        {
            stats.Add(worker, StatCounter.Ipv4MalformedFragmentsReceived);
            Release(slot);
            return false;
        }
        if (_memoryUsed + length > _memoryLimit)
        {
            stats.Add(worker, StatCounter.Ipv4ReassemblyMemoryDrops);
            Release(slot);
            return false;
        }

        // The payload lives at LinkHeader + 60 (room for the longest IPv4 header) + offset.
        const int PayloadStart = Ipv4Delivery.LinkHeaderLength + 60;
        slot.Buffer ??= new byte[PayloadStart + MaxDatagram];
        payload.CopyTo(slot.Buffer.AsSpan(PayloadStart + offset));
        slot.Ranges[slot.RangeCount++] = (offset, end);
        slot.Received += length;
        _memoryUsed += length;
        slot.Memory += length;
        if (!more)
            slot.TotalLength = end;
        if (offset == 0)
        {
            // Keep the first fragment's link and IP headers: they become the datagram's.
            slot.HeaderLength = headerLength;
            frame[..(Ipv4Delivery.LinkHeaderLength + headerLength)].CopyTo(slot.Buffer.AsSpan(PayloadStart - headerLength - Ipv4Delivery.LinkHeaderLength));
        }
        if (slot.TotalLength < 0 || slot.Received != slot.TotalLength || slot.HeaderLength == 0)
            return false;

        int start = PayloadStart - slot.HeaderLength - Ipv4Delivery.LinkHeaderLength;
        datagram = slot.Buffer.AsSpan(start, Ipv4Delivery.LinkHeaderLength + slot.HeaderLength + slot.TotalLength);
        Span<byte> header = datagram[Ipv4Delivery.LinkHeaderLength..];
        // The first fragment's header with the datagram's length, no fragment flags, and a new checksum.
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(slot.HeaderLength + slot.TotalLength));
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], 0);
        Ipv4Endpoint.UpdateHeaderChecksum(header);
        // The buffer stays with the slot object; the caller uses the datagram before the next Add.
        Release(slot);
        return true;
    }

    private void ExpireOld(TimeSpan now, NicStats stats, int worker)
    {
        foreach (Slot slot in _slots)
        {
            if (slot.InUse && now - slot.Started >= _timeout)
            {
                stats.Add(worker, StatCounter.Ipv4ReassemblyTimeouts);
                Release(slot);
            }
        }
    }

    private Slot? Find(uint source, uint destination, ushort id, byte protocol)
    {
        foreach (Slot slot in _slots)
        {
            if (slot.InUse && slot.Id == id && slot.Source == source && slot.Destination == destination && slot.Protocol == protocol)
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
        _memoryUsed -= slot.Memory;
        slot.InUse = false;
    }

    private sealed class Slot
    {
        public readonly (int Start, int End)[] Ranges = new (int, int)[MaxRanges];
        public byte[]? Buffer;
        public bool InUse;
        public uint Source;
        public uint Destination;
        public ushort Id;
        public byte Protocol;
        public TimeSpan Started;
        public int RangeCount;
        public int Received;
        public int Memory;
        public int TotalLength;
        public int HeaderLength;

        public void Start(uint source, uint destination, ushort id, byte protocol, TimeSpan now)
        {
            InUse = true;
            Source = source;
            Destination = destination;
            Id = id;
            Protocol = protocol;
            Started = now;
            RangeCount = 0;
            Received = 0;
            Memory = 0;
            TotalLength = -1;
            HeaderLength = 0;
        }
    }
}
