using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Control;

namespace XdpStack.Appliance.Tests.Cli;

public class StatsViewTests
{
    [Theory]
    [InlineData(0, "0")]
    [InlineData(949.4, "949")]
    [InlineData(999.6, "1.00k")]
    [InlineData(12_345, "12.3k")]
    [InlineData(1_234_567, "1.23M")]
    [InlineData(987_654_321, "988M")]
    [InlineData(10e9, "10.0G")]
    public void Si_ThreeSignificantDigits(double value, string expected) => Assert.Equal(expected, Rates.Si(value));

    [Fact]
    public void Render_TwoSamplesTwoSecondsApart_RatesPerDeviceQueueWorkerAndDrop()
    {
        StatsSample before = Sample(time: 10, rx0: 1000, rx1: 0, bytes0: 64_000, batches: 100, poolEmpty: 5, busy: 1.0, seconds: 8);
        StatsSample after = Sample(time: 12, rx0: 3000, rx1: 2_000_000, bytes0: 192_000, batches: 300, poolEmpty: 9, busy: 1.5, seconds: 10);
        IReadOnlyList<string> lines = StatsView.Render(before, after, "title");

        Assert.Equal("title", lines[0]);
        string[] q0 = Words(lines.Single(l => l.StartsWith("eth1", StringComparison.Ordinal) && Words(l)[1] == "0"));
        // 2000 frames and 128,000 bytes in 2 s: 1.00k pps, 512k bit/s; the TX side moved nothing.
        Assert.Equal(["eth1", "0", "copy/native", "1.00k", "512k", "0", "0"], q0);
        string[] q1 = Words(lines.Single(l => l.StartsWith("eth1", StringComparison.Ordinal) && Words(l)[1] == "1"));
        Assert.Equal("1.00M", q1[3]);
        string[] all = Words(lines.Single(l => l.StartsWith("eth1", StringComparison.Ordinal) && Words(l)[1] == "all"));
        Assert.Equal("1.00M", all[2]);
        string worker = lines.Single(l => Words(l) is [_, _, _, _, _, _, _, _] w && w[0] == "0" && w[1] == "0");
        // Busy 0.5 s of the worker's 2 s; 2,002,000 frames over 200 batches.
        Assert.Equal(["0", "0", "3", "25.0%", "1.00M", "100", "10010.0", "0"], Words(worker));
        Assert.Equal(["umem_pool_empty", "eth1", "2", "9"], Words(lines.Single(l => l.StartsWith("umem_pool_empty", StringComparison.Ordinal))));
        Assert.DoesNotContain(lines, l => l.StartsWith("tx_ring_full", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_PuntingInterface_RatesToAndFromItsTap_NoSectionWithoutPunt()
    {
        StatsSample before = Sample(time: 10, rx0: 0, rx1: 0, bytes0: 0, batches: 0, poolEmpty: 0, busy: 0, seconds: 8) with
        {
            Punt = [new PuntSample("eth1", "xs-eth1", 100, 10_000, 50, 5_000, 4)],
        };
        StatsSample after = before with { Time = 12, Punt = [new PuntSample("eth1", "xs-eth1", 300, 30_000, 90, 9_000, 6)] };

        IReadOnlyList<string> lines = StatsView.Render(before, after, "title");

        // 200 frames and 20,000 bytes in 2 s to the kernel: 100 pps, 80.0k bit/s; 40 frames back: 20 pps, 16.0k bit/s.
        Assert.Equal(["eth1", "xs-eth1", "100", "80.0k", "20", "16.0k", "1"], Words(lines.Single(l => l.StartsWith("eth1 ", StringComparison.Ordinal) && l.Contains("xs-eth1", StringComparison.Ordinal))));
        Assert.DoesNotContain(StatsView.Render(before with { Punt = null }, after with { Punt = [] }, "title"), l => l.StartsWith("PUNT", StringComparison.Ordinal));
    }

    private static StatsSample Sample(double time, ulong rx0, ulong rx1, ulong bytes0, ulong batches, long poolEmpty, double busy, double seconds) => new(
        time,
        [new QueueSample("eth1", 0, 0, "copy", "native", rx0, bytes0, 0, 0), new QueueSample("eth1", 1, 0, "copy", "native", rx1, rx1 * 64, 0, 0)],
        [new WorkerSample(0, 0, 3, batches, rx0 + rx1, 0, busy, seconds)],
        [new DropSample("umem_pool_empty", "eth1", poolEmpty), new DropSample("tx_ring_full", "eth1", 0)]);

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
