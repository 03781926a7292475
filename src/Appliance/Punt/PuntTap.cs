using XdpStack.Appliance.Links;
using XdpStack.Stack;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Punt;

/// <summary>One punting interface: its NIC, its link and the kernel TAP twin with the same MAC, MTU and addresses.</summary>
internal sealed class PuntTap(int index, Nic nic, XdpNicLink link, TapDevice device)
{
    /// <summary>Its place in <see cref="ControlPlanePunt.Taps"/>, which the lanes' frames carry as their port.</summary>
    public int Index { get; } = index;

    public Nic Nic { get; } = nic;

    public XdpNicLink Link { get; } = link;

    public TapDevice Device { get; } = device;

    public PuntCounters Counters { get; } = new();

    /// <summary>The addresses on the TAP now; touched only by the thread that starts or reloads the appliance.</summary>
    public HashSet<(IpAddress Address, int PrefixLength)> Addresses { get; } = [];
}
