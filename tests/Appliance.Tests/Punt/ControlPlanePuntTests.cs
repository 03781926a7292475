using XdpStack.Appliance.Run;
using XdpStack.Appliance.Tests.Run;
using XdpStack.Stack;

namespace XdpStack.Appliance.Tests.Punt;

/// <summary>The punt component in-process: the TAP ifindexes it publishes for a kernel FIB sync, and the TAPs' end with the host.</summary>
[Trait("Category", "Root")]
[Collection(Cli.XdpstackProcess.Collection)]
public sealed class ControlPlanePuntTests
{
    [Fact]
    public void Start_OneInterfacePunts_TapIfIndexesMapsItsTapToItsNic_DisposeRemovesTheTap()
    {
        using var lab = new RunLab();
        ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan(), settings => settings with
        {
            Interfaces = [new DataPlaneInterface(lab.DutAIf, null) { PuntTap = "xs-a" }, new DataPlaneInterface(lab.DutBIf, null)],
        });
        try
        {
            Assert.NotNull(host.Punt);
            int ifIndex = int.Parse(lab.Dut.Ip("-o", "link", "show", "dev", "xs-a").Split(':')[0]);
            Assert.Equal(new Dictionary<int, NicId> { [ifIndex] = new NicId(1) }, host.Punt.TapIfIndexes);
            Assert.Contains(RunLab.RouterAIpv4 + "/24", lab.Dut.Ip("-br", "addr", "show", "dev", "xs-a"));
        }
        finally
        {
            host.Dispose();
        }
        Assert.NotEqual(0, lab.Dut.Run("ip", "link", "show", "dev", "xs-a").ExitCode);
    }

    [Fact]
    public void Start_NoInterfacePunts_NoPuntAndNoTap()
    {
        using var lab = new RunLab();
        using ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan());
        Assert.Null(host.Punt);
        Assert.DoesNotContain("xs-", lab.Dut.Ip("-br", "link"));
    }
}
