using System.CommandLine;

namespace XdpStack.Appliance.Demo;

/// <summary><c>xdpstack demo</c>: the router demo; <c>xdpstack demo reflect</c>: the reflector demo.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Build a throw-away lab (host A, xdpstack, host B in network namespaces), route between the hosts with 'xdpstack run', show pings, a traceroute, a UDP transfer and the counters. Needs root; leaves nothing behind.")
        {
            ReflectDemo.Create(),
        };
        command.SetAction(_ => RouterDemo.Run(Console.Out));
        return command;
    }
}
