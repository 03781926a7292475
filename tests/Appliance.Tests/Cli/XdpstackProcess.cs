using System.Diagnostics;
using System.Text;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Cli;

/// <summary>The real <c>xdpstack</c> program started as a child process (optionally inside a lab namespace).</summary>
internal sealed class XdpstackProcess : IDisposable
{
    // Time for a demo to stop its reflector and remove its lab on SIGTERM before it is killed.
    private static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private XdpstackProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>
    /// Test classes that start xdpstack processes share this collection, so they run one at a
    /// time: on two CPUs, parallel runtimes starting up skew every timing the tests rely on.
    /// </summary>
    public const string Collection = "xdpstack processes";

    /// <summary>The xdpstack.dll the build put next to this test assembly.</summary>
    public static string DllPath
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, "xdpstack.dll");
            Assert.True(File.Exists(path) && File.Exists(Path.ChangeExtension(path, ".runtimeconfig.json")), "xdpstack.dll is not in the test output");
            return path;
        }
    }

    /// <summary>The control socket of this test run's appliances (they run one at a time), unless a test passes --socket.</summary>
    public static string TestSocket { get; } = Path.Combine(Path.GetTempPath(), $"xdpstack-test-{Environment.ProcessId}.sock");

    public int Id => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    public string StandardOutput { get { lock (_stdout) return _stdout.ToString(); } }

    public string StandardError { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>Starts <c>dotnet xdpstack.dll ARGS</c>, under <c>ip netns exec</c> when a namespace is given.</summary>
    public static XdpstackProcess Start(NetNamespace? ns, params string[] args) => Start(ns, args, null);

    /// <summary>As <see cref="Start(NetNamespace?, string[])"/>, with <paramref name="environment"/> added to the child's environment.</summary>
    public static XdpstackProcess Start(NetNamespace? ns, string[] args, IReadOnlyDictionary<string, string>? environment) =>
        Start(ns, args, environment, wrapper: null);

    /// <summary>
    /// As <see cref="Start(NetNamespace?, string[], IReadOnlyDictionary{string, string}?)"/>, with <c>dotnet</c> run
    /// through <paramref name="wrapper"/> (a command that execs its arguments, such as <c>setpriv</c>), inside the namespace.
    /// </summary>
    public static XdpstackProcess Start(NetNamespace? ns, string[] args, IReadOnlyDictionary<string, string>? environment, IReadOnlyList<string>? wrapper)
    {
        // env puts SIGINT and SIGHUP back to their defaults first: a test run started in the background of a
        // non-interactive shell inherits SIGINT ignored, one started under nohup inherits SIGHUP ignored, and the
        // runtime keeps an inherited ignore, so Ctrl-C tests could not interrupt and reloads never happened.
        // env and ip netns exec (and a wrapper such as setpriv) exec in place, so the pid is the dotnet process itself.
        var psi = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--default-signal=INT,HUP");
        if (ns is not null)
        {
            foreach (string a in (string[])["ip", "netns", "exec", ns.Name])
                psi.ArgumentList.Add(a);
        }
        foreach (string w in wrapper ?? [])
            psi.ArgumentList.Add(w);
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(DllPath);
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        // Not /run/xdpstack/control.sock: test runs of other worktrees may have an appliance running at the same time.
        psi.Environment["XDPSTACK_SOCKET"] = TestSocket;
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
            psi.Environment[name] = value;
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        return new XdpstackProcess(process);
    }

    /// <summary>Runs xdpstack to completion and returns its exit code and output.</summary>
    public static CommandResult Run(NetNamespace? ns, TimeSpan timeout, params string[] args)
    {
        using XdpstackProcess p = Start(ns, args);
        int code = p.WaitForExit(timeout);
        return new CommandResult(code, p.StandardOutput, p.StandardError);
    }

    /// <summary>Waits until stdout contains <paramref name="text"/>; fails the test if the process exits first or time runs out.</summary>
    public void WaitForOutput(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!StandardOutput.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // delivers the last lines
                if (StandardOutput.Contains(text, StringComparison.Ordinal))
                    return;
                Assert.Fail($"xdpstack exited with {_process.ExitCode} before printing '{text}'.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
            }
            if (clock.Elapsed > timeout)
                Assert.Fail($"xdpstack did not print '{text}' within {timeout}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Waits until stderr contains <paramref name="text"/>; fails the test if time runs out.</summary>
    public void WaitForError(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!StandardError.Contains(text, StringComparison.Ordinal))
        {
            if (clock.Elapsed > timeout)
                Assert.Fail($"xdpstack did not print '{text}' on stderr within {timeout}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Sends HUP, INT, TERM, KILL, STOP or CONT to the process (kill(2) directly: procps may not be installed).</summary>
    public void Signal(string signal)
    {
        int number = signal switch { "HUP" => 1, "INT" => 2, "KILL" => 9, "TERM" => 15, "CONT" => 18, "STOP" => 19, _ => throw new ArgumentException(signal) };
        Assert.Equal(0, Tmds.Linux.LibC.kill(Id, number));
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            // Where each thread waits, read before the process is killed: a slow stop is otherwise a guess.
            string threads = ThreadStates();
            Stop();
            Assert.Fail($"xdpstack did not exit within {timeout}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}\nthreads:\n{threads}");
        }
        _process.WaitForExit(); // flushes the asynchronous readers
        return _process.ExitCode;
    }

    // Name, state and kernel wait channel of every thread, plus the kernel stack where readable (root).
    private string ThreadStates()
    {
        var lines = new List<string>();
        try
        {
            foreach (string task in Directory.GetDirectories($"/proc/{Id}/task"))
            {
                string Read(string file)
                {
                    try
                    {
                        return File.ReadAllText(Path.Combine(task, file)).Trim();
                    }
                    catch (IOException)
                    {
                        return "?";
                    }
                    catch (UnauthorizedAccessException)
                    {
                        return "?";
                    }
                }
                string state = Read("stat").Split(')').LastOrDefault()?.Trim().Split(' ').FirstOrDefault() ?? "?";
                lines.Add($"{Path.GetFileName(task)} {Read("comm")} state {state} wchan {Read("wchan")}");
                string stack = Read("stack");
                if (stack.Length > 0 && stack != "?")
                    lines.AddRange(stack.Split('\n').Take(8).Select(l => "    " + l));
            }
        }
        catch (DirectoryNotFoundException)
        {
            lines.Add("(exited meanwhile)");
        }
        return string.Join('\n', lines);
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    /// <summary>
    /// Ends a process that outlived its test: SIGTERM first, which lets a demo remove its own lab,
    /// then SIGKILL for the whole tree, then a sweep for the lab a killed demo could not remove.
    /// </summary>
    private void Stop()
    {
        if (_process.HasExited)
            return;
        Tmds.Linux.LibC.kill(Id, 15);
        if (!_process.WaitForExit(TermGrace))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        NetworkLab.RemoveLeftovers();
    }
}
