using System.Buffers.Binary;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>Reassembles IPv4 fragments addressed to the stack (RFC 791 §3.2, RFC 815) for one worker, within a memory limit and a time limit.</summary>
/// <remarks>
/// <para>
/// Datagrams are keyed by (source, destination, protocol, identification). Each slot keeps the
/// runs of data it holds and judges each fragment as Linux's ip_frag_queue does: one that lies
/// inside a run already held is a duplicate and is ignored; one that overlaps in any other way
/// makes the whole datagram suspect (RFC 5722 reasons the same way for IPv6; gVisor drops it,
/// behaviour 50), as do a zero-length fragment and a last fragment that contradicts the data or
/// the end already seen, so the datagram is dropped. A fragment with more to come keeps its data's
/// whole eights. The datagram is complete when the last fragment has arrived and the runs, which
/// cannot overlap, add up to its length.
/// </para>
/// <para>
/// One worker owns the reassembler, so it takes no lock. Slot buffers are allocated on first use
/// and then reused. Expired datagrams are reclaimed by <see cref="TakeExpired"/>, which the endpoint
/// calls before each fragment and from the worker's timer poll, so no timer thread touches worker state. Fragments of one datagram that arrive on different workers are
/// not joined: RSS must steer them to one queue (it hashes fragments on addresses only).
/// </para>
/// </remarks>
internal sealed class Ipv4Reassembler
{
    private const int MaxDatagram = 65535;

    // The payload lives at LinkHeader + 60 (room for the longest IPv4 header) + offset.
    private const int PayloadStart = Ipv4Delivery.LinkHeaderLength + 60;

    private readonly ReassemblySlots<DatagramKey, Slot> _slots;
    private readonly IClock _clock;

    public Ipv4Reassembler(StackOptions options, IClock clock)
    {
        _clock = clock;
        _slots = new ReassemblySlots<DatagramKey, Slot>(options, PayloadStart, static () => new Slot());
    }

    /// <summary>Bytes of fragment data held now.</summary>
    public int MemoryUsed => _slots.MemoryUsed;

    /// <summary>Datagrams being reassembled now.</summary>
    public int PendingDatagrams => _slots.Pending;

    /// <summary>
    /// Adds one fragment (an Ethernet frame, validated, cut to the IPv4 total length). Returns true
    /// with the whole datagram, Ethernet header in front, when this fragment completed it; the span
    /// is valid until the next call.
    /// </summary>
    public bool Add(ReadOnlySpan<byte> frame, Ipv4Packet ip, NicStats stats, int worker, out Span<byte> datagram)
    {
        datagram = default;
        TimeSpan now = _clock.Now;

        var key = new DatagramKey(ip.Source.Value, ip.Destination.Value, ip.Identification, (byte)ip.Protocol);
        bool more = ip.MoreFragments;
        int offset = ip.FragmentOffset;
        int headerLength = ip.HeaderLength;
        ReadOnlySpan<byte> payload = ip.Payload;
        int length = payload.Length;
        int end = offset + length;

        // RFC 791: every fragment but the last carries a multiple of 8 bytes. Linux's ip_frag_queue keeps the whole
        // eights of one that does not, and so do we.
        if (more)
            end = offset + (length & ~7);
        // Nothing may end past 65535 octets of datagram: the fragment is dropped.
        if (headerLength + end > MaxDatagram)
        {
            stats.Add(worker, StatCounter.Ipv4MalformedFragmentsReceived);
            return false;
        }

        Slot? slot = _slots.Find(key);
        if (slot is null && (slot = _slots.Start(key, length, now)) is null)
        {
            stats.Add(worker, StatCounter.Ipv4ReassemblyMemoryDrops);
            return false;
        }

        switch (slot.Admit(offset, end, more))
        {
            case FragmentPlacement.Duplicate:
                return false; // already have these bytes
            case FragmentPlacement.Overlap:
                stats.Add(worker, StatCounter.Ipv4MalformedFragmentsReceived);
                _slots.Release(slot);
                return false;
        }
        if (slot.RangesFull)
        {
            stats.Add(worker, StatCounter.Ipv4MalformedFragmentsReceived);
            _slots.Release(slot);
            return false;
        }
        if (!_slots.Fits(end - offset))
        {
            stats.Add(worker, StatCounter.Ipv4ReassemblyMemoryDrops);
            _slots.Release(slot);
            return false;
        }

        byte[] buffer = _slots.Store(slot, payload, offset, end);
        if (offset == 0)
        {
            // Keep the first fragment's link and IP headers: they become the datagram's, and until then they
            // and its data are what a Time Exceeded quotes.
            slot.HeaderLength = headerLength;
            slot.FirstLength = end;
            frame[..(Ipv4Delivery.LinkHeaderLength + headerLength)].CopyTo(buffer.AsSpan(PayloadStart - headerLength - Ipv4Delivery.LinkHeaderLength));
        }
        if (slot.Total < 0 || slot.Received != slot.Total || slot.HeaderLength == 0)
            return false;

        int start = PayloadStart - slot.HeaderLength - Ipv4Delivery.LinkHeaderLength;
        datagram = buffer.AsSpan(start, Ipv4Delivery.LinkHeaderLength + slot.HeaderLength + slot.Total);
        Span<byte> header = datagram[Ipv4Delivery.LinkHeaderLength..];
        // The first fragment's header with the datagram's length, no fragment flags, and a new checksum.
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(slot.HeaderLength + slot.Total));
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], 0);
        Ipv4Endpoint.UpdateHeaderChecksum(header);
        // The buffer stays with the slot object; the caller uses the datagram before the next Add.
        _slots.Release(slot);
        return true;
    }

    /// <summary>
    /// Frees the first expired datagram; true if one was found, with <paramref name="firstFragment"/> its first
    /// fragment as it arrived (link header, IP header, data) when that fragment had come, empty otherwise; valid
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
        int start = PayloadStart - slot.HeaderLength - Ipv4Delivery.LinkHeaderLength;
        firstFragment = slot.HeaderLength > 0
            ? slot.Buffer.AsSpan(start, Ipv4Delivery.LinkHeaderLength + slot.HeaderLength + slot.FirstLength)
            : [];
        return true;
    }

    // RFC 791 §3.2: fragments belong together when these four fields agree.
    private readonly record struct DatagramKey(uint Source, uint Destination, ushort Id, byte Protocol);

    private sealed class Slot : ReassemblySlot<DatagramKey>
    {
        // The first fragment's IP header length; 0 until that fragment has arrived.
        public int HeaderLength;

        // The first fragment's data length.
        public int FirstLength;

        protected override void Clear()
        {
            HeaderLength = 0;
            FirstLength = 0;
        }
    }
}
