using XdpStack.Stack;

namespace XdpStack.Appliance.Config;

/// <summary>An address with prefix length on a named interface, as the reload diff lists them.</summary>
internal readonly record struct InterfaceAddress(string Interface, AddressWithPrefix Address)
{
    public override string ToString() => $"{Address} on {Interface}";
}
