using XdpStack.Appliance.Punt;
using XdpStack.Appliance.Routing;
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

    private ApplianceHost(NetworkStack stack, DataPlane plane, StackPlan plan, UdpProtocol udp, TcpProtocol tcp, RouteRegistry routes, NicIndexMap nicIndexes,
        ControlPlanePunt? punt)
    {
        Punt = punt;
        Stack = stack;
        Routes = routes;
        NicIndexes = nicIndexes;
        Plane = plane;
        Plan = plan;
        Udp = udp;
        Tcp = tcp;
    }

    public NetworkStack Stack { get; }

    public DataPlane Plane { get; }

    public UdpProtocol Udp { get; }

    public TcpProtocol Tcp { get; }

    /// <summary>The one writer of the stack's routes: the plan's and the kernel's.</summary>
    public RouteRegistry Routes { get; }

    /// <summary>Kernel ifindex to NIC, filled with the owned interfaces at start; register more (a NIC's TAP) here.</summary>
    public NicIndexMap NicIndexes { get; }

    /// <summary>The kernel route sync, when one runs (<see cref="StartKernelRouteSync"/>).</summary>
    public KernelRouteSync? KernelRoutes { get; private set; }

    /// <summary>The kernel TAP twins of the interfaces that punt their control plane, or null when none does.</summary>
    public ControlPlanePunt? Punt { get; }

    /// <summary>The plan the stack runs now.</summary>
    public StackPlan Plan { get; private set; }

    /// <summary>Builds the stack, opens the data plane, applies <paramref name="plan"/>, then starts the workers and attaches the programs.</summary>
    public static ApplianceHost Start(DataPlaneSettings settings, StackPlan plan, Action<string> report)
    {
        int workers = DataPlane.CountWorkers(settings);
        var stack = new NetworkStack(new StackOptions { Workers = workers, MultipathHashPolicy = plan.MultipathHash });
        UdpProtocol udp = UdpProtocol.Install(stack);
        TcpProtocol tcp = TcpProtocol.Install(stack);
        stack.Ipv4Forwarder = new Ipv4Forwarder();
        stack.Ipv6Forwarder = new Ipv6Forwarder();
        DataPlane plane = DataPlane.Open(stack, settings, report);
        var routes = new RouteRegistry(stack);
        var nicIndexes = new NicIndexMap();
        ControlPlanePunt? punt = null;
        try
        {
            for (int d = 0; d < plane.Devices.Count; d++)
                nicIndexes.Register(plane.Devices[d].IfIndex, plane.Links[d].NicId);
            plan.Apply(stack, routes);
            // Before the workers start: they take their punt lanes with them.
            punt = ControlPlanePunt.Start(plane, plan.Addresses, report);
            // Routes daemons install through a TAP lead out of its NIC.
            if (punt is not null)
            {
                foreach ((int ifIndex, NicId nic) in punt.TapIfIndexes)
                    nicIndexes.Register(ifIndex, nic);
            }
            plane.Start(report);
        }
        catch
        {
            punt?.Dispose();
            plane.Dispose();
            throw;
        }
        return new ApplianceHost(stack, plane, plan, udp, tcp, routes, nicIndexes, punt);
    }

    /// <summary>Starts mirroring the kernel routing table <paramref name="config"/> names; its routes are in the table when this returns.</summary>
    /// <remarks>Call once, from a thread in the interfaces' network namespace. <see cref="Dispose"/> stops it before the data plane closes.</remarks>
    public KernelRouteSync StartKernelRouteSync(Config.KernelRoutesConfig config, Action<string> report)
    {
        if (KernelRoutes is not null)
            throw new InvalidOperationException("the kernel route sync is already running");
        KernelRoutes = KernelRouteSync.Start(Routes, NicIndexes, config, report);
        return KernelRoutes;
    }

    /// <summary>Moves the stack to <paramref name="next"/>; returns one line per change. Serialised with other reloads.</summary>
    public IReadOnlyList<string> Reload(StackPlan next)
    {
        lock (_reloadGate)
        {
            IReadOnlyList<string> changes = next.ApplyChanges(Stack, Plan, Routes);
            Plan = next;
            // The kernel twins follow their interfaces' addresses.
            if (Punt is not null)
                changes = [.. changes, .. Punt.SyncAddresses(next.Addresses)];
            return changes;
        }
    }

    public void Dispose()
    {
        KernelRoutes?.Dispose();
        // The punt thread before the data plane: it queues into the workers' control hand-offs.
        Punt?.Dispose();
        Plane.Dispose();
    }
}
