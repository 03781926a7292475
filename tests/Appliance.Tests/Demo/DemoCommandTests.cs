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
        AssertNothingLeft(NetworkLab.OwnerPrefix(demo.Id));
    }

    [Fact]
    public void Demo_InterruptedMidway_RemovesTheLab()
    {
        using XdpstackProcess demo = XdpstackProcess.Start(null, "demo");
        demo.WaitForOutput("3. The host", TimeSpan.FromSeconds(60));

        demo.Signal("INT");
        int exitCode = demo.WaitForExit(TimeSpan.FromSeconds(30));

        Assert.Equal(130, exitCode);
        AssertNothingLeft(NetworkLab.OwnerPrefix(demo.Id));
    }

    [Fact]
    public void Demo_KilledWithSigkillMidway_NextDemoRemovesWhatItLeft()
    {
        string prefix = "";
        try
        {
            string[] leftBehind;
            using (XdpstackProcess killed = XdpstackProcess.Start(null, "demo"))
            {
                prefix = NetworkLab.OwnerPrefix(killed.Id);
                killed.WaitForOutput("3. The host", TimeSpan.FromSeconds(60));
                Assert.Equal(2, LabNamespaces(prefix).Length);

                killed.Signal("KILL");
                Assert.Equal(128 + 9, killed.WaitForExit(TimeSpan.FromSeconds(30)));
                // No handler runs on SIGKILL: the lab is still there, and so is its lock file.
                leftBehind = LabNamespaces(prefix);
                Assert.Equal(2, leftBehind.Length);
                Assert.Single(Directory.GetFiles(NetworkLab.LockDirectory, prefix + "*"));
            }

            using XdpstackProcess next = XdpstackProcess.Start(null, "demo");
            int exitCode = next.WaitForExit(TimeSpan.FromSeconds(90));

            Assert.True(exitCode == 0, next.StandardOutput + next.StandardError);
            Assert.Contains($"0. Removed {leftBehind.Length} namespaces", next.StandardOutput);
            Assert.All(leftBehind, n => Assert.Contains(n, next.StandardOutput));
            AssertNothingLeft(prefix);
            AssertNothingLeft(NetworkLab.OwnerPrefix(next.Id));
        }
        finally
        {
            if (prefix.Length > 0 && LabNamespaces(prefix).Length > 0)
                NetworkLab.RemoveLeftovers();
        }
    }

    /// <summary>No namespace, root-namespace link or lock file whose name starts with the prefix.</summary>
    internal static void AssertNothingLeft(string prefix)
    {
        Assert.Empty(LabNamespaces(prefix));
        Assert.DoesNotContain(prefix, Shell.Check("ip", "-o", "link", "show"));
        Assert.Empty(Directory.Exists(NetworkLab.LockDirectory) ? Directory.GetFiles(NetworkLab.LockDirectory, prefix + "*") : []);
    }

    internal static string[] LabNamespaces(string prefix) =>
        [.. Shell.Check("ip", "netns", "list").Split('\n')
            .Select(line => line.Split(' ')[0])
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))];
}
