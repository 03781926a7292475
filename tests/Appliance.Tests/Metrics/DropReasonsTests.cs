using System.Text.RegularExpressions;
using XdpStack.Appliance.Metrics;
using XdpStack.Appliance.Workers;
using XdpStack.Stack;

namespace XdpStack.Appliance.Tests.Metrics;

public sealed partial class DropReasonsTests
{
    [Fact]
    public void Role_EveryStatCounter_IsADropWithAReasonOrAnEventWithAFamilyAndType()
    {
        var missing = new List<string>();
        foreach (StatCounter counter in Enum.GetValues<StatCounter>())
        {
            CounterRole role;
            try
            {
                role = DropReasons.Role(counter);
            }
            catch (ArgumentOutOfRangeException)
            {
                missing.Add(counter.ToString());
                continue;
            }
            if (role.IsDrop)
            {
                Assert.Matches(SnakeCase(), role.DropReason!);
                Assert.Null(role.Type);
            }
            else
            {
                Assert.Matches(SnakeCase(), role.Type!);
                // ICMP and IP carry a family label; the others must not pretend to.
                bool needsFamily = role.Family is ProtocolFamily.Icmp or ProtocolFamily.Ip;
                Assert.True(needsFamily == (role.IpFamily is "ipv4" or "ipv6"), $"{counter}: family label {role.IpFamily ?? "(none)"} for {role.Family}");
            }
        }
        Assert.True(missing.Count == 0, "StatCounters with no role in DropReasons.Role: " + string.Join(", ", missing));
    }

    [Fact]
    public void Role_TwoCountersOfOneFamily_NeverShareAType()
    {
        // Two counters feeding one series would be summed into a number that means neither.
        var seen = new Dictionary<(ProtocolFamily, string?, string), StatCounter>();
        foreach (StatCounter counter in Enum.GetValues<StatCounter>())
        {
            CounterRole role = DropReasons.Role(counter);
            if (role.IsDrop)
                continue;
            var key = (role.Family, role.IpFamily, role.Type!);
            Assert.False(seen.TryGetValue(key, out StatCounter other), $"{counter} and {other} both feed {key}");
            seen[key] = counter;
        }
    }

    [Fact]
    public void Role_CountersThatDropPackets_AreDrops()
    {
        // Spot checks of the decision, both ways: the forwarding failures and malformed input drop; the counters of a
        // frame another counter already covers (a link refusal the worker counts, a checksum error inside malformed
        // transport) are events.
        foreach (StatCounter drop in (StatCounter[])[StatCounter.Ipv4ForwardTtlExceeded, StatCounter.Ipv6ForwardingNoRoute,
            StatCounter.MalformedLinkFrames, StatCounter.Ipv4MalformedPacketsReceived, StatCounter.UdpUnknownPortErrors, StatCounter.OtherHostFrames])
            Assert.True(DropReasons.Role(drop).IsDrop, drop.ToString());
        foreach (StatCounter notDrop in (StatCounter[])[StatCounter.TxErrors, StatCounter.UdpChecksumErrors, StatCounter.IcmpRateLimited,
            StatCounter.Ipv4PacketsForwarded, StatCounter.RxPackets])
            Assert.False(DropReasons.Role(notDrop).IsDrop, notDrop.ToString());
        Assert.Equal("ttl_exceeded", DropReasons.Role(StatCounter.Ipv4ForwardTtlExceeded).DropReason);
        Assert.Equal("ttl_exceeded", DropReasons.Role(StatCounter.Ipv6ForwardingExhaustedHopLimit).DropReason);
    }

    [Fact]
    public void Of_EveryWorkerDrop_HasItsOwnReason()
    {
        string[] reasons = [.. Enum.GetValues<WorkerDrop>().Select(DropReasons.Of)];
        Assert.Equal(reasons.Length, reasons.Distinct().Count());
        Assert.All(reasons, r => Assert.Matches(SnakeCase(), r));
    }

    [Fact]
    public void All_HoldsEveryReasonOnce_AndDocsMetricsListsExactlyThem()
    {
        IReadOnlyList<string> all = DropReasons.All;
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Contains(DropReasons.TxRingFull, all);
        Assert.Contains(DropReasons.MalformedLink, all);
        foreach (WorkerDrop drop in Enum.GetValues<WorkerDrop>())
            Assert.Contains(DropReasons.Of(drop), all);
        Assert.Equal(all.Order(StringComparer.Ordinal), MetricsDoc.DropReasons().Order(StringComparer.Ordinal));
    }

    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCase();
}
