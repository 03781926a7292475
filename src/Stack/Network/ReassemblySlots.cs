namespace XdpStack.Stack.Network;

/// <summary>The fixed set of reassembly slots of one worker and one IP family, with the memory and time limits they share.</summary>
/// <remarks>
/// The slots are made once, so looking one up, starting one and copying data into it allocate
/// nothing after each slot's buffer exists. One worker owns it, so it takes no lock. What a
/// fragment may be (lengths, overlap and last-fragment rules, which headers are kept) is the
/// family's to decide; this type only keeps the slots and the bytes they charge.
/// </remarks>
/// <typeparam name="TKey">What identifies a datagram in the family.</typeparam>
/// <typeparam name="TSlot">The family's slot, with what it keeps beyond the shared fields.</typeparam>
internal sealed class ReassemblySlots<TKey, TSlot>
    where TKey : struct, IEquatable<TKey>
    where TSlot : ReassemblySlot<TKey>
{
    // The most data an IPv4 datagram or an IPv6 payload can carry: a 16-bit length.
    private const int MaxData = ushort.MaxValue;

    private readonly TSlot[] _slots;
    private readonly TimeSpan _timeout;
    private readonly int _memoryLimit;
    private readonly int _dataStart;
    private int _memoryUsed;

    /// <param name="options">The memory, time and slot limits.</param>
    /// <param name="dataStart">Where in a slot's buffer the data begins: the room kept in front for the headers.</param>
    /// <param name="create">Makes one slot; called only here, once per slot.</param>
    public ReassemblySlots(StackOptions options, int dataStart, Func<TSlot> create)
    {
        _timeout = options.ReassemblyTimeout;
        _memoryLimit = options.ReassemblyMemoryLimit;
        _dataStart = dataStart;
        _slots = new TSlot[options.ReassemblySlots];
        for (int i = 0; i < _slots.Length; i++)
            _slots[i] = create();
    }

    /// <summary>Bytes of fragment data held now.</summary>
    public int MemoryUsed => _memoryUsed;

    /// <summary>Datagrams being reassembled now.</summary>
    public int Pending
    {
        get
        {
            int n = 0;
            foreach (TSlot s in _slots)
                n += s.InUse ? 1 : 0;
            return n;
        }
    }

    /// <summary>Whether <paramref name="length"/> more bytes of data stay within the memory limit.</summary>
    public bool Fits(int length) => _memoryUsed + length <= _memoryLimit;

    /// <summary>The slot holding <paramref name="key"/>'s datagram, or null.</summary>
    public TSlot? Find(in TKey key)
    {
        foreach (TSlot slot in _slots)
        {
            if (slot.InUse && slot.Key.Equals(key))
                return slot;
        }
        return null;
    }

    /// <summary>Starts a free slot for <paramref name="key"/>, or returns null when <paramref name="length"/> bytes would pass the memory limit or every slot is taken.</summary>
    public TSlot? Start(in TKey key, int length, TimeSpan now)
    {
        if (!Fits(length))
            return null;
        foreach (TSlot slot in _slots)
        {
            if (!slot.InUse)
            {
                slot.Start(key, now);
                return slot;
            }
        }
        return null;
    }

    /// <summary>Frees the first slot whose time ran out at <paramref name="now"/> and returns it (still readable until started again), or null.</summary>
    public TSlot? TakeExpired(TimeSpan now)
    {
        foreach (TSlot slot in _slots)
        {
            if (slot.InUse && now - slot.Started >= _timeout)
            {
                Release(slot);
                return slot;
            }
        }
        return null;
    }

    /// <summary>
    /// Copies <paramref name="data"/>, which covers [<paramref name="offset"/>, <paramref name="end"/>)
    /// of the datagram, into the slot's buffer and charges it; returns the buffer.
    /// </summary>
    public byte[] Store(TSlot slot, ReadOnlySpan<byte> data, int offset, int end)
    {
        byte[] buffer = slot.Buffer ??= new byte[_dataStart + MaxData];
        data[..(end - offset)].CopyTo(buffer.AsSpan(_dataStart + offset));
        slot.AddRange(offset, end);
        slot.Received += end - offset;
        _memoryUsed += end - offset;
        return buffer;
    }

    /// <summary>Frees the slot and what it charged; its buffer stays with it for reuse.</summary>
    public void Release(TSlot slot)
    {
        _memoryUsed -= slot.Received;
        slot.InUse = false;
    }
}
