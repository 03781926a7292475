using System.Runtime.InteropServices;
using XdpStack.Lab;

namespace XdpStack.Appliance.Demo;

/// <summary>What every demo shares: a fresh lab (after removing what killed earlier runs left), and Ctrl-C or SIGTERM handling that stops whatever runs and removes the lab at once.</summary>
internal sealed class DemoSession
{
    private readonly TextWriter _output;
    private readonly ManualResetEvent _interrupted = new(false);
    private IDisposable? _running;

    private DemoSession(TextWriter output, NetworkLab lab, IReadOnlyList<string> leftovers)
    {
        _output = output;
        Lab = lab;
        Leftovers = leftovers;
    }

    public NetworkLab Lab { get; }

    /// <summary>Namespaces of earlier runs (killed with SIGKILL, say) that were removed before this one started.</summary>
    public IReadOnlyList<string> Leftovers { get; }

    public bool Interrupted => _interrupted.WaitOne(0);

    /// <summary>Runs <paramref name="steps"/> in a new session; returns its exit code, or 130 when interrupted.</summary>
    /// <param name="output">Where the demo prints.</param>
    /// <param name="what">What was stopped, for the line printed on interruption ("reflector", "xdpstack").</param>
    /// <param name="steps">The demo; it registers what it starts with <see cref="Started"/>.</param>
    public static int Run(TextWriter output, string what, Func<DemoSession, int> steps)
    {
        // Only labs whose owning process is gone are touched.
        IReadOnlyList<string> leftovers = NetworkLab.RemoveLeftovers();
        using var lab = new NetworkLab();
        var session = new DemoSession(output, lab, leftovers);
        // Ctrl-C: clean up right here, whatever the main thread is doing. (The lab's own handler removes the
        // namespaces too and may let the signal end the process afterwards; either way nothing is left behind.)
        void OnSignal(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            if (session._interrupted.WaitOne(0))
                return;
            session._interrupted.Set();
            Volatile.Read(ref session._running)?.Dispose();
            lab.Dispose();
            output.WriteLine();
            output.WriteLine($"Interrupted: {what} stopped, lab removed.");
            output.Flush();
        }
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            int code = steps(session);
            return session.Interrupted ? 130 : code;
        }
        catch (Exception) when (session.Interrupted)
        {
            // The lab vanished under a step; the handler has already reported and cleaned up.
            return 130;
        }
    }

    /// <summary>Registers what the demo started, so that an interruption stops it before removing the lab.</summary>
    public void Started(IDisposable running) => Volatile.Write(ref _running, running);

    /// <summary>Prints the line about removed leftovers, if there were any.</summary>
    public void ReportLeftovers()
    {
        if (Leftovers.Count == 0)
            return;
        _output.WriteLine($"0. Removed {Leftovers.Count} namespaces that a killed earlier run left behind: {string.Join(' ', Leftovers)}");
        _output.WriteLine();
    }
}
