using System.CommandLine;
using XdpStack.Appliance.Control;

namespace XdpStack.Appliance.Cli;

/// <summary><c>xdpstack show interfaces|routes|route-summary|neighbors|counters</c>: the running appliance's state through its control socket, as <c>ip</c> prints it or as JSON.</summary>
internal static class ShowCommand
{
    public static Command Create()
    {
        var command = new Command("show", "Show a running appliance's interfaces, routes, neighbours or counters (through its control socket; root only).");
        command.Subcommands.Add(Sub("interfaces", "Interfaces: NIC id, MAC, MTU, addresses, queues, each socket's mode and what it moved", "show interfaces", (o, line, _) => ShowFormatter.Interfaces(o, ControlClient.Parse(line, ControlJson.Default.InterfacesReply))));
        command.Subcommands.Add(Sub("routes", "Routes in lookup order: prefix, via, interface, metric, source (connected, config, or kernel with the kernel protocol, such as kernel/bird)", "show routes", (o, line, _) => ShowFormatter.Routes(o, ControlClient.Parse(line, ControlJson.Default.RoutesReply))));
        command.Subcommands.Add(Sub("route-summary", "Route counts without the routes: the table's, the kernel mirror's, and what the kernel route sync skipped", "show route-summary", (o, line, _) => ShowFormatter.RouteSummary(o, ControlClient.Parse(line, ControlJson.Default.RouteSummaryReply))));
        Command neighbors = Sub("neighbors", "ARP and NDP caches: address, MAC, state, interface", "show neighbors", (o, line, _) => ShowFormatter.Neighbors(o, ControlClient.Parse(line, ControlJson.Default.NeighborsReply)));
        neighbors.Aliases.Add("neighbours");
        command.Subcommands.Add(neighbors);
        command.Subcommands.Add(Sub("counters", "The stack's counters per interface and the workers' and sockets' counters (non-zero ones unless --all)", "show counters", (o, line, all) => ShowFormatter.Counters(o, ControlClient.Parse(line, ControlJson.Default.CountersReply), all)));
        return command;
    }

    private static Command Sub(string name, string description, string request, Action<TextWriter, string, bool> human)
    {
        var json = new Option<bool>("--json", "-j") { Description = "Print the appliance's JSON reply (one line) instead of the human form" };
        var all = new Option<bool>("--all", "-a") { Description = "Also list counters that are zero" };
        Option<string> socket = ControlClient.SocketOption("The appliance's control socket");
        var command = new Command(name, description) { json, socket };
        if (name == "counters")
            command.Options.Add(all);
        command.SetAction(parse =>
        {
            using ControlClient client = ControlClient.Connect(parse.GetValue(socket) ?? ControlClient.DefaultPath);
            string line = client.RequestLine(request);
            if (parse.GetValue(json))
            {
                // Errors are checked even here, so a script sees a non-zero exit code and a message on stderr.
                ControlClient.ThrowIfError(line);
                Console.Out.WriteLine(line);
            }
            else
            {
                human(Console.Out, line, parse.GetValue(all));
            }
            return 0;
        });
        return command;
    }
}
