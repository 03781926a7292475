using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Demo;

[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class DemoCommandTests
{
    [Fact]
    public void Demo_RunsEndToEnd_ExitsZeroAndLeavesNoNamespace()
    {
        using XdpstackProcess demo = XdpstackProcess.Start(null, "demo");
        int exitCode = demo.WaitForExit(TimeSpan.FromSeconds(90));

        Assert.True(exitCode == 0, demo.StandardOutput + demo.StandardError);
        Assert.Matches(@"5 echo requests sent, 5 answered", demo.StandardOutput);
        Assert.Matches(@"1000 of 1000 came back", demo.StandardOutput);
        Assert.Contains("Done", demo.StandardOutput);
        // Lab names start with x<pid mod 100000>: none of the demo's may be left.
        string tag = "x" + (demo.Id % 100000);
        Assert.DoesNotContain(Shell.Check("ip", "netns", "list").Split('\n'), n => n.StartsWith(tag + "1-", StringComparison.Ordinal));
    }

    [Fact]
    public void Demo_InterruptedMidway_RemovesTheLab()
    {
        using XdpstackProcess demo = XdpstackProcess.Start(null, "demo");
        demo.WaitForOutput("3. The host", TimeSpan.FromSeconds(60));

        demo.Signal("INT");
        int exitCode = demo.WaitForExit(TimeSpan.FromSeconds(30));

        Assert.Equal(130, exitCode);
        string tag = "x" + (demo.Id % 100000) + "1-";
        Assert.DoesNotContain(Shell.Check("ip", "netns", "list").Split('\n'), n => n.StartsWith(tag, StringComparison.Ordinal));
    }
}
