using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Tests.Metrics;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>
/// The control-plane punt (docs/punt.md) in the real process: the kernel of the appliance's namespace, through the TAP
/// twin of the interface toward host A, pings, talks TCP both ways and runs BGP with host A, while the appliance
/// answers and forwards as before.
/// </summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed partial class PuntProcessTests
{
    private const string Tap = "xs-a";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_PuntOn_KernelTwinPingsAndTalksTcpBothWays_ApplianceStillAnswersAndForwards_ReloadMovesTapAddresses_TapGoneAtStop()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab);
        string socket = Path.Combine(Path.GetTempPath(), $"xdpstack-punt-{lab.Tag}-{Guid.NewGuid():N}"[..40], "control.sock");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config, "--socket", socket);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains($"control plane punted to TAP {Tap}", router.StandardOutput);

        // The twin: the interface's MAC and MTU, its addresses, up.
        string link = lab.Dut.Ip("-br", "link", "show", "dev", Tap);
        Assert.Contains(RunLab.MacOf(lab.Dut, lab.DutAIf), link);
        Assert.Contains("UP", link);
        string addresses = lab.Dut.Ip("-br", "addr", "show", "dev", Tap);
        Assert.Contains(RunLab.RouterAIpv4 + "/24", addresses);
        Assert.Contains(RunLab.RouterAIpv6 + "/64", addresses);

        // The kernel resolves host A (its ARP out through the TAP, A's answer copied to it) and pings it, both families.
        RunProcessTests.Ping(lab.Dut, RunLab.HostAIpv4, "ttl=64");
        RunProcessTests.Ping(lab.Dut, RunLab.HostAIpv6, "ttl=64");
        Assert.Contains(RunLab.HostAIpv4, lab.Dut.Ip("neigh", "show", "dev", Tap));

        // TCP from a kernel socket in the appliance's namespace to A, and from A to a kernel listener on a port the
        // appliance does not serve.
        Assert.Equal("pong from A", TcpExchange(listenIn: lab.HostA, listenOn: RunLab.HostAIpv4, connectFrom: lab.Dut, port: 8179, "ping from the twin", "pong from A"));
        Assert.Equal("pong from the twin", TcpExchange(listenIn: lab.Dut, listenOn: RunLab.RouterAIpv4, connectFrom: lab.HostA, port: 179, "ping from A", "pong from the twin"));

        // The appliance itself, alongside: echo answered once (by the appliance; the twin never sees an echo
        // request), its UDP echo service, forwarding A → B.
        CommandResult own = lab.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", RunLab.RouterAIpv4);
        Assert.True(own.StandardOutput.Contains("3 received", StringComparison.Ordinal) && !own.StandardOutput.Contains("DUP", StringComparison.Ordinal), own.StandardOutput);
        Assert.Equal(50, RunProcessTests.Echo(lab.HostA, RunLab.HostAIpv4, RunLab.RouterAIpv4, 7, 50));
        RunProcessTests.Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");

        // Host A forgets the appliance and asks again: the appliance answers, the twin's answer to its copy is held back.
        lab.HostA.Ip("neigh", "flush", "dev", lab.HostAIf);
        RunProcessTests.Ping(lab.HostA, RunLab.RouterAIpv4, "ttl=64");

        // The counters moved: frames to the kernel and from it, and the kernel's ARP replies for 198.18.1.1 held back.
        using (HttpClient client = NamespaceHttp.Client(lab.Dut, "http://127.0.0.1:9469/"))
        {
            string metrics = NamespaceHttp.Get(client, "metrics");
            Assert.True(Counter(metrics, lab.DutAIf, "to_kernel") > 10, metrics);
            Assert.True(Counter(metrics, lab.DutAIf, "from_kernel") > 10, metrics);
            Assert.Equal(0, Counter(metrics, lab.DutBIf, "to_kernel"));
            Assert.True(Counter(metrics, lab.DutAIf, "suppressed") >= 1, metrics);
        }
        CommandResult stats = XdpstackProcess.Run(null, TimeSpan.FromSeconds(20), "stats", "--once", "--interval", "0.5", "--socket", socket);
        Assert.True(stats.ExitCode == 0 && stats.StandardOutput.Contains("PUNT", StringComparison.Ordinal)
            && Regex.IsMatch(stats.StandardOutput, $"(?m)^{Regex.Escape(lab.DutAIf)} +{Tap} "), stats.StandardOutput + stats.StandardError);

        // SIGHUP: the twin's addresses follow the interface's.
        WriteConfig(lab, path: config, addressesA: $"\"{RunLab.RouterAIpv4}/24\", \"198.18.3.1/24\"");
        router.Signal("HUP");
        router.WaitForOutput($"{Tap}: removed address {RunLab.RouterAIpv6}/64", TimeSpan.FromSeconds(10));
        router.WaitForOutput($"{Tap}: added address 198.18.3.1/24", TimeSpan.FromSeconds(10));
        string reloaded = lab.Dut.Ip("-br", "addr", "show", "dev", Tap);
        Assert.True(reloaded.Contains("198.18.3.1/24", StringComparison.Ordinal) && !reloaded.Contains(RunLab.RouterAIpv6, StringComparison.Ordinal), reloaded);

        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.NotEqual(0, lab.Dut.Run("ip", "link", "show", "dev", Tap).ExitCode);
    }

    [Fact]
    public void Run_KilledWithTapUp_NextStartHasItsTapAgain()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab);
        using (XdpstackProcess first = XdpstackProcess.Start(lab.Dut, "run", "-c", config))
        {
            first.WaitForOutput("xdpstack: ready", StartTimeout);
            first.Signal("KILL");
            first.WaitForExit(TimeSpan.FromSeconds(5));
        }
        // A stale TAP of the name, as a tool that made it persistent would leave it: replaced, not an error.
        lab.Dut.Ip("tuntap", "add", "dev", Tap, "mode", "tap");
        using XdpstackProcess second = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        second.WaitForOutput("xdpstack: ready", StartTimeout);
        RunProcessTests.Ping(lab.Dut, RunLab.HostAIpv4, "ttl=64");
        second.Signal("TERM");
        Assert.Equal(0, second.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.NotEqual(0, lab.Dut.Run("ip", "link", "show", "dev", Tap).ExitCode);
    }

    [Fact]
    public void Run_BirdInTheAppliancesNamespace_BgpWithHostAEstablishedThroughTheTap_RoutesInTheKernelTable_DriveTheFastPath()
    {
        Assert.True(Shell.Exists("bird") && Shell.Exists("birdc"), "bird2 is not installed (.ci/setup installs it)");
        using var lab = new RunLab();
        // Host A answers for an address inside what it announces; only the BGP route leads the appliance there.
        lab.HostA.Ip("addr", "add", "198.19.1.1/32", "dev", "lo");
        string config = WriteConfig(lab, kernelRoutes: true);
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);

        using BirdDaemon dut = BirdDaemon.Start(lab.Dut, $$"""
            router id {{RunLab.RouterAIpv4}};
            protocol device { scan time 1; }
            protocol kernel { ipv4 { import none; export all; }; }
            protocol bgp hosta {
                local {{RunLab.RouterAIpv4}} as 65001;
                neighbor {{RunLab.HostAIpv4}} as 65002;
                connect retry time 1;
                ipv4 { import all; export none; };
            }
            """);
        using BirdDaemon hostA = BirdDaemon.Start(lab.HostA, $$"""
            router id {{RunLab.HostAIpv4}};
            protocol device { scan time 1; }
            protocol static announced {
                ipv4;
                route 198.19.1.0/24 blackhole;
                route 198.19.2.0/24 blackhole;
                route 198.19.128.0/17 blackhole;
            }
            protocol bgp dut {
                local {{RunLab.HostAIpv4}} as 65002;
                neighbor {{RunLab.RouterAIpv4}} as 65001;
                connect retry time 1;
                ipv4 { import none; export all; };
            }
            """);

        Assert.True(dut.WaitEstablished("hosta", TimeSpan.FromSeconds(60), out string state),
            $"{state}{dut.Output}\nhost A: {hostA.Ask("show", "protocols", "all", "dut")}{hostA.Output}\nxdpstack: {router.StandardOutput}{router.StandardError}");
        string routes = "";
        for (int i = 0; i < 40 && !(routes.Contains("198.19.1.0/24") && routes.Contains("198.19.2.0/24") && routes.Contains("198.19.128.0/17")); i++)
        {
            Thread.Sleep(250);
            routes = lab.Dut.Ip("route", "show", "proto", "bird");
        }
        foreach (string prefix in (string[])["198.19.1.0/24", "198.19.2.0/24", "198.19.128.0/17"])
            Assert.Contains($"{prefix} via {RunLab.HostAIpv4} dev {Tap}", routes);

        // The appliance's own work goes on beside the session, and the kernel FIB sync takes BIRD's routes through the
        // TAP as routes out of its NIC: host B reaches 198.19.1.1 behind host A through the appliance.
        RunProcessTests.Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");
        CommandResult viaBgp = default!;
        for (int i = 0; i < 20; i++)
        {
            viaBgp = lab.HostB.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "1", "198.19.1.1");
            if (viaBgp.ExitCode == 0)
                break;
            Thread.Sleep(250);
        }
        Assert.True(viaBgp.ExitCode == 0 && viaBgp.StandardOutput.Contains("ttl=63", StringComparison.Ordinal),
            $"{viaBgp.StandardOutput}{viaBgp.StandardError}\n{router.StandardOutput}{router.StandardError}");
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Run_BirdOspfThroughTheTap_NeighbourFullOverMulticastHellos_ExternalRouteInTheKernelTable()
    {
        Assert.True(Shell.Exists("bird") && Shell.Exists("birdc"), "bird2 is not installed (.ci/setup installs it)");
        using var lab = new RunLab();
        string config = WriteConfig(lab);
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);

        // Hellos go to 224.0.0.5 (copied to the TAP on arrival), database exchange to the peer's unicast address
        // (IP protocol 89, which the stack does not speak: punted).
        using BirdDaemon dut = BirdDaemon.Start(lab.Dut, $$"""
            router id {{RunLab.RouterAIpv4}};
            protocol device { scan time 1; }
            protocol kernel { ipv4 { import none; export all; }; }
            protocol ospf v2 backbone {
                ipv4 { import all; export none; };
                area 0 { interface "{{Tap}}" { type broadcast; hello 1; dead 4; wait 2; }; };
            }
            """);
        using BirdDaemon hostA = BirdDaemon.Start(lab.HostA, $$"""
            router id {{RunLab.HostAIpv4}};
            protocol device { scan time 1; }
            protocol static announced { ipv4; route 198.19.200.0/24 blackhole; }
            protocol ospf v2 backbone {
                ipv4 { import none; export where source = RTS_STATIC; };
                area 0 { interface "{{lab.HostAIf}}" { type broadcast; hello 1; dead 4; wait 2; }; };
            }
            """);

        string routes = "", neighbours = "";
        for (int i = 0; i < 120 && !routes.Contains("198.19.200.0/24", StringComparison.Ordinal); i++)
        {
            Thread.Sleep(250);
            routes = lab.Dut.Ip("route", "show", "proto", "bird");
        }
        neighbours = dut.Ask("show", "ospf", "neighbors", "backbone");
        Assert.True(neighbours.Contains("Full", StringComparison.Ordinal), $"{neighbours}{dut.Output}\nhost A: {hostA.Ask("show", "ospf", "neighbors", "backbone")}{hostA.Output}");
        Assert.Contains($"198.19.200.0/24 via {RunLab.HostAIpv4} dev {Tap}", routes);

        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    /// <summary>One TCP connection: the connector sends <paramref name="request"/>, the listener answers <paramref name="reply"/>; returns what the connector read.</summary>
    private static string TcpExchange(NetNamespace listenIn, string listenOn, NetNamespace connectFrom, int port, string request, string reply)
    {
        using TcpListener listener = NamespaceThread.Run(listenIn, () =>
        {
            var l = new TcpListener(IPAddress.Parse(listenOn), port);
            l.Start();
            return l;
        });
        Task<string> served = Task.Run(() =>
        {
            using TcpClient peer = listener.AcceptTcpClient();
            NetworkStream stream = peer.GetStream();
            string got = ReadLine(stream);
            stream.Write(Encoding.ASCII.GetBytes(reply + "\n"));
            return got;
        });
        using Socket client = NamespaceThread.Run(connectFrom, () => new Socket(SocketType.Stream, ProtocolType.Tcp));
        client.ReceiveTimeout = 10_000;
        client.SendTimeout = 10_000;
        client.Connect(IPAddress.Parse(listenOn), port);
        using var stream = new NetworkStream(client);
        stream.Write(Encoding.ASCII.GetBytes(request + "\n"));
        string answer = ReadLine(stream);
        Assert.True(served.Wait(TimeSpan.FromSeconds(10)), "the listener did not finish");
        Assert.Equal(request, served.Result);
        return answer;
    }

    private static string ReadLine(NetworkStream stream)
    {
        var bytes = new List<byte>();
        int b;
        while ((b = stream.ReadByte()) >= 0 && b != '\n')
            bytes.Add((byte)b);
        return Encoding.ASCII.GetString([.. bytes]);
    }

    private static double Counter(string metrics, string device, string direction)
    {
        Match m = Regex.Match(metrics, $"xdpstack_punt_frames_total\\{{device=\"{Regex.Escape(device)}\",direction=\"{direction}\"\\}} (\\S+)");
        Assert.True(m.Success, $"no xdpstack_punt_frames_total for {device} {direction}");
        return double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string WriteConfig(RunLab lab, string? path = null, string? addressesA = null, bool kernelRoutes = false)
    {
        path ??= Path.Combine(Path.GetTempPath(), $"xdpstack-{lab.Tag}-{Guid.NewGuid():N}.toml");
        addressesA ??= $"\"{RunLab.RouterAIpv4}/24\", \"{RunLab.RouterAIpv6}/64\"";
        File.WriteAllText(path, $"""
            # Written by PuntProcessTests: host A — xdpstack (punting A's side to {Tap}) — host B.
            [workers]
            cores = [{Environment.ProcessorCount - 1}]

            [xdp]
            frames_per_worker = 8192
            fill_ring = 2048
            lpm_huge_pages = false

            [[interface]]
            name = "{lab.DutAIf}"
            addresses = [{addressesA}]
            punt = true
            punt_tap = "{Tap}"

            [[interface]]
            name = "{lab.DutBIf}"
            addresses = ["{RunLab.RouterBIpv4}/24", "{RunLab.RouterBIpv6}/64"]

            [[service]]
            kind = "udp-echo"
            port = 7

            [kernel_routes]
            sync = {(kernelRoutes ? "true" : "false")}
            """);
        return path;
    }
}
