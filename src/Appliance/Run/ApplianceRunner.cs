using System.Net;
using System.Runtime;
using System.Runtime.InteropServices;
using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Config;
using XdpStack.Appliance.Metrics;
using XdpStack.Appliance.Control;
using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Transport.Udp;

namespace XdpStack.Appliance.Run;

/// <summary>Runs the appliance on a validated config until cancelled; returns the exit code.</summary>
/// <remarks>
/// Start-up prints one line per fact an operator wants (modes obtained per queue, programs attached) and then
/// exactly one "ready" line once every worker is serving its queues, and tells systemd (READY=1 to
/// <c>$NOTIFY_SOCKET</c>) at the same moment. SIGHUP re-reads the file: a file that no longer loads, or a change that
/// needs a restart (interfaces, queues, workers, the [xdp] section), is reported and the running config kept;
/// otherwise addresses, routes, neighbours, forwarding and services move to the new file without touching workers,
/// sockets or programs. Cancellation (SIGINT, SIGTERM) stops the workers, detaches the programs and closes the sockets.
/// The metrics listener (<c>[management] listen</c>) binds before anything else, and its scrapes stop reading the data
/// plane before the data plane closes.
/// The control socket (<see cref="ControlServer"/>) is bound before any interface is touched, serves from the ready
/// line on, and is closed and removed first at the stop.
/// </remarks>
internal static class ApplianceRunner
{
    public static int Run(ApplianceConfig config, string controlSocket, CancellationToken cancellationToken) =>
        Run(config, controlSocket, cancellationToken, Console.Out, Console.Error);

    public static int Run(ApplianceConfig config, string controlSocket, CancellationToken cancellationToken, TextWriter output, TextWriter error)
    {
        DataPlaneSettings settings = ToSettings(config);
        int workers = DataPlane.CountWorkers(settings);
        string? missing = Capabilities.Missing(Capabilities.Effective(), Capabilities.MemlockLimit(), DataPlane.UmemBytes(settings, workers));
        if (missing is not null)
            throw new ApplianceException(missing);

        using var reload = new SemaphoreSlim(0);
        using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
        {
            ctx.Cancel = true;
            reload.Release();
        });

        void Say(string line)
        {
            lock (output)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }

        // The listener binds before any interface is touched, so an address in use stops the start cleanly.
        var metrics = new ApplianceMetrics(MetricCatalog.All);
        var reloads = new ConfigReloadCounters();
        using IDisposable processMetrics = metrics.Attach(new ProcessMetricsSource("run", reloads));
        using MetricsListener? listener = config.Management.Listen is IPEndPoint endpoint
            ? MetricsListener.Start(endpoint, metrics, "[management] listen", settings.Cores ?? [])
            : null;

        using ControlServer control = ControlServer.Bind(controlSocket);
        using ApplianceHost host = ApplianceHost.Start(settings, ToPlan(config), Say);
        // Declared after the host, so it is detached (waiting out a scrape in progress) before the host unmaps its rings.
        using IDisposable planeMetrics = metrics.Attach(new RunMetricsSource(host.Plane, host.Punt));
        using LinkMonitor links = LinkMonitor.Start(host.Plane, Say);
        ApplyServices(host, [], config.Services, Say);
        // Detached before the host (and with it the sync) goes, as the plane's metrics are.
        using IDisposable? kernelRouteMetrics = config.KernelRoutes.Sync
            ? metrics.Attach(new KernelRouteMetricsSource(host.StartKernelRouteSync(config.KernelRoutes, Say)))
            : null;
        Say(listener is null
            ? "xdpstack: metrics: off ([management] listen = \"\")"
            : $"xdpstack: metrics on http://{MetricsListener.Format(listener.Endpoint)}/metrics");
        control.Serve(new ApplianceView(host));
        Say($"xdpstack: control socket {control.Path}");
        // Every interface, socket, program and listener is set up: from here on nothing needs root.
        if (config.Management.User is { } user)
        {
            SystemdNotify.Connect();
            control.HandTo(user);
            Say(PrivilegeDrop.Apply(user));
        }
        else
        {
            Say("xdpstack: [management] user = \"\": staying root with every capability");
        }
        // Set-up leaves garbage behind (the config's trees, the first route tables and LPM builds, large arrays among
        // them). Collected now, compacted, large objects included, it is gone before traffic; left, it would wait for a
        // full collection in steady state, paid for by whatever control-plane allocation filled the budget.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        Say($"xdpstack: ready: {host.Plane.Workers.Count} worker(s) forwarding and answering on {string.Join(", ", config.Interfaces.Select(i => i.Name))}");
        SystemdNotify.Send("READY=1");

