using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using XdpStack.Appliance.Control;

namespace XdpStack.Appliance.Cli;

/// <summary><c>xdpstack stats</c>: a live view of a running appliance, refreshed in place with plain ANSI sequences (works over SSH, no curses).</summary>
/// <remarks>
/// Asks the control socket for a sample every interval on one connection and shows rates from the last two, on the
/// alternate screen with the cursor hidden; q, Ctrl-C or SIGTERM end it and put the terminal back. Without a
/// terminal on stdout it prints one block per interval instead; <c>--once</c> prints one block (over one interval)
/// and exits.
/// </remarks>
internal static class StatsCommand
{
    private const string AlternateScreen = "\e[?1049h", MainScreen = "\e[?1049l";
    private const string HideCursor = "\e[?25l", ShowCursor = "\e[?25h";
    private const string Home = "\e[H", ClearLine = "\e[K", ClearBelow = "\e[J";

    public static Command Create()
    {
        var once = new Option<bool>("--once") { Description = "Print one sample (rates over one interval) and exit" };
        var interval = new Option<double>("--interval", "-n") { Description = "Seconds between samples", DefaultValueFactory = _ => 1 };
        Option<string> socket = ControlClient.SocketOption("The appliance's control socket");
        var command = new Command("stats", "Live per device and queue rates, worker load and drops of a running appliance (q or Ctrl-C quits).")
        {
            once, interval, socket,
        };
        command.SetAction(parse =>
        {
            double seconds = parse.GetValue(interval);
            if (!(seconds >= 0.1 && seconds <= 3600))
                throw new ApplianceException("--interval must be between 0.1 and 3600 seconds");
            return Run(parse.GetValue(socket) ?? ControlClient.DefaultPath, TimeSpan.FromSeconds(seconds), parse.GetValue(once), Console.Out);
        });
        return command;
    }

    public static int Run(string path, TimeSpan interval, bool once, TextWriter output)
    {
        using ControlClient client = ControlClient.Connect(path);
        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Cancel(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Cancel(); });
        bool live = !once && !Console.IsOutputRedirected;
        bool keys = live && !Console.IsInputRedirected;
        string title = Invariant($"xdpstack stats: {path}, every {interval.TotalSeconds:0.#} s") + (keys ? "  (q quits)" : "");

        StatsSample previous = client.Request("stats", ControlJson.Default.StatsSample);
        if (live)
            output.Write(AlternateScreen + HideCursor + Home + ClearBelow + title + "\n(first rates after one interval)" + ClearLine);
        output.Flush();
        try
        {
            while (!Wait(interval, keys, stop.Token))
            {
                StatsSample current = client.Request("stats", ControlJson.Default.StatsSample);
                IReadOnlyList<string> lines = StatsView.Render(previous, current, title);
                previous = current;
                if (live)
                {
                    output.Write(Home + string.Join(ClearLine + "\r\n", lines) + ClearLine + "\r\n" + ClearBelow);
                }
                else
                {
                    foreach (string line in lines)
                        output.WriteLine(line);
                    output.WriteLine();
                }
                output.Flush();
                if (once)
                    break;
            }
        }
        finally
        {
            if (live)
            {
                output.Write(ShowCursor + MainScreen);
                output.Flush();
            }
        }
        return 0;
    }

    /// <summary>Waits one interval; true when the view should end (q, Ctrl-C, SIGTERM).</summary>
    private static bool Wait(TimeSpan interval, bool keys, CancellationToken stop)
    {
        DateTime end = DateTime.UtcNow + interval;
        while (DateTime.UtcNow < end)
        {
            if (stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(50)))
                return true;
            while (keys && Console.KeyAvailable)
            {
                ConsoleKeyInfo key = Console.ReadKey(intercept: true);
                if (key.KeyChar is 'q' or 'Q' || (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control)))
                    return true;
            }
        }
        return stop.IsCancellationRequested;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
