using System.CommandLine;
using System.Runtime.InteropServices;
using XdpStack.Appliance.Config;
using XdpStack.Appliance.Control;
using XdpStack.Appliance.Run;

namespace XdpStack.Appliance.Cli;

/// <summary><c>xdpstack run</c>: run the appliance as a config file describes it, or only check the file.</summary>
internal static class RunCommand
{
    /// <summary>The exit code for a config file with errors, so scripts can tell it from a failure to run.</summary>
    public const int ConfigErrorExitCode = 2;

    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "The TOML config file (see docs/config.md)", Required = true };
        var check = new Option<bool>("--check") { Description = "Only check the file against this machine, print a summary and exit; touches no interface" };
        Option<string> socket = ControlClient.SocketOption("The control socket to create (mode 0600) for show, stats and capture");
        var command = new Command("run", "Run the appliance: forward and answer on the interfaces the config file names.")
        {
            config, check, socket,
        };
        command.SetAction(parse => Run(parse.GetRequiredValue(config), parse.GetValue(check), LiveHostFacts.Instance, Console.Out, Console.Error,
            parse.GetValue(socket) ?? ControlClient.DefaultPath));
        return command;
    }

    public static int Run(string path, bool checkOnly, IHostFacts host, TextWriter output, TextWriter error, string controlSocket = ControlServer.DefaultPath)
    {
        if (!ConfigLoader.TryLoad(path, host, out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors))
        {
            foreach (ConfigError e in errors)
                error.WriteLine(e.ToString());
            error.Flush();
            return ConfigErrorExitCode;
        }
        if (checkOnly)
        {
            output.WriteLine($"{path}: ok: {config.Summary()}");
            output.Flush();
            return 0;
        }

        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Cancel(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Cancel(); });
        return ApplianceRunner.Run(config, controlSocket, stop.Token);
    }
}
