using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

/// <summary>What the config checks about a network device.</summary>
/// <param name="Name">The device name.</param>
/// <param name="QueueCount">Queues an XDP socket can bind to: indexes 0 to QueueCount - 1.</param>
/// <param name="Mac">Its MAC address, or null when the device has no Ethernet address.</param>
/// <param name="Mtu">Its MTU.</param>
internal sealed record DeviceFacts(string Name, int QueueCount, MacAddress? Mac, int Mtu);
