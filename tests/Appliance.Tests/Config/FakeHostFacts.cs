using XdpStack.Appliance.Config;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Tests.Config;

/// <summary>A machine made up for config checks: named devices with queue counts, MACs and MTUs, and a set of online CPUs.</summary>
internal sealed class FakeHostFacts : IHostFacts
{
    private readonly Dictionary<string, DeviceFacts> _devices = new(StringComparer.Ordinal);

    public IReadOnlySet<int>? OnlineCpus { get; set; } = new HashSet<int> { 0, 1, 2, 3 };

    /// <summary>Every name asked for, in order.</summary>
    public List<string> Asked { get; } = [];

    /// <summary>eth1 and eth2 with 2 queues each, MACs 02:00:00:00:00:01 and :02, MTU 1500; CPUs 0-3 online.</summary>
    public static FakeHostFacts TwoPorts() =>
        new FakeHostFacts().With("eth1", 2, "02:00:00:00:00:01", 1500).With("eth2", 2, "02:00:00:00:00:02", 1500);

    public FakeHostFacts With(string name, int queues, string mac, int mtu)
    {
        _devices[name] = new DeviceFacts(name, queues, MacAddress.Parse(mac), mtu);
        return this;
    }

    public bool TryGetDevice(string name, out DeviceFacts facts)
    {
        Asked.Add(name);
        return _devices.TryGetValue(name, out facts!);
    }
}
