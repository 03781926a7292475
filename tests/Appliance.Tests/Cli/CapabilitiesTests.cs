using XdpStack.Appliance.Cli;

namespace XdpStack.Appliance.Tests.Cli;

public sealed class CapabilitiesTests
{
    private const ulong All = (1UL << 41) - 1;

    [Fact]
    public void Missing_AllCapabilities_ReturnsNull() =>
        Assert.Null(Capabilities.Missing(All, memlockLimit: 64 * 1024, umemBytes: 1 << 30));

    [Fact]
    public void Missing_NoNetRaw_NamesIt()
    {
        string? message = Capabilities.Missing(All & ~(1UL << Capabilities.CAP_NET_RAW), null, 0);
        Assert.NotNull(message);
        Assert.Contains("CAP_NET_RAW", message);
        Assert.DoesNotContain("CAP_NET_ADMIN", message);
    }

    [Fact]
    public void Missing_SysAdminInsteadOfBpf_IsEnough() =>
        Assert.Null(Capabilities.Missing(All & ~(1UL << Capabilities.CAP_BPF), null, 0));

    [Fact]
    public void Missing_NoIpcLockAndSmallMemlock_ExplainsTheLimit()
    {
        string? message = Capabilities.Missing(All & ~(1UL << Capabilities.CAP_IPC_LOCK), 8 * 1024 * 1024, 16 * 1024 * 1024);
        Assert.NotNull(message);
        Assert.Contains("8192 KiB", message);
        Assert.Contains("ulimit -l", message);
    }

    [Fact]
    public void Missing_NoIpcLockButUnlimitedMemlock_ReturnsNull() =>
        Assert.Null(Capabilities.Missing(All & ~(1UL << Capabilities.CAP_IPC_LOCK), null, 1 << 30));

    [Fact]
    public void Effective_AsRoot_ParsesProcStatus() =>
        Assert.NotEqual(0UL, Capabilities.Effective() & (1UL << Capabilities.CAP_NET_ADMIN));
}
