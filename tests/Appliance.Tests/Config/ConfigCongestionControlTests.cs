using XdpStack.Appliance.Config;
using XdpStack.Stack.Transport.Tcp;

namespace XdpStack.Appliance.Tests.Config;

/// <summary><c>congestion_control</c> in <c>[[service]]</c>: bound per TCP service, refused elsewhere with its position.</summary>
public class ConfigCongestionControlTests
{
    [Fact]
    public void TryParse_CongestionControl_BoundPerTcpServiceAbsentIsTheDefault()
    {
        ApplianceConfig config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[service]]
            kind = "http"
            port = 80
            congestion_control = "newreno"
            [[service]]
            kind = "tcp-echo"
            port = 7
            congestion_control = "cubic"
            [[service]]
            kind = "tcp-discard"
            port = 9
            """);

        Assert.Equal<TcpCongestionControl?>([TcpCongestionControl.NewReno, TcpCongestionControl.Cubic, null], config.Services.Select(s => s.CongestionControl));
        Assert.EndsWith(" congestion_control newreno", config.Services[0].ToString());
        // The stack's default, which an absent key leaves in place, is Linux's: CUBIC.
        Assert.Equal(TcpCongestionControl.Cubic, new TcpSettings().CongestionControl);
    }

    [Fact]
    public void TryParse_CongestionControlMistakes_EachWithItsPosition()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[service]]
            kind = "udp-echo"
            port = 7
            congestion_control = "cubic"
            [[service]]
            kind = "tcp-echo"
            port = 7
            congestion_control = "bbr"
            [[service]]
            kind = "http"
            port = 80
            congestion_control = 1
            """);

        Assert.Equal(
        [
            "test.toml:7:22: 'congestion_control' applies only to TCP services, not \"udp-echo\"",
            "test.toml:11:22: 'congestion_control' in [[service]] must be one of \"cubic\", \"newreno\", not \"bbr\"",
            "test.toml:15:22: 'congestion_control' in [[service]] must be a string, not an integer",
        ], errors);
    }
}
