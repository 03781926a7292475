using System.CommandLine;
using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Demo;
using XdpStack.Lab;
using XdpStack.Xdp;

namespace XdpStack.Appliance;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("xdpstack: an AF_XDP packet-processing appliance.")
        {
            RunCommand.Create(),
            ReflectCommand.Create(),
            InfoCommand.Create(),
            DemoCommand.Create(),
            ShowCommand.Create(),
            StatsCommand.Create(),
            CaptureCommand.Create(),
        };
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            // One line a person can act on; a stack trace only when asked for.
            Console.Out.Flush();
            Console.Error.WriteLine("xdpstack: " + OneLine(e));
            if (Environment.GetEnvironmentVariable("XDPSTACK_DEBUG") == "1")
                Console.Error.WriteLine(e);
            return 1;
        }
    }

    private static string OneLine(Exception e)
    {
        string message = e switch
        {
            ApplianceException or XdpException or LabCommandException => e.Message,
            UnauthorizedAccessException => "permission denied: " + e.Message + " (run as root)",
            _ => $"unexpected {e.GetType().Name}: {e.Message}",
        };
        return message.ReplaceLineEndings(" ").Trim();
    }
}
