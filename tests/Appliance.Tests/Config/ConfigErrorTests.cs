namespace XdpStack.Appliance.Tests.Config;

/// <summary>Every kind of mistake, each with the exact line and column printed for it.</summary>
public sealed class ConfigErrorTests
{
    [Fact]
    public void TryParse_MisspeltKey_UnknownKeyWithSuggestion()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            adresses = ["198.18.0.1/24"]
            """);

        Assert.Equal(["test.toml:3:1: unknown key 'adresses' in [[interface]] (did you mean 'addresses'?)"], errors);
    }

    [Fact]
    public void TryParse_MisspeltTables_UnknownTablesWithSuggestions()
    {
        string[] errors = ConfigText.Errors("""
            [worker]
            batch = 32

            [[interface]]
            name = "eth1"

            [[routes]]
            prefix = "198.19.0.0/16"

            [[neighbour]]
            interface = "eth1"
            """);

        Assert.Equal(
        [
            "test.toml:1:1: unknown table [worker] (did you mean [workers]?)",
            "test.toml:7:1: unknown table [[routes]] (did you mean [[route]]?)",
            "test.toml:10:1: unknown table [[neighbour]] (did you mean [[neighbor]]?)",
        ], errors);
    }

    [Fact]
    public void TryParse_UnknownKeysEverywhere_EachReported()
    {
        string[] errors = ConfigText.Errors("""
            version = 2
            [xdp]
            busypoll = true
            [[interface]]
            name = "eth1"
            forwarding = { ipv4 = true, ipv7 = false }
            colour = "blue"
            """);

        Assert.Equal(
        [
            "test.toml:1:1: unknown key 'version' at the top level",
            "test.toml:3:1: unknown key 'busypoll' in [xdp] (did you mean 'busy_poll'?)",
            "test.toml:6:29: unknown key 'ipv7' in [[interface]] forwarding (did you mean 'ipv4'?)",
            "test.toml:7:1: unknown key 'colour' in [[interface]]",
        ], errors);
    }

    [Fact]
    public void TryParse_WrongTypes_NameTheExpectedAndTheActualType()
    {
        string[] errors = ConfigText.Errors("""
            [workers]
            batch = "64"
            [xdp]
            busy_poll = "yes"
            [[interface]]
            name = 1
            addresses = "198.18.0.1/24"
            [forwarding]
            ipv4 = 1.5
            """);

        Assert.Equal(
        [
            "test.toml:2:9: 'batch' in [workers] must be an integer, not a string",
            "test.toml:4:13: 'busy_poll' in [xdp] must be true or false, not a string",
            "test.toml:6:8: 'name' in [[interface]] must be a string, not an integer",
            "test.toml:7:13: 'addresses' in [[interface]] must be an array of addresses such as [\"198.18.0.1/24\"], not a string",
            "test.toml:9:8: 'ipv4' in [forwarding] must be true or false, not a float",
        ], errors);
    }

    [Fact]
    public void TryParse_InterfaceAsPlainTable_AsksForAnArrayOfTables()
    {
        string[] errors = ConfigText.Errors("""
            [interface]
            name = "eth1"
            """);

        Assert.Equal(
        [
            "test.toml:1:1: 'interface' must be an array of tables: write [[interface]], once per interface",
        ], errors);
    }

    [Fact]
    public void TryParse_ValuesOutOfRange_SayTheRange()
    {
        string[] errors = ConfigText.Errors("""
            [workers]
            batch = 300
            nice = -21
            [xdp]
            rx_ring = 3000
            tx_ring = 32
            frame_size = 1024
            mode = "zerocopy"
            attach = "driver"
            [[interface]]
            name = "eth1"
            """);

        Assert.Equal(
        [
            "test.toml:2:9: 'batch' in [workers] must be from 1 to 256, not 300",
            "test.toml:3:8: 'nice' in [workers] must be from -20 to 19, not -21",
            "test.toml:5:11: 'rx_ring' in [xdp] must be a power of two, not 3000",
            "test.toml:6:11: 'tx_ring' in [xdp] must be from 64 to 65536, not 32",
            "test.toml:7:14: 'frame_size' in [xdp] must be 2048 or 4096, not 1024",
            "test.toml:8:8: 'mode' in [xdp] must be one of \"auto\", \"copy\", \"zero-copy\", not \"zerocopy\" (did you mean \"zero-copy\"?)",
            "test.toml:9:10: 'attach' in [xdp] must be one of \"auto\", \"native\", \"generic\", not \"driver\"",
        ], errors);
    }

    [Fact]
    public void TryParse_BadAddressesAndMac_SayWhatIsWrongWithEach()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.300/24", "198.18.0.1", "2001:2::1/129", "224.0.0.1/4", 7]
            mac = "02:00:00:00:01"
            """);

        Assert.Equal(
        [
            "test.toml:3:14: 'addresses' in [[interface]]: '198.18.0.300' is not an IPv4 or IPv6 address",
            "test.toml:3:33: 'addresses' in [[interface]]: '198.18.0.1' needs a prefix length, as in 198.18.0.1/24 (or /32 for one address)",
            "test.toml:3:47: 'addresses' in [[interface]]: '2001:2::1/129': the prefix length must be a number from 0 to 128",
            "test.toml:3:64: 'addresses' in [[interface]]: '224.0.0.1/4': 224.0.0.1 is not a unicast address, so it cannot be an interface's address",
            "test.toml:3:79: 'addresses' in [[interface]] must list strings such as \"198.18.0.1/24\", not an integer",
            "test.toml:4:7: 'mac' in [[interface]]: '02:00:00:00:01' is not a MAC address (six hex pairs such as 02:00:00:00:00:01)",
        ], errors);
    }

    [Fact]
    public void TryParse_PrefixWithHostBits_IsAnErrorNamingTheNetwork()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24", "2001:2:0:1::1/64"]
            [[route]]
            prefix = "198.19.0.1/16"
            interface = "eth1"
            [[route]]
            prefix = "2001:2:0:100::1/56"
            interface = "eth1"
            [[route]]
            prefix = "198.19.0.0"
            interface = "eth1"
            """);

        Assert.Equal(
        [
            "test.toml:5:10: 'prefix' in [[route]]: '198.19.0.1/16' has host bits set (the prefix is 198.19.0.0/16)",
            "test.toml:8:10: 'prefix' in [[route]]: '2001:2:0:100::1/56' has host bits set (the prefix is 2001:2:0:100::/56)",
            "test.toml:11:10: 'prefix' in [[route]]: '198.19.0.0' needs a prefix length, as in 198.19.0.0/24 (or /32 for one address)",
        ], errors);
    }

    [Fact]
    public void TryParse_GatewayOnNoInterfaceSubnet_IsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.5.1"
            """);

        Assert.Equal(["test.toml:6:7: gateway 198.18.5.1 is not on the subnet of any interface, so it cannot be reached"], errors);
    }

    [Fact]
    public void TryParse_GatewayOffTheNamedInterfacesSubnet_IsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[interface]]
            name = "eth2"
            addresses = ["198.18.1.1/24"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.1.2"
            interface = "eth1"
            [[route]]
            prefix = "2001:2:0:100::/56"
            via = "2001:2:0:1::2"
            interface = "eth2"
            """);

        Assert.Equal(
        [
            "test.toml:9:7: gateway 198.18.1.2 is not on a subnet of 'eth1' (198.18.0.1/24)",
            "test.toml:13:7: gateway 2001:2:0:1::2 is not on a subnet of 'eth2' (it has no IPv6 address)",
        ], errors);
    }

    [Fact]
    public void TryParse_AmbiguousOrLinkLocalGatewayWithoutInterface_AsksForTheInterface()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/16"]
            [[interface]]
            name = "eth2"
            addresses = ["198.18.1.1/24"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.1.2"
            [[route]]
            prefix = "2001:2:0:100::/56"
            via = "fe80::1"
            [[route]]
            prefix = "198.19.0.0/24"
            """);

        Assert.Equal(
        [
            "test.toml:9:7: gateway 198.18.1.2 is on the subnets of 'eth1' and 'eth2'; add interface = \"...\" to say which",
            "test.toml:12:7: link-local gateway fe80::1 needs 'interface' to say which link it is on",
            "test.toml:13:1: [[route]] 198.19.0.0/24 needs 'via' (a gateway) or 'interface' (for an on-link route)",
        ], errors);
    }

    [Fact]
    public void TryParse_GatewayOfTheOtherFamily_IsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24", "2001:2:0:1::1/64"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "2001:2:0:1::2"
            [[route]]
            prefix = "2001:2:0:100::/56"
            via = "198.18.0.2"
            """);

        Assert.Equal(
        [
            "test.toml:6:7: gateway 2001:2:0:1::2 is IPv6, but the prefix 198.19.0.0/16 is IPv4",
            "test.toml:9:7: gateway 198.18.0.2 is IPv4, but the prefix 2001:2:0:100::/56 is IPv6",
        ], errors);
    }

    [Fact]
    public void TryParse_GatewayIsOwnAddress_IsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.0.1"
            """);

        Assert.Equal(["test.toml:6:7: gateway 198.18.0.1 is an address of this appliance (on 'eth1')"], errors);
    }

    [Fact]
    public void TryParse_RouteAndNeighborNameUnconfiguredInterface_AreErrors()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[route]]
            prefix = "198.19.0.0/16"
            interface = "eth9"
            [[neighbor]]
            interface = "eht1"
            address = "198.18.0.2"
            mac = "02:00:00:00:00:02"
            """);

        Assert.Equal(
        [
            "test.toml:6:13: [[route]] names interface 'eth9', which no [[interface]] configures (did you mean 'eth1'?)",
            "test.toml:8:13: [[neighbor]] names interface 'eht1', which no [[interface]] configures (did you mean 'eth1'?)",
        ], errors);
    }

    [Fact]
    public void TryParse_NeighborProblems_AreErrors()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[neighbor]]
            interface = "eth1"
            address = "198.18.7.2"
            mac = "02:00:00:00:00:02"
            [[neighbor]]
            interface = "eth1"
            address = "198.18.0.2"
            mac = "01:00:5e:00:00:01"
            [[neighbor]]
            interface = "eth1"
            address = "198.18.0.3"
            mac = "02:00:00:00:00:03"
            [[neighbor]]
            interface = "eth1"
            address = "198.18.0.3"
            mac = "02:00:00:00:00:04"
            [[neighbor]]
            interface = "eth1"
            """);

        Assert.Equal(
        [
            "test.toml:6:11: neighbor 198.18.7.2 is not on a subnet of 'eth1' (198.18.0.1/24), so it would never be used",
            "test.toml:11:7: 'mac' in [[neighbor]]: 01:00:5e:00:00:01 is not a unicast MAC",
            "test.toml:18:11: neighbor 198.18.0.3 on 'eth1' is configured twice (first at 14:11)",
            "test.toml:20:1: [[neighbor]] needs 'address' (the neighbor's IPv4 or IPv6 address)",
            "test.toml:20:1: [[neighbor]] needs 'mac' (the neighbor's MAC address, such as \"02:00:00:00:00:02\")",
        ], errors);
    }

    [Fact]
    public void TryParse_DuplicateInterfaceAndAddress_AreErrors()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24", "198.18.0.1/25"]
            [[interface]]
            name = "eth1"
            [[interface]]
            name = "eth2"
            addresses = ["198.18.0.1/24"]
            """);

        Assert.Equal(
        [
            "test.toml:3:31: address 198.18.0.1 is listed twice on this interface (first at 3:14)",
            "test.toml:5:8: interface 'eth1' is configured twice (first at 2:8)",
            "test.toml:8:14: address 198.18.0.1 is already on another interface (at 3:14)",
        ], errors);
    }

    [Fact]
    public void TryParse_InvalidOrMissingInterfaceName_IsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            queues = "all"
            [[interface]]
            name = "a-very-long-name0"
            [[interface]]
            name = "eth 1"
            """);

        Assert.Equal(
        [
            "test.toml:1:1: [[interface]] needs 'name' (the Linux device name, such as \"eth1\")",
            "test.toml:4:8: 'a-very-long-name0' is not a valid interface name (1 to 15 bytes, no '/', ':' or white space)",
            "test.toml:6:8: 'eth 1' is not a valid interface name (1 to 15 bytes, no '/', ':' or white space)",
        ], errors);
    }

    [Fact]
    public void TryParse_NoInterface_IsAnErrorAtTheStartOfTheFile()
    {
        string[] errors = ConfigText.Errors("""
            [workers]
            batch = 64
            """);

        Assert.Equal(["test.toml:1:1: no [[interface]] is configured: xdpstack run needs at least one"], errors);
    }

    [Fact]
    public void TryParse_RouteWeightOutOfRange_IsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.0.2"
            weight = 0
            """);

        Assert.Single(errors);
        Assert.StartsWith("test.toml:7:10: 'weight' in [[route]] must be from 1 to 256", errors[0]);
    }

    [Fact]
    public void TryParse_DuplicateRoutes_SameNextHopTwiceIsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.0.2"
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.0.2"
            metric = 5
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.0.3"
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.0.2"
            """);

        // The same prefix with another metric is a backup route, and with the same metric through another gateway a
        // second path (ECMP); only the same next hop again is a duplicate.
        Assert.Equal(["test.toml:15:10: route 198.19.0.0/16 metric 0 via 198.18.0.2 dev eth1 is configured twice (first at 5:10)"], errors);
    }

    [Fact]
    public void TryParse_QueueLists_OutOfRangeAndDuplicatesAreErrors()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            queues = [0, 5000, -1]
            [[interface]]
            name = "eth2"
            queues = [1, 1]
            [[interface]]
            name = "eth3"
            queues = "0,x"
            [[interface]]
            name = "eth4"
            queues = []
            """);

        Assert.Equal(
        [
            "test.toml:3:14: queue 5000 in 'queues' in [[interface]] is out of range (0 to 4095)",
            "test.toml:3:20: queue -1 in 'queues' in [[interface]] is out of range (0 to 4095)",
            "test.toml:6:14: queue 1 is listed twice in 'queues' in [[interface]]",
            "test.toml:9:10: 'queues' in [[interface]]: 'x' is not an index (expected a number from 0 to 4095, or a range like 0-3)",
            "test.toml:12:10: 'queues' in [[interface]] is empty; write \"all\" or list the queues to serve",
        ], errors);
    }

    [Fact]
    public void TryParse_CoresSharedOrTooFew_AreErrors()
    {
        string[] shared = ConfigText.Errors("""
            [workers]
            cores = [1, 2, 1]
            [[interface]]
            name = "eth1"
            """);
        string[] tooFew = ConfigText.Errors("""
            [workers]
            cores = [1, 2]
            [[interface]]
            name = "eth1"
            queues = [0, 1]
            [[interface]]
            name = "eth2"
            queues = "0-3"
            """);

        Assert.Equal(["test.toml:2:16: CPU 1 is listed twice in 'cores' in [workers]: two workers cannot share a CPU"], shared);
        Assert.Equal(["test.toml:2:9: 'cores' in [workers] lists 2 CPUs, but queue 3 of 'eth2' (at 8:10) needs worker 3, pinned to cores[3]"], tooFew);
    }

    [Fact]
    public void TryParse_ServiceProblems_AreErrors()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[service]]
            kind = "udp-echo"
            port = 0
            [[service]]
            kind = "udp-echo"
            port = 7
            [[service]]
            kind = "udp-discard"
            port = 7
            address = "198.18.0.1"
            [[service]]
            kind = "tcp-ecko"
            port = 8
            address = "198.18.0.9"
            [[service]]
            port = 9
            """);

        Assert.Equal(
        [
            "test.toml:6:8: 'port' in [[service]] must be from 1 to 65535, not 0",
            "test.toml:12:8: udp port 7 on 198.18.0.1 is already served by udp-echo on every address (at 9:8)",
            "test.toml:15:8: 'kind' in [[service]] must be one of \"udp-echo\", \"udp-discard\", \"http\", \"tcp-echo\", \"tcp-discard\", not \"tcp-ecko\" (did you mean \"tcp-echo\"?)",
            "test.toml:17:11: service address 198.18.0.9 is not an address of any [[interface]]",
            "test.toml:18:1: [[service]] needs 'kind' (one of udp-echo, udp-discard, http, tcp-echo, tcp-discard)",
        ], errors);
    }

    [Fact]
    public void TryParse_TcpServiceMistakes_EachWithItsPosition()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[service]]
            kind = "http"
            port = 80
            status = 204
            body_bytes = 10
            [[service]]
            kind = "tcp-echo"
            port = 80
            [[service]]
            kind = "udp-echo"
            port = 80
            status = 200
            [[service]]
            kind = "http"
            port = 81
            headers = ["Bad Name: x", 3]
            [[service]]
            kind = "udp-discard"
            port = 82
            backlog = 10
            syn_cookies = "always"
            [[service]]
            kind = "tcp-discard"
            port = 83
            backlog = 0
            syn_cookies = "yes"
            keepalive_count = 5
            keepalive_interval = 0
            """);

        Assert.Equal(
        [
            "test.toml:7:10: [[service]] http response: status 204 has no body",
            "test.toml:11:8: tcp port 80 on every address is already served by http on every address (at 6:8)",
            "test.toml:15:10: 'status' applies only to kind = \"http\", not \"udp-echo\"",
            "test.toml:19:11: [[service]] http response: header 'Bad Name: x' is not one 'Name: value' line of printable ASCII",
            "test.toml:19:27: 'headers' in [[service]] must list strings such as \"Content-Type: text/plain\", not an integer",
            "test.toml:23:11: 'backlog' applies only to TCP services, not \"udp-discard\"",
            "test.toml:24:15: 'syn_cookies' applies only to TCP services, not \"udp-discard\"",
            "test.toml:28:11: 'backlog' in [[service]] must be from 1 to 1048576, not 0",
            "test.toml:29:15: 'syn_cookies' in [[service]] must be one of \"off\", \"on-overflow\", \"always\", not \"yes\"",
            "test.toml:30:19: 'keepalive_interval' and 'keepalive_count' need 'keepalive_idle', which turns keep-alive on",
            "test.toml:31:22: 'keepalive_interval' in [[service]] must be from 1 to 32767, not 0",
        ], errors);
    }

    [Fact]
    public void TryParse_HttpTimeoutMistakes_EachWithItsPosition()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[service]]
            kind = "http"
            port = 80
            keepalive_timeout = -1
            send_timeout = 90000
            [[service]]
            kind = "tcp-echo"
            port = 7
            client_body_timeout = 5
            """);

        Assert.Equal(
        [
            "test.toml:7:21: 'keepalive_timeout' in [[service]] must be from 0 to 86400, not -1",
            "test.toml:8:16: 'send_timeout' in [[service]] must be from 0 to 86400, not 90000",
            "test.toml:12:23: 'client_body_timeout' applies only to kind = \"http\", not \"tcp-echo\"",
        ], errors);
    }

    [Fact]
    public void TryParse_MtuTooSmall_IsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["2001:2:0:1::1/64"]
            mtu = 1000
            [[interface]]
            name = "eth2"
            mtu = 60
            """);

        Assert.Equal(
        [
            "test.toml:4:7: 'mtu' 1000 is too small for the interface's IPv6 addresses: IPv6 needs at least 1280 (RFC 8200 §5)",
            "test.toml:7:7: 'mtu' in [[interface]] must be from 68 to 65535, not 60",
        ], errors);
    }

    [Fact]
    public void TryParse_BadManagementListen_IsAnError()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            [management]
            listen = "::1:9469"
            """);

        Assert.Equal(["test.toml:4:10: 'listen' in [management]: '::1:9469' is not ADDRESS:PORT (such as 127.0.0.1:9469, or [::1]:9469 for IPv6) with a port from 1 to 65535"], errors);
    }

    [Fact]
    public void TryParse_TomlSyntaxErrors_ReportedWithTheirPositions()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1
            queues =
            """);

        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Matches(@"^test\.toml:\d+:\d+: \S", e));
        Assert.StartsWith("test.toml:2:", errors[0]);
    }

    [Fact]
    public void TryParse_KeyDefinedTwice_ReportedByTheTomlCheck()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            name = "eth2"
            """);

        string error = Assert.Single(errors);
        Assert.StartsWith("test.toml:3:1: ", error);
        Assert.Contains("`interface.name`", error);
    }

    [Fact]
    public void TryParse_ManyMistakes_AllReportedInFileOrder()
    {
        string[] errors = ConfigText.Errors("""
            [workers]
            batch = 0
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            mtu = "1500"
            [[route]]
            prefix = "198.19.0.1/16"
            via = "198.18.0.2"
            [[route]]
            prefix = "198.20.0.0/16"
            interface = "eth2"
            [[service]]
            kind = "udp-echo"
            port = 70000
            """);

        Assert.Equal(
        [
            "test.toml:2:9: 'batch' in [workers] must be from 1 to 256, not 0",
            "test.toml:6:7: 'mtu' in [[interface]] must be an integer, not a string",
            "test.toml:8:10: 'prefix' in [[route]]: '198.19.0.1/16' has host bits set (the prefix is 198.19.0.0/16)",
            "test.toml:12:13: [[route]] names interface 'eth2', which no [[interface]] configures (did you mean 'eth1'?)",
            "test.toml:15:8: 'port' in [[service]] must be from 1 to 65535, not 70000",
        ], errors);
    }
}
