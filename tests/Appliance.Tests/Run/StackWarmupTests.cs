using XdpStack.Appliance.Run;

namespace XdpStack.Appliance.Tests.Run;

public class StackWarmupTests
{
    [Fact]
    public void Run_EveryPathAnswersEachRound()
    {
        // Each round must reach the code a first real packet runs: an ARP reply, an echo reply, a UDP echo, an HTTP
        // response and a TCP echo, each over its own handshake and close.
        WarmupResult result = StackWarmup.Run(rounds: 5);

        Assert.Equal(new WarmupResult(5, 5, 5, 5, 5, result.Took), result);
    }
}
