using System.Diagnostics;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>A BIRD 2 routing daemon in a lab namespace, in the foreground, with its config and control socket in a temporary directory of its own.</summary>
/// <remarks>Dispose kills it and removes the directory, also when the test failed.</remarks>
internal sealed class BirdDaemon : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly System.Text.StringBuilder _output = new();

    private BirdDaemon(Process process, string directory)
    {
        _process = process;
        _directory = directory;
    }

    /// <summary>What bird printed (a config error, a crash), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>The control socket, for <c>birdc -s</c>.</summary>
    public string Socket => Path.Combine(_directory, "bird.ctl");

    /// <summary>Writes <paramref name="config"/> and starts <c>bird -f</c> in <paramref name="ns"/>.</summary>
    public static BirdDaemon Start(NetNamespace ns, string config)
    {
        string directory = Directory.CreateTempSubdirectory("xdpstack-bird-").FullName;
        string file = Path.Combine(directory, "bird.conf");
        File.WriteAllText(file, config);
        var start = new ProcessStartInfo("ip", ["netns", "exec", ns.Name, "bird", "-f", "-c", file, "-s", Path.Combine(directory, "bird.ctl"), "-P", Path.Combine(directory, "bird.pid")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process = Process.Start(start) ?? throw new InvalidOperationException("bird did not start");
        var bird = new BirdDaemon(process, directory);
        process.OutputDataReceived += (_, e) => bird.Append(e.Data);
        process.ErrorDataReceived += (_, e) => bird.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return bird;
    }

    /// <summary><c>birdc -s SOCKET COMMAND…</c>; its output, or what went wrong.</summary>
    public string Ask(params string[] command)
    {
        CommandResult result = Shell.Run("birdc", ["-s", Socket, .. command], TimeSpan.FromSeconds(10));
        return result.StandardOutput + result.StandardError;
    }

    /// <summary>Polls <c>show protocols</c> until <paramref name="protocol"/> is Established; false after <paramref name="timeout"/>.</summary>
    public bool WaitEstablished(string protocol, TimeSpan timeout, out string last)
    {
        var clock = Stopwatch.StartNew();
        do
        {
            last = Ask("show", "protocols", protocol);
            if (last.Contains("Established", StringComparison.Ordinal))
                return true;
            Thread.Sleep(500);
        }
        while (clock.Elapsed < timeout);
        return false;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                // ip netns exec execs bird, so the process is bird itself.
                _process.Kill(entireProcessTree: false);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover socket file in /tmp is harmless.
        }
    }
}
