using System.Diagnostics;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Lab;

/// <summary>
/// <see cref="NetworkLab.RemoveLeftovers"/> against live labs and abandoned ones. In the xdpstack
/// process collection because a sweep here would also remove the leftovers a demo test is
/// looking at.
/// </summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class NetworkLabLeftoverTests
{
    [Fact]
    public void RemoveLeftovers_LabOfALiveProcess_LeavesItAlone()
    {
        using var lab = new NetworkLab();
        NetNamespace a = lab.AddNamespace("a"), b = lab.AddNamespace("b");
        (string va, _) = lab.AddVeth(a, b);

        IReadOnlyList<string> removed = NetworkLab.RemoveLeftovers();

        Assert.DoesNotContain(a.Name, removed);
        Assert.Contains(a.Name, Shell.Check("ip", "netns", "list"));
        Assert.Contains(va, a.Ip("-br", "link", "show", "dev", va));
    }

    [Fact]
    public void RemoveLeftovers_OwnerPidGoneButLockStillHeld_RemovesOnlyOnceTheLockIsFree()
    {
        // A lab whose tag names a PID that no longer exists, while another process still holds
        // its lock (as a child that inherited the descriptor would): the PID alone must not be
        // enough.
        int deadPid = DeadPid();
        string tag = NetworkLab.OwnerPrefix(deadPid) + "99", name = tag + "-t";
        string lockFile = Path.Combine(NetworkLab.LockDirectory, tag + ".lock");
        Directory.CreateDirectory(NetworkLab.LockDirectory);
        Shell.Check("ip", "netns", "add", name);
        Process holder = StartLockHolder(lockFile);
        try
        {
            IReadOnlyList<string> whileHeld = NetworkLab.RemoveLeftovers();

            Assert.DoesNotContain(name, whileHeld);
            Assert.Contains(name, Shell.Check("ip", "netns", "list"));

            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
            IReadOnlyList<string> afterwards = NetworkLab.RemoveLeftovers();

            Assert.Contains(name, afterwards);
            Assert.DoesNotContain(name, Shell.Check("ip", "netns", "list"));
            Assert.False(File.Exists(lockFile));
        }
        finally
        {
            if (!holder.HasExited)
                holder.Kill(entireProcessTree: true);
            holder.Dispose();
            Shell.Run("ip", "netns", "del", name);
            File.Delete(lockFile);
        }
    }

    [Fact]
    public void RemoveLeftovers_NamespaceWithoutLockFile_IsNeverTouched()
    {
        // Named like a lab of a dead process, but nothing says a lab made it.
        int deadPid = DeadPid();
        string name = NetworkLab.OwnerPrefix(deadPid) + "98-t";
        Shell.Check("ip", "netns", "add", name);
        try
        {
            IReadOnlyList<string> removed = NetworkLab.RemoveLeftovers();

            Assert.DoesNotContain(name, removed);
            Assert.Contains(name, Shell.Check("ip", "netns", "list"));
        }
        finally
        {
            Shell.Run("ip", "netns", "del", name);
        }
    }

    private static int DeadPid()
    {
        using Process exited = Process.Start("true");
        exited.WaitForExit();
        Assert.False(Directory.Exists($"/proc/{exited.Id}"));
        return exited.Id;
    }

    /// <summary>Starts flock(1) holding an exclusive lock on the file; returns once it has it.</summary>
    /// <remarks>
    /// With --close only flock itself holds the lock, not the shell it starts, so the lock is
    /// free as soon as flock has been reaped.
    /// </remarks>
    private static Process StartLockHolder(string lockFile)
    {
        var psi = new ProcessStartInfo("flock") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in (string[])["--exclusive", "--close", lockFile, "-c", "echo locked; exec sleep 60"])
            psi.ArgumentList.Add(a);
        Process holder = Process.Start(psi)!;
        Assert.Equal("locked", holder.StandardOutput.ReadLine());
        return holder;
    }
}
