using System.Runtime.InteropServices;

namespace XdpStack.Lab;

/// <summary>
/// A set of network namespaces joined by veth pairs, owned by one test, demo or benchmark run.
/// </summary>
/// <remarks>
/// Names carry the process id and a per-process counter, so parallel runs never collide, and
/// stay within the kernel's 15-character interface-name limit. Everything is removed on
/// <see cref="Dispose"/>, on process exit, and on SIGINT/SIGTERM; removing a namespace removes
/// the veths, XDP programs and BPF links inside it. Only addresses from 198.18.0.0/15 and
/// 2001:2::/48 should be put on lab interfaces.
/// </remarks>
public sealed class NetworkLab : IDisposable
{
    private static int s_counter;
    private static readonly List<NetworkLab> s_live = [];
    private static PosixSignalRegistration? s_sigterm;
    private static PosixSignalRegistration? s_sigint;

    private readonly List<NetNamespace> _namespaces = [];
    private readonly string _tag;
    private int _veths;
    private bool _disposed;

    public NetworkLab()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("network labs need Linux");
        _tag = $"x{Environment.ProcessId % 100000}{Interlocked.Increment(ref s_counter) % 100}";
        lock (s_live)
        {
            s_live.Add(this);
            if (s_sigterm is null)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeAll();
                s_sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
                s_sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            }
        }
    }

    /// <summary>A short prefix unique to this lab, used in every name it creates.</summary>
    public string Tag => _tag;

    public IReadOnlyList<NetNamespace> Namespaces => _namespaces;

    /// <summary>Creates a namespace with loopback up.</summary>
    public NetNamespace AddNamespace(string role)
    {
        var ns = new NetNamespace($"{_tag}-{role}");
        Shell.Check("ip", "netns", "add", ns.Name);
        _namespaces.Add(ns);
        ns.Ip("link", "set", "lo", "up");
        return ns;
    }

    /// <summary>
    /// Creates a veth pair with one end in each namespace, both ends up. Returns the two
    /// interface names (each at most 15 characters). <paramref name="queues"/> RX and TX queues
    /// per end let a test spread flows over queues as a multi-queue NIC would.
    /// </summary>
    public (string A, string B) AddVeth(NetNamespace a, NetNamespace b, int mtu = 1500, int queues = 1)
    {
        int n = _veths++;
        string nameA = $"{_tag}v{n}a", nameB = $"{_tag}v{n}b";
        string q = queues.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Shell.Check("ip", "link", "add", nameA, "netns", a.Name, "mtu", mtu.ToString(), "numtxqueues", q, "numrxqueues", q,
            "type", "veth", "peer", "name", nameB, "netns", b.Name, "mtu", mtu.ToString(), "numtxqueues", q, "numrxqueues", q);
        a.Ip("link", "set", nameA, "up");
        b.Ip("link", "set", nameB, "up");
        return (nameA, nameB);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (NetNamespace ns in _namespaces)
            Shell.Run("ip", "netns", "del", ns.Name);
        _namespaces.Clear();
        lock (s_live)
            s_live.Remove(this);
    }

    private static void OnSignal(PosixSignalContext context)
    {
        DisposeAll();
        // Let the default handling (or the app's own registration) end the process.
        context.Cancel = false;
    }

    private static void DisposeAll()
    {
        NetworkLab[] labs;
        lock (s_live)
            labs = [.. s_live];
        foreach (NetworkLab lab in labs)
            lab.Dispose();
    }
}
