using System.Diagnostics;
using System.Text;
using System.Text.Json;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>
/// A layer-2 relay between two interfaces of a lab namespace that reorders TCP: it holds back a random share of the
/// IPv4 TCP frames and sends each after the next one or two frames of its direction (or after 5 ms with none). This
/// kernel has no netem, so reordering on the wire has to be made by hand; nothing is dropped or duplicated.
/// </summary>
internal sealed class ReorderRelay : IDisposable
{
    private readonly Process _process;
    private readonly string _script;
    private readonly StringBuilder _output = new();

    private ReorderRelay(Process process, string script)
    {
        _process = process;
        _script = script;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Relays between <paramref name="a"/> and <paramref name="b"/> in <paramref name="ns"/>, reordering <paramref name="percent"/>% of the TCP frames each way; returns once both packet sockets are bound.</summary>
    public static ReorderRelay Start(NetNamespace ns, string a, string b, double percent, int seed)
    {
        string script = Path.Combine(Path.GetTempPath(), $"xdpstack-reorder-{Environment.ProcessId}-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Script);
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])["netns", "exec", ns.Name, "python3", "-u", script, a, b,
                     percent.ToString(System.Globalization.CultureInfo.InvariantCulture), seed.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            psi.ArgumentList.Add(arg);
        var relay = new ReorderRelay(Process.Start(psi) ?? throw new InvalidOperationException("could not start python3"), script);
        var clock = Stopwatch.StartNew();
        while (!relay.Output.Contains("relaying", StringComparison.Ordinal))
        {
            if (relay._process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                relay.Dispose();
                Assert.Fail($"the reordering relay did not start: {relay.Output}");
            }
            Thread.Sleep(20);
        }
        return relay;
    }

    private string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Stops the relay (SIGTERM) and returns what it counted: frames relayed and frames sent behind later ones, each way.</summary>
    public RelayCounts Stop()
    {
        Assert.Equal(0, Tmds.Linux.LibC.kill(_process.Id, 15));
        Assert.True(_process.WaitForExit(10_000), $"the reordering relay did not stop: {Output}");
        _process.WaitForExit(); // delivers the last lines
        string last = Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        Assert.True(_process.ExitCode == 0 && last.StartsWith('{'), $"the reordering relay failed: {Output}");
        using JsonDocument counts = JsonDocument.Parse(last);
        JsonElement r = counts.RootElement;
        return new RelayCounts(r.GetProperty("relayed_ab").GetInt64(), r.GetProperty("relayed_ba").GetInt64(),
            r.GetProperty("reordered_ab").GetInt64(), r.GetProperty("reordered_ba").GetInt64());
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
        File.Delete(_script);
    }

    /// <summary>Frames the relay passed from a to b and from b to a, and how many of each went out behind a frame that arrived after them.</summary>
    internal readonly record struct RelayCounts(long RelayedAToB, long RelayedBToA, long ReorderedAToB, long ReorderedBToA);

    private const string Script = """
        import json, random, select, signal, socket, sys, time

        ETH_P_ALL, PACKET_OUTGOING = 3, 4
        a_name, b_name, percent, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
        rng = random.Random(seed)

        def bind(name):
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.bind((name, 0))
            s.setblocking(False)
            return s

        a, b = bind(a_name), bind(b_name)
        # Per direction: the frame held back, how many later frames still go ahead of it, when it was held.
        state = {"ab": [None, 0, 0.0], "ba": [None, 0, 0.0]}
        counts = {"relayed_ab": 0, "relayed_ba": 0, "reordered_ab": 0, "reordered_ba": 0}
        stop = False

        def on_term(signum, frame):
            global stop
            stop = True

        signal.signal(signal.SIGTERM, on_term)

        def is_tcp4(frame):
            return len(frame) >= 34 and frame[12:14] == b"\x08\x00" and frame[23] == 6

        def relay(frame, out, d):
            held = state[d]
            counts["relayed_" + d] += 1
            if held[0] is None and is_tcp4(frame) and rng.random() * 100 < percent:
                held[0], held[1], held[2] = frame, rng.randint(1, 2), time.monotonic()
                return
            out.send(frame)
            if held[0] is not None:
                held[1] -= 1
                if held[1] == 0:
                    out.send(held[0])
                    held[0] = None
                    counts["reordered_" + d] += 1

        def flush(out, d, older_than):
            held = state[d]
            if held[0] is not None and time.monotonic() - held[2] >= older_than:
                out.send(held[0])
                held[0] = None

        print("relaying", flush=True)
        while not stop:
            try:
                ready, _, _ = select.select([a, b], [], [], 0.002)
            except InterruptedError:
                continue
            for s in ready:
                out, d = (b, "ab") if s is a else (a, "ba")
                while True:
                    try:
                        frame, address = s.recvfrom(65536)
                    except BlockingIOError:
                        break
                    if address[2] != PACKET_OUTGOING:
                        relay(frame, out, d)
            flush(b, "ab", 0.005)
            flush(a, "ba", 0.005)
        flush(b, "ab", 0)
        flush(a, "ba", 0)
        print(json.dumps(counts), flush=True)
        """;
}
