using System.Runtime.InteropServices;
using static XdpStack.Lab.Libc;

namespace XdpStack.Lab;

/// <summary>A network namespace created by a <see cref="NetworkLab"/>, with helpers to run commands in it.</summary>
public sealed class NetNamespace
{
    internal NetNamespace(string name) => Name = name;

    /// <summary>The name under /run/netns.</summary>
    public string Name { get; }

    /// <summary>Runs a program inside the namespace.</summary>
    public CommandResult Run(string program, params string[] args) =>
        Shell.Run("ip", ["netns", "exec", Name, program, .. args]);

    /// <summary>Runs a program inside the namespace with a time limit.</summary>
    public CommandResult Run(TimeSpan timeout, string program, params string[] args) =>
        Shell.Run("ip", ["netns", "exec", Name, program, .. args], timeout);

    /// <summary>Runs a program inside the namespace and throws if it fails.</summary>
    public string Check(string program, params string[] args) =>
        Shell.Check("ip", ["netns", "exec", Name, program, .. args]);

    /// <summary>Runs <c>ip ARGS</c> inside the namespace and throws if it fails.</summary>
    public string Ip(params string[] args) => Shell.Check("ip", ["-n", Name, .. args]);

    /// <summary>
    /// Moves the calling thread into this namespace until the returned scope is disposed.
    /// </summary>
    /// <remarks>
    /// setns(2) with CLONE_NEWNET changes only the calling thread, and threads it creates afterwards
    /// inherit the namespace, so sockets, BPF links and ifindex lookups made on this thread (and
    /// on worker threads it starts) all see the namespace. Keep the work synchronous on one thread:
    /// an <c>await</c> may resume elsewhere.
    /// </remarks>
    public IDisposable Enter()
    {
        int previous = OpenNamespaceFd("/proc/thread-self/ns/net");
        int target = OpenNamespaceFd("/run/netns/" + Name);
        try
        {
            if (setns(target, CLONE_NEWNET) != 0)
                throw new InvalidOperationException($"setns({Name}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            close(target);
        }
        return new Scope(previous);
    }

    private static int OpenNamespaceFd(string path)
    {
        int fd = open(path, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
            throw new InvalidOperationException($"open({path}) failed: errno {Marshal.GetLastPInvokeError()}");
        return fd;
    }

    private sealed class Scope(int previousFd) : IDisposable
    {
        private int _fd = previousFd;

        public void Dispose()
        {
            if (_fd < 0)
                return;
            int rc = setns(_fd, CLONE_NEWNET);
            close(_fd);
            _fd = -1;
            if (rc != 0)
                Environment.FailFast("could not return the thread to its original network namespace");
        }
    }
}