        ApplianceConfig running = config;
        WaitHandle[] handles = [cancellationToken.WaitHandle, reload.AvailableWaitHandle];
        while (!cancellationToken.IsCancellationRequested)
        {
            if (WaitHandle.WaitAny(handles) == 0)
                break;
            reload.Wait(0, CancellationToken.None);
            ApplianceConfig next = Reload(host, running, Say, error);
            reloads.Record(applied: !ReferenceEquals(next, running));
            running = next;
        }
        SystemdNotify.Send("STOPPING=1");
        Say("xdpstack: stopping");
        // Before the host goes: no request may read a socket or a worker that is being closed.
        control.Dispose();
        // The operator's (and the soak's) proof that no frame leaked: each worker's UMEM, counted once it stopped.
        IReadOnlyList<FrameAccount> accounts = host.Plane.StopAndAccount();
        for (int i = 0; i < accounts.Count; i++)
        {
            FrameAccount account = accounts[i];
            Say(account.Balanced
                ? $"xdpstack: worker {i} UMEM at stop: {account}: every frame accounted for"
                : $"xdpstack: worker {i} UMEM at stop: {account}: {account.Missing} frame(s) unaccounted for");
        }
        return 0;
    }

    /// <summary>The data plane's view of the config.</summary>
    public static DataPlaneSettings ToSettings(ApplianceConfig config)
    {
        XdpConfig x = config.Xdp;
        var settings = new DataPlaneSettings([.. config.Interfaces.Where(i => i.Vlan is null).Select(i => new DataPlaneInterface(i.Name, i.Queues.IsAll ? null : [.. i.Queues.Indexes]) { PuntTap = i.PuntTap })])
        {
            Vlans = [.. config.Interfaces.Where(i => i.Vlan is not null).Select(i => new DataPlaneVlan(i.Name, i.Vlan!.Parent, (ushort)i.Vlan.Id, i.Mtu) { PuntTap = i.PuntTap })],
            Batch = config.Workers.Batch,
            WorkerNice = config.Workers.Nice,
            CopyMode = x.Mode,
            AttachMode = x.Attach,
            BusyPoll = x.BusyPoll,
            ReplaceProgram = x.ReplaceProgram,
            RxRingSize = x.RxRing,
            TxRingSize = x.TxRing,
            FillRingSize = x.FillRing,
            CompletionRingSize = x.CompletionRing,
            FrameSize = x.FrameSize,
            FramesPerWorker = x.FramesPerWorker,
            UmemHugePages = x.UmemHugePages,
            LpmHugePages = x.LpmHugePages,
        };
        // The config pins the worker of queue q to cores[q]; the data plane numbers workers by the queues in use.
        return config.Workers.IsPinned
            ? settings with { Cores = [.. DataPlane.WorkerQueues(settings).Select(q => config.Workers.Cores[q])] }
            : settings;
    }

    /// <summary>The stack's view of the config: NIC n is the n-th interface ([[vlan]]s last, as the data plane numbers them), every address brings its connected route.</summary>
    public static StackPlan ToPlan(ApplianceConfig config)
    {
        var nicOf = new Dictionary<string, NicId>(StringComparer.Ordinal);
        for (int i = 0; i < config.Interfaces.Length; i++)
            nicOf[config.Interfaces[i].Name] = new NicId(i + 1);
        PlannedAddress[] addresses =
        [
            .. config.Interfaces.SelectMany(i => i.Addresses.Select(a => new PlannedAddress(nicOf[i.Name], a.Address, a.PrefixLength))),
        ];
        var ipv4 = StackPlan.ConnectedIpv4(addresses).ToList();
        var ipv6 = StackPlan.ConnectedIpv6(addresses).ToList();
        foreach (RouteConfig r in config.Routes)
        {
            int nic = nicOf[r.Interface].Value;
            if (r.Destination.IsIpv4)
                ipv4.Add(new Ipv4Route(r.Destination.V4, r.Gateway?.V4 ?? Stack.Wire.Ipv4Address.Any, nic, r.Metric, r.Weight));
            else
                ipv6.Add(new Ipv6Route(r.Destination.V6, r.Gateway?.V6 ?? Stack.Wire.Ipv6Address.Any, nic, r.Metric, r.Weight));
        }
        return new StackPlan(
            addresses,
            [.. ipv4.Distinct()],
            [.. ipv6.Distinct()],
            [.. config.Neighbors.Select(n => new PlannedNeighbor(nicOf[n.Interface], n.Address, n.Mac))],
            [.. config.Interfaces.Select(i => new PlannedForwarding(nicOf[i.Name], i.Forwarding.Ipv4, i.Forwarding.Ipv6))],
            config.MultipathHash);
    }

    /// <summary>Reloads from <paramref name="running"/>'s file; returns the config now running: a new one when applied, <paramref name="running"/> itself when refused.</summary>
    private static ApplianceConfig Reload(ApplianceHost host, ApplianceConfig running, Action<string> say, TextWriter error)
    {
        string path = running.SourcePath;
        if (!ConfigLoader.TryLoad(path, LiveHostFacts.Instance, out ApplianceConfig? next, out IReadOnlyList<ConfigError> errors))
        {
            lock (error)
            {
                error.WriteLine($"xdpstack: reload of {path} failed; the running configuration stays:");
                foreach (ConfigError e in errors)
                    error.WriteLine(e.ToString());
                error.Flush();
            }
            return running;
        }
        ConfigDiff diff = ConfigDiff.Compare(running, next);
        if (diff.NeedsRestart)
        {
            lock (error)
            {
                error.WriteLine($"xdpstack: reload of {path} refused, the running configuration stays: these changes need a restart: {string.Join("; ", diff.RestartReasons)}");
                error.Flush();
            }
            return running;
        }
        IReadOnlyList<string> changes = host.Reload(ToPlan(next));
        int services = ApplyServices(host, running.Services, next.Services, say);
        say($"xdpstack: reloaded {path}: {changes.Count + services} change(s)");
        foreach (string change in changes)
            say("  " + change);
        return next;
    }

    /// <summary>Moves the UDP and TCP services from <paramref name="running"/> to <paramref name="next"/>; returns how many changed.</summary>
    private static int ApplyServices(ApplianceHost host, IReadOnlyList<ServiceConfig> running, IReadOnlyList<ServiceConfig> next, Action<string> say)
    {
        int changed = 0;
        foreach (ServiceConfig s in running.Except(next))
        {
            if (s.Kind.Protocol() == Stack.Wire.IpProtocol.Tcp)
                host.Tcp.RemoveService(TcpServiceOf(s));
            else
                host.Udp.RemoveService(KindOf(s), (ushort)s.Port, s.Address);
            say($"  removed service {s}");
            changed++;
        }
        foreach (ServiceConfig s in next.Except(running))
        {
            StackError result = s.Kind.Protocol() == Stack.Wire.IpProtocol.Tcp
                ? host.Tcp.AddService(TcpServiceOf(s))
                : host.Udp.AddService(KindOf(s), (ushort)s.Port, s.Address);
            if (result != StackError.None)
                throw new ApplianceException($"service {s}: the stack refused it: {result}");
            say($"  service {s}");
            changed++;
        }
        return changed;
    }

    private static TcpService TcpServiceOf(ServiceConfig service) => new(
        service.Kind switch
        {
            ServiceKind.Http => TcpServiceKind.Http,
            ServiceKind.TcpEcho => TcpServiceKind.Echo,
            ServiceKind.TcpDiscard => TcpServiceKind.Discard,
            _ => throw new ApplianceException($"service kind {service.Kind.Name()} is not a TCP service"),
        },
        (ushort)service.Port,
        service.Address,
        service.Http,
        service.Backlog,
        service.SynCookies,
        service.KeepAlive,
        service.CongestionControl);

    private static UdpServiceKind KindOf(ServiceConfig service) => service.Kind switch
    {
        ServiceKind.UdpEcho => UdpServiceKind.Echo,
        ServiceKind.UdpDiscard => UdpServiceKind.Discard,
        _ => throw new ApplianceException($"service kind {service.Kind.Name()} is not served yet"),
    };
}
