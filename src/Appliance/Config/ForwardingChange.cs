namespace XdpStack.Appliance.Config;

/// <summary>An interface whose forwarding switches differ between two configs.</summary>
internal readonly record struct ForwardingChange(string Interface, ForwardingConfig From, ForwardingConfig To)
{
    public override string ToString() =>
        $"forwarding on {Interface}: ipv4 {OnOff(From.Ipv4)} -> {OnOff(To.Ipv4)}, ipv6 {OnOff(From.Ipv6)} -> {OnOff(To.Ipv6)}";

    private static string OnOff(bool on) => on ? "on" : "off";
}
