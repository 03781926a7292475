using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using XdpStack.Appliance.Capture;
using XdpStack.Appliance.Control;
using XdpStack.Stack.Link;

namespace XdpStack.Appliance.Cli;

/// <summary><c>xdpstack capture</c>: the frames of an interface the appliance serves, which tcpdump on the interface no longer sees once XDP redirects them.</summary>
/// <remarks>
/// The workers that own the interface's sockets copy matching frames into bounded rings while the capture runs (a
/// full ring is a counted drop, never a wait); the appliance streams them through the control socket, and this
/// command writes them as pcap (<c>-w FILE</c>, or <c>-w -</c> for stdout) or prints one line per frame.
/// </remarks>
internal static class CaptureCommand
{
    public static Command Create()
    {
        var iface = new Option<string>("--interface", "-i") { Description = "Interface to capture on (one the appliance runs on)", Required = true };
        var queue = new Option<int?>("--queue", "-q") { Description = "Only this queue (default: every queue of the interface)" };
        var count = new Option<long>("--count", "-c") { Description = "Stop after this many frames (0: until Ctrl-C)", DefaultValueFactory = _ => 0 };
        var write = new Option<string?>("--write", "-w") { Description = "Write a pcap file (- for stdout) instead of printing one line per frame", HelpName = "FILE" };
        var direction = new Option<string>("--direction", "-Q") { Description = "Frames received (in), transmitted (out) or both (inout)", DefaultValueFactory = _ => "in" };
        direction.AcceptOnlyFromAmong("in", "out", "inout");
        var snaplen = new Option<int>("--snaplen", "-s") { Description = "Bytes kept of each frame (at most the UMEM frame size)", DefaultValueFactory = _ => 65535 };
        Option<string> socket = ControlClient.SocketOption("The appliance's control socket");
        var filter = new Argument<string[]>("filter") { Description = "icmp, udp, tcp, arp, ip, ip6, host ADDR, port N, joined by 'and'", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("capture", "Capture frames of an interface the appliance serves (which tcpdump no longer sees) to pcap or the terminal.")
        {
            iface, queue, count, write, direction, snaplen, socket, filter,
        };
        command.SetAction(parse =>
        {
            string text = string.Join(' ', parse.GetValue(filter) ?? []);
            if (!CaptureFilter.TryParse(text, out _, out string? error))
                throw new ApplianceException(error);
            long n = parse.GetValue(count);
            if (n < 0)
                throw new ApplianceException("--count must be 0 or more");
            string d = parse.GetValue(direction) ?? "in";
            var request = new CaptureRequest(parse.GetRequiredValue(iface), parse.GetValue(queue), text, d != "out", d != "in", n, parse.GetValue(snaplen));
            return Run(parse.GetValue(socket) ?? ControlClient.DefaultPath, request, parse.GetValue(write), Console.Out, Console.Error);
        });
        return command;
    }

    public static int Run(string path, CaptureRequest request, string? file, TextWriter output, TextWriter error)
    {
        using ControlClient client = ControlClient.Connect(path);
        CaptureStarted started = client.Request("capture " + JsonSerializer.Serialize(request, ControlJson.Default.CaptureRequest), ControlJson.Default.CaptureStarted);
        string filterText = started.Filter.Length == 0 ? "" : $", filter '{started.Filter}'";
        error.WriteLine(Invariant($"xdpstack capture: {started.Interface} queue(s) {string.Join(',', started.Queues)}{filterText}, snaplen {started.Snaplen}; Ctrl-C stops"));
        error.Flush();

        // Ctrl-C asks the appliance to stop; it answers with the last frames and the summary.
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; client.SendStop(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; client.SendStop(); });

        PcapStream? pcap = file switch
        {
            null => null,
            "-" => new PcapStream(Console.OpenStandardOutput(), started.Snaplen, ownsStream: true),
            _ => new PcapStream(File.Create(file), started.Snaplen, ownsStream: true),
        };
        CaptureSummary? summary = null;
        long written = 0;
        try
        {
            byte[] body = new byte[CaptureMessage.MaxBody];
            while (CaptureMessage.TryRead(client.Stream, body, out byte kind, out CaptureDirection direction, out int queue, out int length, out int original, out long micros))
            {
                if (kind == CaptureMessage.EndKind)
                {
                    summary = JsonSerializer.Deserialize(body.AsSpan(0, length), ControlJson.Default.CaptureSummary);
                    break;
                }
                written++;
                if (pcap is not null)
                {
                    pcap.Write(body.AsSpan(0, length), micros, original);
                    continue;
                }
                string time = DateTimeOffset.FromUnixTimeMilliseconds(micros / 1000).UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + Invariant($".{micros % 1_000_000:D6}");
                output.WriteLine(Invariant($"{time} q{queue} {(direction == CaptureDirection.Received ? "In " : "Out")} {PacketSummary.Describe(body.AsSpan(0, length))}"));
                output.Flush();
            }
        }
        finally
        {
            pcap?.Dispose();
        }
        if (summary is null)
            throw new ApplianceException($"the appliance ended the capture without a summary after {written} frame(s) (stopping?)");
        error.WriteLine(Invariant($"{summary.Captured} frame(s) captured ({summary.Ended}); {summary.Dropped} dropped because the capture buffer was full"));
        error.Flush();
        return 0;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
