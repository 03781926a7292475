using XdpStack.Appliance.Punt;
using XdpStack.Stack;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Udp;

namespace XdpStack.Appliance.Run;

/// <summary>The running appliance: the stack with its forwarders and UDP, the data plane under it, and the plan it runs.</summary>
/// <remarks>
/// Start it from a thread inside the interfaces' network namespace. NIC ids follow the order of
/// <see cref="DataPlaneSettings.Interfaces"/>: the first interface is NIC 1. Reloads (<see cref="Reload"/>) change only
/// the stack's configuration; workers, sockets and programs stay as they are.
/// </remarks>
internal sealed class ApplianceHost : IDisposable
{
    private readonly Lock _reloadGate = new();

    private ApplianceHost(NetworkStack stack, DataPlane plane, StackPlan plan, UdpProtocol udp, TcpProtocol tcp, ControlPlanePunt? punt)
    {
        Punt = punt;
        Stack = stack;
        Plane = plane;
        Plan = plan;
        Udp = udp;
        Tcp = tcp;
    }

    public NetworkStack Stack { get; }

    public DataPlane Plane { get; }

    public UdpProtocol Udp { get; }

    public TcpProtocol Tcp { get; }

    /// <summary>The kernel TAP twins of the interfaces that punt their control plane, or null when none does.</summary>
    public ControlPlanePunt? Punt { get; }

    /// <summary>The plan the stack runs now.</summary>
    public StackPlan Plan { get; private set; }

    /// <summary>Builds the stack, opens the data plane, applies <paramref name="plan"/>, then starts the workers and attaches the programs.</summary>
    public static ApplianceHost Start(DataPlaneSettings settings, StackPlan plan, Action<string> report)
    {
        int workers = DataPlane.CountWorkers(settings);
        var stack = new NetworkStack(new StackOptions { Workers = workers });
        UdpProtocol udp = UdpProtocol.Install(stack);
        TcpProtocol tcp = TcpProtocol.Install(stack);
        stack.Ipv4Forwarder = new Ipv4Forwarder();
        stack.Ipv6Forwarder = new Ipv6Forwarder();
        DataPlane plane = DataPlane.Open(stack, settings, report);
        ControlPlanePunt? punt = null;
        try
        {
            plan.Apply(stack);
            // Before the workers start: they take their punt lanes with them.
            punt = ControlPlanePunt.Start(plane, plan.Addresses, report);
            plane.Start(report);
        }
        catch
        {
            punt?.Dispose();
            plane.Dispose();
            throw;
        }
        return new ApplianceHost(stack, plane, plan, udp, tcp, punt);
    }

    /// <summary>Moves the stack to <paramref name="next"/>; returns one line per change. Serialised with other reloads.</summary>
    public IReadOnlyList<string> Reload(StackPlan next)
    {
        lock (_reloadGate)
        {
            IReadOnlyList<string> changes = next.ApplyChanges(Stack, Plan);
            Plan = next;
            // The kernel twins follow their interfaces' addresses.
            if (Punt is not null)
                changes = [.. changes, .. Punt.SyncAddresses(next.Addresses)];
            return changes;
        }
    }

    public void Dispose()
    {
        // The punt thread first: it queues into the workers' control hand-offs, which go with the data plane.
        Punt?.Dispose();
        Plane.Dispose();
    }
}
