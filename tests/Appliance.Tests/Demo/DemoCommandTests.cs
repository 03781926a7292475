using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Demo;

[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class DemoCommandTests
{
    [Fact]
    public void Demo_RouterEndToEnd_PingsTracesTransfersAndLeavesNoNamespace()
    {
        using XdpstackProcess demo = XdpstackProcess.Start(null, "demo");
        int exitCode = demo.WaitForExit(TimeSpan.FromSeconds(120));

        string output = demo.StandardOutput;
        Assert.True(exitCode == 0, output + demo.StandardError);
        Assert.Matches(@"host A: ping 198\.18\.2\.2 +3 of 3 answered, ttl=63", output);
        Assert.Matches(@"host B: ping 2001:2:0:1::2 +3 of 3 answered, ttl=63", output);
        Assert.Matches(@"host A: ping 2001:2:0:2::1 +3 of 3 answered, ttl=64", output);
        // traceroute shows xdpstack as the first hop and host B as the second, in both families.
        Assert.Matches(@"(?m)^ +1 +198\.18\.1\.1 ", output);
        Assert.Matches(@"(?m)^ +2 +198\.18\.2\.2 ", output);
        Assert.Matches(@"(?m)^ +1 +2001:2:0:1::1 ", output);
        Assert.Matches(@"(?m)^ +2 +2001:2:0:2::2 ", output);
        Assert.Contains("IPv4: 2000 received, 2000 with every byte right, in order", output);
        Assert.Contains("IPv6: 2000 received, 2000 with every byte right, in order", output);
        Assert.Contains("UDP echo: 100 of 100", output);
        Assert.Contains("7. Done", output);
        AssertNothingLeft(NetworkLab.OwnerPrefix(demo.Id));
    }

    [Fact]
    public void DemoReflect_RunsEndToEnd_ExitsZeroAndLeavesNoNamespace()
    {
        using XdpstackProcess demo = XdpstackProcess.Start(null, "demo", "reflect");
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
        demo.WaitForOutput("3. Pings", TimeSpan.FromSeconds(60));

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
            using (XdpstackProcess killed = XdpstackProcess.Start(null, "demo", "reflect"))
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

            using XdpstackProcess next = XdpstackProcess.Start(null, "demo", "reflect");
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
