using System.Runtime.InteropServices;
using XdpStack.Appliance.Cli;
using XdpStack.Stack.Wire;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Config;

/// <summary>The facts of this machine, read through netlink, ethtool and sysfs; nothing is changed.</summary>
internal sealed partial class LiveHostFacts : IHostFacts
{
    public static LiveHostFacts Instance { get; } = new();

    public bool TryGetDevice(string name, out DeviceFacts facts)
    {
        facts = null!;
        // Ask if_nametoindex first, so that "no such device" is the only reason for false and any
        // other netlink or ethtool failure still surfaces as an error of its own.
        if (name.Length is 0 or > 15 || if_nametoindex(name) == 0)
            return false;
        // NetDevice.Open only reads: RTM_GETLINK and ETHTOOL_GCHANNELS.
        NetDevice device = NetDevice.Open(name);
        MacAddress? mac = device.Mac.Length == MacAddress.Length ? new MacAddress(device.Mac) : null;
        facts = new DeviceFacts(device.Name, device.QueueCount, mac, device.Mtu);
        return true;
    }

    public IReadOnlySet<int>? OnlineCpus
    {
        get
        {
            try
            {
                string text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
                return IndexList.TryParse(text, out int[] online, out _) ? online.ToHashSet() : null;
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint if_nametoindex(string name);
}
