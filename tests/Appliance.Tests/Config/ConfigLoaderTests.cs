using System.Net;
using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Config;
using XdpStack.Stack;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Tests.Config;

public sealed class ConfigLoaderTests
{
    // Every key of the format, each set to something other than its default.
    internal const string FullFile = """
        [workers]
        cores = [3, 2]
        batch = 128
        nice = 0

        [xdp]
        mode = "zero-copy"
        attach = "native"
        busy_poll = true
        replace_program = true
        rx_ring = 4096
        tx_ring = 1024
        fill_ring = 8192
        completion_ring = 512
        frame_size = 2048
        frames_per_worker = 32768
        umem_huge_pages = true
        lpm_huge_pages = false

        [forwarding]
        ipv4 = false
        ipv6 = true

        [[interface]]
        name = "eth1"
        queues = [1, 0]
        addresses = ["198.18.0.1/24", "2001:2:0:1::1/64"]
        mac = "02:00:00:00:00:01"
        mtu = 1500
        forwarding = { ipv4 = true }

        [[interface]]
        name = "eth2"
        queues = "0-1"
        addresses = ["198.18.1.1/30"]

        [[route]]
        prefix = "198.19.0.0/16"
        via = "198.18.1.2"
        metric = 10

        [[route]]
        prefix = "2001:2:0:100::/56"
        via = "2001:2:0:1::2"
        interface = "eth1"

        [[route]]
        prefix = "198.18.200.0/24"
        interface = "eth2"

        [[neighbor]]
        interface = "eth2"
        address = "198.18.1.2"
        mac = "02:00:00:00:02:02"

        [[service]]
        kind = "udp-echo"
        port = 7
        address = "2001:2:0:1::1"

        [[service]]
        kind = "udp-discard"
        port = 9

        [[service]]
        kind = "http"
        port = 80
        status = 404
        body_bytes = 13
        headers = ["Content-Type: text/plain", "Cache-Control: no-store"]
        keepalive_timeout = 300
        client_header_timeout = 10
        client_body_timeout = 20
        send_timeout = 0

        [[service]]
        kind = "tcp-echo"
        port = 7
        backlog = 128
        syn_cookies = "always"
        keepalive_idle = 600
        keepalive_interval = 30

        [[service]]
        kind = "tcp-discard"
        port = 9
        address = "198.18.0.1"

        [management]
        listen = "[::1]:9469"
        """;

