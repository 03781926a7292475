using XdpStack.Stack;

namespace XdpStack.Appliance.Routing;

/// <summary>Which stack NIC a kernel interface index stands for, so that kernel routes through an interface become stack routes through its NIC.</summary>
/// <remarks>
/// <para>
/// The runner registers each owned interface's ifindex for its NIC. Other interfaces may stand for a NIC too: the
/// control-plane punt gives each owned NIC a TAP interface, and a routing daemon that learns a route over the TAP
/// installs it through the TAP's ifindex; <see cref="Register"/> that ifindex for the NIC and such routes forward
/// through the NIC. A kernel route whose interfaces are all unregistered is ignored (and counted).
/// </para>
/// <para>
/// Threading: any thread may register or unregister at any time, under a private lock. Each change bumps
/// <see cref="Version"/>; the kernel route sync compares it once per wake-up and re-maps every route when it moved,
/// so a registration made after the sync started applies to routes already mirrored.
/// </para>
/// </remarks>
internal sealed class NicIndexMap
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, NicId> _nics = [];
    private long _version;

    /// <summary>Bumped by every change; compare it to learn that the map changed.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>Makes routes through kernel interface <paramref name="ifIndex"/> routes through <paramref name="nic"/>; replaces an earlier registration of that ifindex.</summary>
    public void Register(int ifIndex, NicId nic)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifIndex);
        lock (_gate)
        {
            _nics[ifIndex] = nic;
            _version++;
        }
    }

    /// <summary>Forgets <paramref name="ifIndex"/> (a TAP that went away); false when it was not registered.</summary>
    public bool Unregister(int ifIndex)
    {
        lock (_gate)
        {
            if (!_nics.Remove(ifIndex))
                return false;
            _version++;
            return true;
        }
    }

    /// <summary>The NIC registered for <paramref name="ifIndex"/>, if any.</summary>
    public bool TryGetNic(int ifIndex, out NicId nic)
    {
        lock (_gate)
            return _nics.TryGetValue(ifIndex, out nic);
    }
}
