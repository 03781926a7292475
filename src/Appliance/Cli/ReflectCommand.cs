using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using XdpStack.Appliance.Config;
using XdpStack.Appliance.Metrics;
using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Cli;

/// <summary><c>xdpstack reflect</c>: send every frame back where it came from, as fast as possible.</summary>
internal static class ReflectCommand
{
    public static Command Create()
    {
        var iface = new Option<string>("--interface", "-i") { Description = "Network interface to reflect on", Required = true };
        var queues = new Option<string>("--queues", "-q") { Description = "Queues to serve: a list such as 0,2-3, or 'all'", DefaultValueFactory = _ => "all" };
        var copy = new Option<bool>("--copy") { Description = "Force copy mode (XDP_COPY)" };
        var zeroCopy = new Option<bool>("--zero-copy") { Description = "Require zero-copy mode (XDP_ZEROCOPY), fail otherwise" };
        var attach = new Option<string>("--attach") { Description = "Where the XDP program runs", DefaultValueFactory = _ => "auto" };
        attach.AcceptOnlyFromAmong("auto", "native", "generic");
        var busyPoll = new Option<bool>("--busy-poll") { Description = "Use preferred busy polling on the sockets" };
        var batch = new Option<int>("--batch", "-b") { Description = "Most frames handled per ring operation", DefaultValueFactory = _ => ReflectSettings.DefaultBatch };
        var cores = new Option<string?>("--cores", "-c") { Description = "CPUs to pin the workers to, one per queue in order (e.g. 1 or 2-5)" };
        var duration = new Option<double>("--duration", "-d") { Description = "Seconds to run; 0 runs until SIGINT/SIGTERM", DefaultValueFactory = _ => 0 };
        var statsInterval = new Option<double>("--stats-interval") { Description = "Seconds between rate lines; 0 prints none", DefaultValueFactory = _ => 1 };
        var swap = new Option<string>("--swap") { Description = "l2 swaps MACs; l3 also swaps IP addresses and UDP/TCP ports", DefaultValueFactory = _ => "l2" };
        swap.AcceptOnlyFromAmong("l2", "l3");
        var metrics = new Option<string>("--metrics")
        {
            Description = "ADDRESS:PORT to serve Prometheus metrics on (/metrics), or \"\" for none",
            DefaultValueFactory = _ => MetricsListener.Format(ManagementConfig.Default.Listen!),
        };

        var command = new Command("reflect", "Reflect every frame received on the interface's queues back out of the same queue, with source and destination swapped.")
        {
            iface, queues, copy, zeroCopy, attach, busyPoll, batch, cores, duration, statsInterval, swap, metrics,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(copy) && parse.GetValue(zeroCopy))
                throw new ApplianceException("--copy and --zero-copy exclude each other");
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1 || batchSize > ReflectSettings.MaxBatch)
                throw new ApplianceException($"--batch must be between 1 and {ReflectSettings.MaxBatch}");
            double seconds = parse.GetValue(duration), interval = parse.GetValue(statsInterval);
            if (seconds < 0 || interval < 0 || double.IsNaN(seconds) || double.IsNaN(interval))
                throw new ApplianceException("--duration and --stats-interval must be 0 or more seconds");
            var settings = new ReflectSettings(
                Interface: parse.GetRequiredValue(iface),
                Queues: ParseList(parse.GetValue(queues) ?? "all", "--queues", allowAll: true),
                CopyMode: parse.GetValue(copy) ? CopyMode.Copy : parse.GetValue(zeroCopy) ? CopyMode.ZeroCopy : CopyMode.Auto,
                AttachMode: parse.GetValue(attach) switch { "native" => AttachMode.Native, "generic" => AttachMode.Generic, _ => AttachMode.Auto },
                BusyPoll: parse.GetValue(busyPoll),
                Batch: batchSize,
                Cores: parse.GetValue(cores) is string c ? ParseList(c, "--cores", allowAll: false) : null,
                Duration: seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
                StatsInterval: TimeSpan.FromSeconds(interval),
                Swap: parse.GetValue(swap) == "l3" ? SwapMode.L3 : SwapMode.L2)
            {
                Metrics = ParseMetrics(parse.GetValue(metrics) ?? ""),
            };
            return Run(settings, Console.Out);
        });
        return command;
    }

    private static IPEndPoint? ParseMetrics(string text)
    {
        if (text.Length == 0)
            return null;
        if (!ConfigValueParser.TryParseEndpoint(text, out IPEndPoint? endpoint, out string? error))
            throw new ApplianceException("--metrics: " + error + ", or \"\" for no metrics");
        return endpoint;
    }

    private static int[]? ParseList(string text, string option, bool allowAll)
    {
        if (allowAll && text.Trim() == "all")
            return null;
        if (!IndexList.TryParse(text, out int[] indexes, out string error))
            throw new ApplianceException($"{option}: {error}");
        return indexes;
    }

    public static int Run(ReflectSettings settings, TextWriter output)
    {
        string? missing = Capabilities.Missing(Capabilities.Effective(), Capabilities.MemlockLimit(),
            Reflector.UmemBytes(settings.Queues?.Length ?? 1));
        if (missing is not null)
            throw new ApplianceException(missing);

        using var stop = new ManualResetEvent(false);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Set(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Set(); });

        // A wrong interface name is the first thing to hear about; then the listener binds, before the interface is
        // touched, so an address in use stops the start cleanly.
        DeviceLookup.Open(settings.Interface);
        var metrics = new ApplianceMetrics(MetricCatalog.Reflect);
        using IDisposable processMetrics = metrics.Attach(new ProcessMetricsSource("reflect", reloads: null));
        using MetricsListener? listener = settings.Metrics is IPEndPoint endpoint
            ? MetricsListener.Start(endpoint, metrics, "--metrics", settings.Cores ?? [])
            : null;

        using Reflector reflector = Reflector.Start(settings);
        TimeSpan ran;
        // Detached (waiting out a scrape in progress) before the reflector closes its sockets.
        using (metrics.Attach(new ReflectMetricsSource(reflector)))
        {
            output.WriteLine(Describe(reflector));
            output.WriteLine(listener is null ? "metrics: off" : $"metrics on http://{MetricsListener.Format(listener.Endpoint)}/metrics");
            output.Flush();
            ran = StatsPrinter.Run(reflector, stop, settings.Duration, settings.StatsInterval, output);
        }
        reflector.Stop();
        CounterSnapshot[] totals = reflector.Snapshot();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stopped after {ran.TotalSeconds:F1} s; detaching from {settings.Interface}"));
        for (int i = 0; i < totals.Length; i++)
        {
            ReflectWorker worker = reflector.Workers[i];
            output.WriteLine(StatsPrinter.SummaryLine(worker.QueueId, totals[i], ran.TotalSeconds) + "; " + KernelStats.Describe(worker.Socket));
        }
        output.Flush();
        return 0;
    }

    public static string Describe(Reflector reflector)
    {
        ReflectSettings s = reflector.Settings;
        string queueList = string.Join(',', reflector.Workers.Select(w => w.QueueId));
        string mode = reflector.Workers.Count > 0 && reflector.Workers[0].Socket.ZeroCopy ? "zero-copy" : "copy";
        string pins = s.Cores is null ? "not pinned" : "CPUs " + string.Join(',', reflector.Workers.Select(w => w.Cpu));
        return $"reflecting on {s.Interface} (ifindex {reflector.Device.IfIndex}) queues {queueList}: {reflector.AttachedMode} XDP, {mode} mode, swap {s.Swap.ToString().ToLowerInvariant()}, batch {s.Batch}{(s.BusyPoll ? ", busy poll" : "")}, {pins}. Stop with Ctrl-C.";
    }
}