    [Fact]
    public void TryParse_EveryKeySet_ModelHoldsEveryValue()
    {
        var host = FakeHostFacts.TwoPorts();
        ApplianceConfig config = ConfigText.Valid(FullFile, host);

        Assert.Equal(ConfigText.FullPath, config.SourcePath);
        Assert.Equal<int>([3, 2], config.Workers.Cores);
        Assert.Equal(128, config.Workers.Batch);
        Assert.Equal(0, config.Workers.Nice);
        Assert.Equal(new XdpConfig(CopyMode.ZeroCopy, AttachMode.Native, BusyPoll: true, ReplaceProgram: true,
            RxRing: 4096, TxRing: 1024, FillRing: 8192, CompletionRing: 512, FrameSize: 2048, FramesPerWorker: 32768,
            UmemHugePages: true, LpmHugePages: false), config.Xdp);
        Assert.Equal(new ForwardingConfig(Ipv4: false, Ipv6: true), config.Forwarding);

        Assert.Equal(["eth1", "eth2"], config.Interfaces.Select(i => i.Name));
        InterfaceConfig eth1 = config.Interfaces[0], eth2 = config.Interfaces[1];
        Assert.Equal<int>([1, 0], eth1.Queues.Indexes);
        Assert.Equal<AddressWithPrefix>([new AddressWithPrefix(Ipv4Address.Parse("198.18.0.1"), 24), new AddressWithPrefix(Ipv6Address.Parse("2001:2:0:1::1"), 64)], eth1.Addresses);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:01"), eth1.Mac);
        Assert.Equal(1500, eth1.Mtu);
        Assert.Equal(new ForwardingConfig(Ipv4: true, Ipv6: true), eth1.Forwarding); // ipv4 overridden, ipv6 from [forwarding]
        Assert.Equal<int>([0, 1], eth2.Queues.Indexes);
        Assert.Null(eth2.Mac);
        Assert.Null(eth2.Mtu);
        Assert.Equal(new ForwardingConfig(Ipv4: false, Ipv6: true), eth2.Forwarding);

        Assert.Equal<RouteConfig>(
        [
            new RouteConfig(new IpPrefix(Ipv4Prefix.Parse("198.19.0.0/16")), Ipv4Address.Parse("198.18.1.2"), "eth2", 10),
            new RouteConfig(new IpPrefix(Ipv6Prefix.Parse("2001:2:0:100::/56")), Ipv6Address.Parse("2001:2:0:1::2"), "eth1", 0),
            new RouteConfig(new IpPrefix(Ipv4Prefix.Parse("198.18.200.0/24")), null, "eth2", 0),
        ], config.Routes);
        Assert.Equal<NeighborConfig>([new NeighborConfig("eth2", Ipv4Address.Parse("198.18.1.2"), MacAddress.Parse("02:00:00:00:02:02"))], config.Neighbors);
        Assert.Equal<ServiceConfig>(
        [
            new ServiceConfig(ServiceKind.UdpEcho, 7, Ipv6Address.Parse("2001:2:0:1::1")),
            new ServiceConfig(ServiceKind.UdpDiscard, 9, null),
            new ServiceConfig(ServiceKind.Http, 80, null, new HttpResponse(404, 13, ["Content-Type: text/plain", "Cache-Control: no-store"],
                new HttpTimeouts(TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.Zero))),
            new ServiceConfig(ServiceKind.TcpEcho, 7, null, Backlog: 128, SynCookies: Stack.Transport.Tcp.TcpSynCookieMode.Always,
                KeepAlive: new Stack.Transport.Tcp.TcpKeepAlive(TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(30), 9)),
            new ServiceConfig(ServiceKind.TcpDiscard, 9, Ipv4Address.Parse("198.18.0.1")),
        ], config.Services);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 9469), config.Management.Listen);
        Assert.Equal(["eth1", "eth2"], host.Asked);
    }

    [Fact]
    public void TryParse_OnlyAnInterface_EverySectionHasItsDefault()
    {
        ApplianceConfig config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            """);

        Assert.Equal(WorkersConfig.Default, config.Workers);
        Assert.False(config.Workers.IsPinned);
        Assert.Equal(64, config.Workers.Batch);
        Assert.Equal(-10, config.Workers.Nice);
        Assert.Equal(XdpConfig.Default, config.Xdp);
        Assert.Equal(new XdpConfig(CopyMode.Auto, AttachMode.Auto, BusyPoll: false, ReplaceProgram: false, RxRing: 2048, TxRing: 2048,
            FillRing: 4096, CompletionRing: 2048, FrameSize: 4096, FramesPerWorker: 16384, UmemHugePages: false, LpmHugePages: true), config.Xdp);
        Assert.Equal(ForwardingConfig.Default, config.Forwarding);
        InterfaceConfig eth1 = Assert.Single(config.Interfaces);
        Assert.True(eth1.Queues.IsAll);
        Assert.Empty(eth1.Addresses);
        Assert.Equal(new ForwardingConfig(Ipv4: true, Ipv6: true), eth1.Forwarding);
        Assert.Empty(config.Routes);
        Assert.Empty(config.Neighbors);
        Assert.Empty(config.Services);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9469), config.Management.Listen);
    }

    [Fact]
    public void TryParse_EmptyManagementListen_TurnsTheListenerOff()
    {
        ApplianceConfig config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            [management]
            listen = ""
            """);

        Assert.Null(config.Management.Listen);
    }

    [Fact]
    public void TryParse_TomlSpellingsOfTheSameTables_GiveTheSameModel()
    {
        // [[interface]] headers with an inline table, versus an inline array of tables with a dotted
        // key, versus a [interface.forwarding] sub-table header: TOML says these are one document.
        ApplianceConfig headers = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            forwarding = { ipv6 = false }
            [[interface]]
            name = "eth2"
            """);
        ApplianceConfig inline = ConfigText.Valid("""
            interface = [ { name = "eth1", forwarding.ipv6 = false }, { name = "eth2" } ]
            """);
        ApplianceConfig subTable = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            [interface.forwarding]
            ipv6 = false
            [[interface]]
            name = "eth2"
            """);

        foreach (ApplianceConfig config in (ApplianceConfig[])[headers, inline, subTable])
        {
            Assert.Equal(["eth1", "eth2"], config.Interfaces.Select(i => i.Name));
            Assert.Equal(new ForwardingConfig(Ipv4: true, Ipv6: false), config.Interfaces[0].Forwarding);
            Assert.Equal(ForwardingConfig.Default, config.Interfaces[1].Forwarding);
        }
    }

    [Fact]
    public void TryParse_GatewayWithoutInterface_RouteTakesTheInterfaceWhoseSubnetHoldsIt()
    {
        ApplianceConfig config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[interface]]
            name = "eth2"
            addresses = ["198.18.1.1/24", "2001:2:0:2::1/64"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.1.254"
            [[route]]
            prefix = "::/0"
            via = "2001:2:0:2::ffff"
            """);

        Assert.Equal(["eth2", "eth2"], config.Routes.Select(r => r.Interface));
    }

    [Fact]
    public void TryParse_GatewayOnAnOnLinkRoutesPrefix_IsReachable()
    {
        // As with 'ip route add 198.18.9.0/24 dev eth1' followed by a route via 198.18.9.1.
        ApplianceConfig config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[route]]
            prefix = "198.18.9.0/24"
            interface = "eth1"
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.9.1"
            [[neighbor]]
            interface = "eth1"
            address = "198.18.9.1"
            mac = "02:00:00:00:09:01"
            """);

        Assert.True(config.Routes[0].IsOnLink);
        Assert.Equal("eth1", config.Routes[1].Interface);
        Assert.Equal(Ipv4Address.Parse("198.18.9.1"), config.Neighbors[0].Address.V4);
    }

    [Fact]
    public void TryParse_QueueStrings_ListTheIndexesInOrder()
    {
        ApplianceConfig config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            queues = "0,2-3"
            [[interface]]
            name = "eth2"
            queues = "all"
            """);

        Assert.Equal<int>([0, 2, 3], config.Interfaces[0].Queues.Indexes);
        Assert.Equal("0,2,3", config.Interfaces[0].Queues.ToString());
        Assert.True(config.Interfaces[1].Queues.IsAll);
        Assert.Equal<int>([0, 1, 2], config.Interfaces[1].Queues.Resolve(3));
    }

    [Fact]
    public void TryLoad_MissingFile_OneErrorNamingTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"xdpstack-missing-{Guid.NewGuid():N}.toml");

        bool valid = ConfigLoader.TryLoad(path, host: null, out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors);

        Assert.False(valid);
        Assert.Null(config);
        Assert.Equal($"{path}: cannot read the config file: no such file", Assert.Single(errors).ToString());
    }

    [Fact]
    public void TryLoad_RelativePath_ErrorsQuoteItAndSourcePathIsFull()
    {
        string directory = Directory.CreateTempSubdirectory("xdpstack-config-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "a.toml"), "[[interface]]\nname = \"eth1\"\n");
            File.WriteAllText(Path.Combine(directory, "b.toml"), "[[interface]]\nnmae = \"eth1\"\n");
            string relativeA = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(directory, "a.toml"));
            string relativeB = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(directory, "b.toml"));

            Assert.True(ConfigLoader.TryLoad(relativeA, host: null, out ApplianceConfig? a, out _));
            Assert.False(ConfigLoader.TryLoad(relativeB, host: null, out _, out IReadOnlyList<ConfigError> errors));

            Assert.Equal(Path.Combine(directory, "a.toml"), a.SourcePath);
            Assert.Equal(
            [
                $"{relativeB}:1:1: [[interface]] needs 'name' (the Linux device name, such as \"eth1\")",
                $"{relativeB}:2:1: unknown key 'nmae' in [[interface]] (did you mean 'name'?)",
            ], errors.Select(e => e.ToString()));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
