using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Interop;

/// <summary>Names and descriptions of errno values, for error messages that can be grepped.</summary>
internal static class Errno
{
    /// <summary>The symbolic name of an errno value (ENOBUFS), or "errno N" when unknown.</summary>
    internal static string Name(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        22 => "EINVAL",
        24 => "EMFILE",
        28 => "ENOSPC",
        34 => "ERANGE",
        38 => "ENOSYS",
        88 => "ENOTSOCK",
        90 => "EMSGSIZE",
        93 => "EPROTONOSUPPORT",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        100 => "ENETDOWN",
        105 => "ENOBUFS",
        110 => "ETIMEDOUT",
        524 => "ENOTSUPP",
        _ => "errno " + errno,
    };

    /// <summary>The C library's description of an errno value.</summary>
    internal static string Describe(int errno) =>
        // 524 is kernel-internal and has no strerror text; it escapes from some bpf paths.
        errno == 524 ? "Operation is not supported (kernel ENOTSUPP)" : Marshal.GetPInvokeErrorMessage(errno);
}
