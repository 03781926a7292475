using System.Runtime.InteropServices;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Workers;

/// <summary>Opens a network device by name with an error a user can act on.</summary>
internal static partial class DeviceLookup
{
    public static NetDevice Open(string name)
    {
        // if_nametoindex answers for the calling thread's network namespace, as the sockets will.
        if (name.Length == 0 || name.Length > 15 || if_nametoindex(name) == 0)
            throw new ApplianceException($"no network interface named '{name}' in this network namespace (see 'ip link')");
        return NetDevice.Open(name);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint if_nametoindex(string name);
}
