using System.Runtime.InteropServices;
using static XdpStack.Lab.Libc;

namespace XdpStack.Lab;

/// <summary>
/// An exclusive flock(2) on <c>/run/xdpstack-lab/TAG.lock</c>, held for as long as a lab with that
/// tag is alive.
/// </summary>
/// <remarks>
/// The kernel drops a flock when the last descriptor of its open file goes, and a process killed
/// with SIGKILL closes all of them, so "the lock can be taken" proves that no live process owns the
/// tag, whatever happened to the owner's PID since. The descriptor is close-on-exec: a child the
/// lab starts (ip, ping) must not keep the lock alive after the owner dies. Only the holder of a
/// lock unlinks its file; someone who locked a file that was unlinked meanwhile holds a lock nobody
/// else can see, so <see cref="TryAcquire"/> notices that and starts over.
/// </remarks>
internal sealed class LabLock : IDisposable
{
    private readonly string _path;
    private int _fd;

    private LabLock(int fd, string path)
    {
        _fd = fd;
        _path = path;
    }

    public static string PathOf(string tag) => Path.Combine(NetworkLab.LockDirectory, tag + ".lock");

    /// <summary>Takes the tag's lock without waiting; null when another open file holds it.</summary>
    public static LabLock? TryAcquire(string tag)
    {
        Directory.CreateDirectory(NetworkLab.LockDirectory);
        string path = PathOf(tag);
        while (true)
        {
            int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x180 /* 0600 */);
            if (fd < 0)
                throw new InvalidOperationException($"open({path}) failed: errno {Marshal.GetLastPInvokeError()}");
            if (flock(fd, LOCK_EX | LOCK_NB) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                close(fd);
                if (errno == EWOULDBLOCK)
                    return null;
                throw new InvalidOperationException($"flock({path}) failed: errno {errno}");
            }
            // The previous holder may have unlinked the file between our open and our flock; the
            // kernel then marks the descriptor's path " (deleted)".
            string? target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
            if (target is not null && !target.EndsWith(" (deleted)", StringComparison.Ordinal))
                return new LabLock(fd, path);
            close(fd);
        }
    }

    /// <summary>Removes the lock file, then lets go of the lock.</summary>
    public void Dispose() => Release(removeFile: true);

    /// <summary>
    /// Lets go of the lock but leaves the file, so a later sweep still finds the tag (used when
    /// some of its namespaces could not be removed).
    /// </summary>
    public void ReleaseKeepingFile() => Release(removeFile: false);

    private void Release(bool removeFile)
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0)
            return;
        if (removeFile)
            File.Delete(_path);
        close(fd);
    }
}
