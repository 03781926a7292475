namespace XdpStack.Xdp.Tests;

public sealed class XdpExceptionTests
{
    [Fact]
    public void Message_NamesCallErrnoAndText()
    {
        var e = new XdpException("setsockopt(XDP_UMEM_REG)", 105);
        Assert.Equal("setsockopt(XDP_UMEM_REG) failed: ENOBUFS (No buffer space available)", e.Message);
        Assert.Equal("ENOBUFS", e.ErrnoName);
        Assert.Equal(105, e.Errno);
        Assert.Equal("setsockopt(XDP_UMEM_REG)", e.Call);
    }

    [Fact]
    public void Message_WithHint_AppendsIt()
    {
        var e = new XdpException("bind(AF_XDP)", 16, "queue 0 is in use");
        Assert.Equal("bind(AF_XDP) failed: EBUSY (Device or resource busy). queue 0 is in use", e.Message);
    }

    [Fact]
    public void Message_UnknownErrno_FallsBackToNumber()
    {
        Assert.StartsWith("x failed: errno 4000 (", new XdpException("x", 4000).Message);
        Assert.Equal("", new XdpException("plain").ErrnoName);
    }
}
