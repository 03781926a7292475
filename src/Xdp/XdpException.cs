using XdpStack.Xdp.Interop;

namespace XdpStack.Xdp;

/// <summary>A kernel call made by this library failed; the message names the call and the errno.</summary>
/// <remarks>
/// Messages read like <c>setsockopt(XDP_UMEM_REG) failed: ENOBUFS (No buffer space available)</c>,
/// followed by what to do about it where that is known.
/// </remarks>
public sealed class XdpException : Exception
{
    /// <summary>Creates an exception for a failure that is not a single failed call.</summary>
    public XdpException(string message) : base(message)
    {
        Call = "";
    }

    /// <summary>Creates an exception for a failed call with its errno and an optional hint.</summary>
    public XdpException(string call, int errno, string? hint = null)
        : base(Format(call, errno, hint))
    {
        Call = call;
        Errno = errno;
    }

    /// <summary>The call that failed, e.g. <c>bind(AF_XDP)</c>; empty when no single call failed.</summary>
    public string Call { get; }

    /// <summary>The errno the call returned; 0 when no single call failed.</summary>
    public int Errno { get; }

    /// <summary>The symbolic name of <see cref="Errno"/> (EBUSY, ENOBUFS, ...), empty when 0.</summary>
    public string ErrnoName => Errno == 0 ? "" : Interop.Errno.Name(Errno);

    private static string Format(string call, int errno, string? hint)
    {
        string text = $"{call} failed: {Interop.Errno.Name(errno)} ({Interop.Errno.Describe(errno)})";
        return string.IsNullOrEmpty(hint) ? text : text + ". " + hint;
    }

    /// <summary>Throws for the errno of the call that just failed.</summary>
    internal static XdpException FromErrno(string call, string? hint = null) => new(call, Kernel.Errno, hint);
}
