using System.Diagnostics;

namespace XdpStack.Stack;

/// <summary>One address assigned to a NIC, with the seed's lifecycle: a kind, a primary behaviour, and a reference count held by long-lived users such as routes.</summary>
/// <remarks>
/// <para>
/// The reference count follows gVisor's <c>refs_template</c>: real references in the low 32 bits,
/// speculative ones in the high 32. <see cref="TryIncRef"/> adds a speculative reference with one
/// atomic add; if the real count was already zero the endpoint is dead and the attempt backs
/// out, otherwise the speculative reference becomes a real one. No CAS loop. Removal starts only
/// when the whole count, speculative part included, reaches zero, so once it starts every later
/// <see cref="TryIncRef"/> fails. The receive path takes no reference: it reads the
/// published address snapshot and checks <see cref="Kind"/> (gVisor 52fc5b60f).
/// </para>
/// <para>
/// When the count reaches zero the endpoint asks its NIC to remove it; the NIC removes it only if
/// the map still holds this very object, so a zero-count zombie never removes an address that
/// was re-added in the meantime (gVisor 7bf1d426d).
/// </para>
/// </remarks>
public sealed class AddressEndpoint
{
    private const long SpeculativeRef = 1L << 32;

    private readonly Nic _nic;

    // Low 32 bits: real references; high 32 bits: speculative references in flight.
    private long _refs;

    // An AddressKind; written under the NIC's control lock, read anywhere.
    private int _kind;

    internal AddressEndpoint(Nic nic, AddressWithPrefix address, PrimaryEndpointBehavior behavior, AddressKind kind)
    {
        _nic = nic;
        AddressWithPrefix = address;
        Behavior = behavior;
        _kind = (int)kind;
        _refs = 1;
    }

    public AddressWithPrefix AddressWithPrefix { get; }

    public IpAddress Address => AddressWithPrefix.Address;

    public int PrefixLength => AddressWithPrefix.PrefixLength;

    public NicId NicId => _nic.Id;

    public AddressKind Kind => (AddressKind)Volatile.Read(ref _kind);

    /// <summary>Written only under the NIC's control lock, when the address is added or promoted.</summary>
    public PrimaryEndpointBehavior Behavior { get; internal set; }

    /// <summary>Real references held now (the biased one of a permanent address included).</summary>
    public int ReferenceCount => (int)Volatile.Read(ref _refs);

    /// <summary>True once the last reference is gone; the endpoint is then out of its NIC for good.</summary>
    public bool IsDead => ReferenceCount == 0;

    /// <summary>May receive: not expired, or the NIC is promiscuous.</summary>
    public bool IsValidForIncoming => Kind != AddressKind.PermanentExpired || _nic.Promiscuous;

    /// <summary>May be a source address: not expired, or the NIC is spoofing.</summary>
    public bool IsValidForOutgoing => Kind != AddressKind.PermanentExpired || _nic.Spoofing;

    internal Nic Nic => _nic;

    internal void SetKind(AddressKind kind) => Volatile.Write(ref _kind, (int)kind);

    /// <summary>Takes a reference unless the count already reached zero; never revives an endpoint whose removal began.</summary>
    public bool TryIncRef()
    {
        if ((int)Interlocked.Add(ref _refs, SpeculativeRef) == 0)
        {
            Interlocked.Add(ref _refs, -SpeculativeRef);
            return false;
        }
        Interlocked.Add(ref _refs, 1 - SpeculativeRef);
        return true;
    }

    /// <summary>Takes a reference; the caller must already hold one.</summary>
    public void IncRef()
    {
        long v = Interlocked.Increment(ref _refs);
        Debug.Assert((int)v > 1, "IncRef on an endpoint the caller did not hold");
    }

    /// <summary>Drops a reference; the last one removes the endpoint from its NIC.</summary>
    public void DecRef()
    {
        long v = Interlocked.Decrement(ref _refs);
        if ((int)v < 0)
            throw new InvalidOperationException($"reference count of {AddressWithPrefix} went below zero");
        // A speculative reference in flight keeps v above zero: that TryIncRef saw a live count
        // and will turn into a real reference, so the endpoint is not dead yet.
        if (v == 0)
            _nic.RemoveEndpointIfCurrent(this);
    }

    /// <summary>DecRef for callers that already hold the NIC's control lock.</summary>
    internal void DecRefLocked()
    {
        long v = Interlocked.Decrement(ref _refs);
        if ((int)v < 0)
            throw new InvalidOperationException($"reference count of {AddressWithPrefix} went below zero");
        if (v == 0)
            _nic.RemoveEndpointIfCurrentLocked(this);
    }

    public override string ToString() => $"{AddressWithPrefix} ({Kind}, refs {ReferenceCount})";
}
