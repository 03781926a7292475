using System.CommandLine;

namespace XdpStack.Appliance;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("xdpstack: an AF_XDP packet-processing appliance.");
        return root.Parse(args).Invoke();
    }
}
