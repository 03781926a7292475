namespace XdpStack.Appliance.Config;

/// <summary>Whether packets of each IP family that arrive for another host are forwarded (true) or dropped.</summary>
internal readonly record struct ForwardingConfig(bool Ipv4, bool Ipv6)
{
    /// <summary>A router forwards both families unless told otherwise.</summary>
    public static ForwardingConfig Default => new(Ipv4: true, Ipv6: true);
}
