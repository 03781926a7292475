using System.Net.Sockets;

namespace XdpStack.Appliance.Control;

/// <summary>The root-only Unix stream socket behind <c>xdpstack show</c>, <c>stats</c> and <c>capture</c>, served by control threads of <c>xdpstack run</c>.</summary>
/// <remarks>
/// <para>
/// <see cref="Bind"/> runs before any interface is touched, so a second appliance with the same socket fails early.
/// The socket file is created with mode 0600 (umask 0177 around bind(2), then chmod) and owned by the user that runs
/// the appliance (root) until the privilege drop hands it to the appliance's user (<see cref="HandTo"/>), and every
/// connection from a process that is not root is closed at once (SO_PEERCRED); a missing parent directory is created with mode 0700, and the default directory
/// (<c>/run/xdpstack</c>) is held at 0700 even when it exists. A socket file left by a killed appliance (nobody
/// accepts on it) is replaced; a live one, or a file that is not a socket, is refused.
/// </para>
/// <para>
/// One accept thread, and one thread per connection (a capture or a <c>stats</c> view holds its connection for as
/// long as it runs), none on a worker core. <see cref="Dispose"/> closes every connection, joins the threads and
/// removes the socket file; the appliance calls it on SIGTERM and SIGINT before it stops the workers.
/// </para>
/// </remarks>
internal sealed partial class ControlServer : IDisposable
{
    /// <summary>Where <c>xdpstack run</c> listens and the commands connect unless told otherwise.</summary>
    public const string DefaultPath = "/run/xdpstack/control.sock";

    private bool _ownsDirectory;

    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<(Socket Socket, Thread Thread)> _connections = [];
    private Thread? _acceptThread;
    private bool _disposed;

    private ControlServer(string path, Socket listener)
    {
        Path = path;
        _listener = listener;
    }

    public string Path { get; }

    /// <summary>Creates the socket file and listens; serves nothing until <see cref="Serve"/>.</summary>
    /// <exception cref="ApplianceException">Another appliance serves the path, the path is not a socket, or it cannot be created.</exception>
    public static ControlServer Bind(string path)
    {
        // Linux only, as the whole appliance; the guard tells the platform analyzer so.
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException();
        string full = System.IO.Path.GetFullPath(path);
        bool madeDirectory = PrepareDirectory(full);
        RemoveStale(full);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // Nobody may connect between bind(2) and the chmod below: the file is born 0600.
            Tmds.Linux.mode_t previous = Tmds.Linux.LibC.umask(0x7F); // 0177
            try
            {
                listener.Bind(new UnixDomainSocketEndPoint(full));
            }
            finally
            {
                Tmds.Linux.LibC.umask(previous);
            }
            File.SetUnixFileMode(full, SocketMode);
            listener.Listen(16);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new ApplianceException($"control socket {full}: bind failed: {e.Message}", e);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new ControlServer(full, listener) { _ownsDirectory = madeDirectory };
    }

    /// <summary>Starts answering requests about the running appliance.</summary>
    public void Serve(ApplianceView view)
    {
        var handler = new ControlHandler(view, _stopping.Token);
        _acceptThread = new Thread(() => AcceptLoop(handler)) { IsBackground = true, Name = "xdpstack control" };
        _acceptThread.Start();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _stopping.Cancel();
        _listener.Dispose();
        _acceptThread?.Join();
        (Socket Socket, Thread Thread)[] connections;
        lock (_gate)
            connections = [.. _connections];
        foreach ((Socket socket, _) in connections)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already gone.
            }
        }
        foreach ((_, Thread thread) in connections)
            thread.Join(TimeSpan.FromSeconds(1));
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed by hand meanwhile, or not ours to remove any more: the next start replaces a stale file.
        }
        _stopping.Dispose();
    }

    private void AcceptLoop(ControlHandler handler)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Dispose closed the listener; anything else ends the control thread quietly and the appliance runs on.
                return;
            }
            if (!IsRoot(client))
            {
                // After the privilege drop the socket file belongs to the appliance's own user; the socket stays root's.
                client.Dispose();
                continue;
            }
            var thread = new Thread(() => ServeConnection(handler, client)) { IsBackground = true, Name = "xdpstack control client" };
            lock (_gate)
            {
                if (_disposed)
                {
                    client.Dispose();
                    return;
                }
                _connections.Add((client, thread));
            }
            thread.Start();
        }
    }

    // SO_PEERCRED: the connecting process's pid, uid and gid at connect(2).
    private static bool IsRoot(Socket client)
    {
        Span<byte> credentials = stackalloc byte[12];
        try
        {
            return client.GetRawSocketOption(1, 17, credentials) == 12 && BitConverter.ToUInt32(credentials[4..]) == 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Gives the socket file (and the default directory) to <paramref name="user"/>, so that the process can still remove them at the stop once it runs as that user; connections stay root-only (SO_PEERCRED).</summary>
    public void HandTo(Config.RunAsUser user)
    {
        if (chown(Path, user.Uid, user.Gid) != 0)
            throw new ApplianceException($"control socket {Path}: chown to {user.Name} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
        // A directory the appliance manages (it made it, or it is the default one, held at 0700) goes along, so the
        // file can be removed from it; a directory of someone else's keeps its owner, and a file left there is
        // replaced by the next start.
        string directory = System.IO.Path.GetDirectoryName(Path) ?? "/";
        if (_ownsDirectory || directory == System.IO.Path.GetDirectoryName(DefaultPath))
            chown(directory, user.Uid, user.Gid);
    }

    [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    private static partial int chown(string path, uint owner, uint group);

    private void ServeConnection(ControlHandler handler, Socket client)
    {
        try
        {
            handler.Serve(client);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client went away mid-reply.
        }
        finally
        {
            lock (_gate)
                _connections.RemoveAll(c => ReferenceEquals(c.Socket, client));
            client.Dispose();
        }
    }

    // True when it created the directory.
    private static bool PrepareDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException();
        string directory = System.IO.Path.GetDirectoryName(path) ?? "/";
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode);
            return true;
        }
        if (directory == System.IO.Path.GetDirectoryName(DefaultPath))
            File.SetUnixFileMode(directory, DirectoryMode);
        return false;
    }

    private static void RemoveStale(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path) && new FileInfo(path).LinkTarget is null)
            return;
        if (!IsSocket(path))
            throw new ApplianceException($"control socket {path} exists and is not a socket; remove it or choose another path (--socket)");
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Left by an appliance that was killed (kill -9 runs no cleanup): nobody accepts on it.
            File.Delete(path);
            return;
        }
        throw new ApplianceException($"control socket {path} is served by a running appliance (another xdpstack run?); stop it or choose another path (--socket)");
    }

    // statx(2) without following a symbolic link: a link to a socket is not our socket file.
    private static unsafe bool IsSocket(string path)
    {
        Tmds.Linux.statx st;
        byte[] name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = name)
        {
            if (Tmds.Linux.LibC.statx(Tmds.Linux.LibC.AT_FDCWD, p, Tmds.Linux.LibC.AT_SYMLINK_NOFOLLOW, Tmds.Linux.LibC.STATX_TYPE, &st) != 0)
                return false;
        }
        return (st.stx_mode & Tmds.Linux.LibC.S_IFMT) == Tmds.Linux.LibC.S_IFSOCK;
    }
}
