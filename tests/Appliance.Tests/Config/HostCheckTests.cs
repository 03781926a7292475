namespace XdpStack.Appliance.Tests.Config;

/// <summary>The checks against the machine: devices, their queues, MACs and MTUs, and online CPUs.</summary>
public sealed class HostCheckTests
{
    [Fact]
    public void TryParse_DeviceMissing_ErrorAtTheName()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            [[interface]]
            name = "eth7"
            """, FakeHostFacts.TwoPorts());

        Assert.Equal(["test.toml:4:8: no network interface named 'eth7' in this network namespace (see 'ip link')"], errors);
    }

    [Fact]
    public void TryParse_QueueTheDeviceLacks_ErrorAtThatQueue()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            queues = [0, 1, 2]
            [[interface]]
            name = "eth2"
            queues = "1-3"
            """, FakeHostFacts.TwoPorts());

        Assert.Equal(
        [
            "test.toml:3:17: 'eth1' has 2 queues (0-1); queue 2 does not exist",
            "test.toml:6:10: 'eth2' has 2 queues (0-1); queue 2 does not exist",
            "test.toml:6:10: 'eth2' has 2 queues (0-1); queue 3 does not exist",
        ], errors);
    }

    [Fact]
    public void TryParse_MacOrMtuDiffers_ErrorAtTheKey()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            mac = "02:00:00:00:00:09"
            mtu = 9000
            """, FakeHostFacts.TwoPorts());

        Assert.Equal(
        [
            "test.toml:3:7: 'eth1' has MAC 02:00:00:00:00:01, not 02:00:00:00:00:09 as configured",
            "test.toml:4:7: 'eth1' has MTU 1500, not 9000 as configured",
        ], errors);
    }

    [Fact]
    public void TryParse_AllQueuesNeedMoreWorkersThanCores_ErrorAtCores()
    {
        FakeHostFacts host = FakeHostFacts.TwoPorts().With("eth3", 4, "02:00:00:00:00:03", 1500);

        string[] errors = ConfigText.Errors("""
            [workers]
            cores = [0, 1]
            [[interface]]
            name = "eth1"
            [[interface]]
            name = "eth3"
            """, host);

        Assert.Equal(["test.toml:2:9: 'cores' in [workers] lists 2 CPUs, but 'eth3' has 4 queues and queues = \"all\", which need workers 0-3"], errors);
    }

    [Fact]
    public void TryParse_WrongQueues_OnlyThatErrorEvenWithTooFewCores()
    {
        // A wrong 'queues' must not be read as "all" by the later checks: eth1 has 2 queues and
        // one core is given, which would be an error for queues = "all".
        string[] errors = ConfigText.Errors("""
            [workers]
            cores = [0]
            [[interface]]
            name = "eth1"
            queues = "0,x"
            """, FakeHostFacts.TwoPorts());

        Assert.Equal(["test.toml:5:10: 'queues' in [[interface]]: 'x' is not an index (expected a number from 0 to 4095, or a range like 0-3)"], errors);
    }

    [Fact]
    public void TryParse_CoreNotOnline_ErrorAtThatCore()
    {
        var host = FakeHostFacts.TwoPorts();
        host.OnlineCpus = new HashSet<int> { 0, 1, 2, 3, 6 };

        string[] errors = ConfigText.Errors("""
            [workers]
            cores = [2, 5]
            [[interface]]
            name = "eth1"
            """, host);

        Assert.Equal(["test.toml:2:13: CPU 5 in 'cores' in [workers] is not online (online CPUs: 0-3,6)"], errors);
    }

    [Fact]
    public void TryParse_WithoutHost_NoDeviceIsLookedUp()
    {
        // The same file that fails against the fake machine passes when the machine is not consulted.
        const string Toml = """
            [[interface]]
            name = "eth7"
            queues = [5]
            """;
        Assert.NotEmpty(ConfigText.Errors(Toml, FakeHostFacts.TwoPorts()));

        Assert.Equal("eth7", ConfigText.Valid(Toml, host: null).Interfaces[0].Name);
    }
}
