using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace XdpStack.Lab;

/// <summary>
/// A set of network namespaces joined by veth pairs, owned by one test, demo or benchmark run.
/// </summary>
/// <remarks>
/// Every name a lab creates starts with its tag, <c>x{pid}l{n}</c>: the owner's process id and a
/// per-process counter. Parallel runs never collide, the owner of a leftover can be read off its
/// name, and veth names stay within the kernel's 15-character interface-name limit. Everything is
/// removed on <see cref="Dispose"/>, on process exit, and on SIGINT/SIGTERM; removing a namespace
/// removes the veths, XDP programs and BPF links inside it. A process killed with SIGKILL runs
/// none of that, so a lab also holds a lock file in <see cref="LockDirectory"/> for as long as it
/// lives, and <see cref="RemoveLeftovers"/> removes the labs of owners that are gone. Only
/// addresses from 198.18.0.0/15 and 2001:2::/48 should be put on lab interfaces.
/// </remarks>
public sealed partial class NetworkLab : IDisposable
{
    /// <summary>Where each live lab keeps the locked file that marks its owner as alive.</summary>
    public const string LockDirectory = "/run/xdpstack-lab";

    private const string NetnsDirectory = "/run/netns";
    private const int MaxInterfaceNameLength = 15;
    // Two digits: with a 7-digit PID (pid_max is at most 2^22) the tag is 11 characters, which
    // leaves room for "v99a" in a veth name.
    private const int TagsPerProcess = 100;

    private static int s_counter;
    private static readonly List<NetworkLab> s_live = [];
    private static PosixSignalRegistration? s_sigterm;
    private static PosixSignalRegistration? s_sigint;

    private readonly List<NetNamespace> _namespaces = [];
    private readonly Lock _gate = new();
    private readonly string _tag;
    private readonly LabLock _lock;
    private int _veths;
    private bool _disposed;

    public NetworkLab()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("network labs need Linux");
        (_tag, _lock) = ClaimTag();
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

    /// <summary>The prefix of every name (namespace, veth, lock file) that labs of process <paramref name="pid"/> create.</summary>
    public static string OwnerPrefix(int pid) => $"x{pid}l";

    /// <summary>Creates a namespace with loopback up.</summary>
    public NetNamespace AddNamespace(string role)
    {
        var ns = new NetNamespace($"{_tag}-{role}");
        // Under the gate so that a Dispose on a signal thread either sees the namespace or
        // stops it from being made.
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Shell.Check("ip", "netns", "add", ns.Name);
            _namespaces.Add(ns);
        }
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
        int n = Interlocked.Increment(ref _veths) - 1;
        string nameA = $"{_tag}v{n}a", nameB = $"{_tag}v{n}b";
        if (nameA.Length > MaxInterfaceNameLength)
            throw new InvalidOperationException($"lab {_tag} has no veth names left ({nameA} is longer than {MaxInterfaceNameLength})");
        // Both ends are made inside their namespaces, never in the caller's, so removing the
        // namespaces removes every veth.
        string q = queues.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Shell.Check("ip", "link", "add", nameA, "netns", a.Name, "mtu", mtu.ToString(), "numtxqueues", q, "numrxqueues", q,
            "type", "veth", "peer", "name", nameB, "netns", b.Name, "mtu", mtu.ToString(), "numtxqueues", q, "numrxqueues", q);
        a.Ip("link", "set", nameA, "up");
        b.Ip("link", "set", nameB, "up");
        return (nameA, nameB);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _namespaces.Clear();
            // By tag rather than by the list: a namespace whose set-up failed half-way goes too.
            if (RemoveNamespacesTagged(_tag, removed: null))
                _lock.Dispose();
            else
                _lock.ReleaseKeepingFile();
        }
        lock (s_live)
            s_live.Remove(this);
    }

    /// <summary>
    /// Removes the namespaces (and with them the veths) of labs whose owner ended without
    /// removing them, typically killed with SIGKILL, and returns the names it removed.
    /// </summary>
    /// <remarks>
    /// A lab counts as abandoned only when no process has the PID in its tag and its lock file can
    /// be locked. Either alone would do in the usual case; asking for both means that a mistake in
    /// one (a sweeper in another PID namespace, a PID reused by an unrelated process) can only make
    /// a sweep leave a lab for later, never remove a live one. Namespaces without a lock file are
    /// never touched, whatever their names.
    /// </remarks>
    public static IReadOnlyList<string> RemoveLeftovers()
    {
        var removed = new List<string>();
        if (!Directory.Exists(LockDirectory))
            return removed;
        foreach (string file in Directory.EnumerateFiles(LockDirectory, "*.lock"))
        {
            string tag = Path.GetFileNameWithoutExtension(file);
            Match m = TagPattern().Match(tag);
            if (!m.Success || ProcessExists(int.Parse(m.Groups[1].ValueSpan)))
                continue;
            LabLock? held = LabLock.TryAcquire(tag);
            if (held is null)
                continue;
            if (RemoveNamespacesTagged(tag, removed))
                held.Dispose();
            else
                held.ReleaseKeepingFile();
        }
        return removed;
    }

    private static (string Tag, LabLock Lock) ClaimTag()
    {
        string prefix = OwnerPrefix(Environment.ProcessId);
        for (int tries = 0; tries < TagsPerProcess; tries++)
        {
            string tag = prefix + (Interlocked.Increment(ref s_counter) % TagsPerProcess);
            // Busy only when the counter wrapped onto a lab of this process that is still alive.
            LabLock? held = LabLock.TryAcquire(tag);
            if (held is null)
                continue;
            // Holding the lock proves no live lab owns the tag: namespaces by that name are what
            // an earlier process with this PID left behind.
            RemoveNamespacesTagged(tag, removed: null);
            return (tag, held);
        }
        throw new InvalidOperationException($"all {TagsPerProcess} lab tags of process {Environment.ProcessId} are in use");
    }

    /// <summary>Deletes every namespace named TAG-*; true when none is left.</summary>
    private static bool RemoveNamespacesTagged(string tag, List<string>? removed)
    {
        if (!Directory.Exists(NetnsDirectory))
            return true;
        bool allGone = true;
        foreach (string path in Directory.EnumerateFiles(NetnsDirectory, tag + "-*").ToList())
        {
            string name = Path.GetFileName(path);
            Shell.Run("ip", "netns", "del", name);
            if (File.Exists(path))
                allGone = false;
            else
                removed?.Add(name);
        }
        return allGone;
    }

    // A process that is gone but not yet reaped (a zombie) still counts: its parent may yet
    // look at it, and a sweep later on finds the lab all the same.
    private static bool ProcessExists(int pid) => Directory.Exists($"/proc/{pid}");

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

    [GeneratedRegex(@"^x(\d{1,7})l\d{1,2}$")]
    private static partial Regex TagPattern();
}
