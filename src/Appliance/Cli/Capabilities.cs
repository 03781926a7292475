using System.Globalization;

namespace XdpStack.Appliance.Cli;

/// <summary>Checks the process's effective capabilities and memlock limit before touching the kernel.</summary>
internal static class Capabilities
{
    public const int CAP_NET_ADMIN = 12;
    public const int CAP_NET_RAW = 13;
    public const int CAP_IPC_LOCK = 14;
    public const int CAP_SYS_ADMIN = 21;
    public const int CAP_BPF = 39;

    /// <summary>The effective capability mask of this process (CapEff in /proc/self/status).</summary>
    public static ulong Effective()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        return 0;
    }

    /// <summary>The soft RLIMIT_MEMLOCK in bytes, or null when unlimited.</summary>
    public static ulong? MemlockLimit()
    {
        foreach (string line in File.ReadLines("/proc/self/limits"))
        {
            if (!line.StartsWith("Max locked memory", StringComparison.Ordinal))
                continue;
            string[] fields = line["Max locked memory".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields[0] == "unlimited" ? null : ulong.Parse(fields[0], CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary>
    /// Describes what is missing to run AF_XDP sockets with <paramref name="umemBytes"/> of UMEM,
    /// or returns null when nothing is.
    /// </summary>
    public static string? Missing(ulong effective, ulong? memlockLimit, ulong umemBytes)
    {
        var missing = new List<string>();
        if (!Has(effective, CAP_NET_ADMIN))
            missing.Add("CAP_NET_ADMIN");
        if (!Has(effective, CAP_NET_RAW))
            missing.Add("CAP_NET_RAW");
        if (!Has(effective, CAP_BPF) && !Has(effective, CAP_SYS_ADMIN))
            missing.Add("CAP_BPF");
        if (missing.Count > 0)
            return $"missing privileges: {string.Join(", ", missing)} (run as root, e.g. with sudo)";
        // Without CAP_IPC_LOCK the kernel charges UMEM pages to RLIMIT_MEMLOCK and refuses
        // registration with ENOBUFS beyond it.
        if (!Has(effective, CAP_IPC_LOCK) && memlockLimit is ulong limit && limit < umemBytes)
            return $"the locked-memory limit ({limit / 1024} KiB) is below the {umemBytes / 1024} KiB of UMEM needed: run 'ulimit -l unlimited' first or grant CAP_IPC_LOCK";
        return null;
    }

    private static bool Has(ulong mask, int capability) => (mask & (1UL << capability)) != 0;
}
