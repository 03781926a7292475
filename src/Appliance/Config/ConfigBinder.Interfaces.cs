using System.Text;
using XdpStack.Appliance.Config.Toml;
using XdpStack.Stack;

namespace XdpStack.Appliance.Config;

internal sealed partial class ConfigBinder
{
    /// <summary>IPv4 needs 68 octets (RFC 791 §3.1); IPv6 needs 1280 (RFC 8200 §5).</summary>
    private const int MinIpv4Mtu = 68;
    private const int MinIpv6Mtu = 1280;
    private const int MaxMtu = 65535;

    private void ReadInterface(TableReader reader)
    {
        var draft = new InterfaceDraft { Position = reader.Position };
        if (reader.RequiredString("name", "the Linux device name, such as \"eth1\"") is { } name)
        {
            if (!IsValidDeviceName(name.Value))
                _errors.Add(name.Position, $"'{name.Value}' is not a valid interface name (1 to 15 bytes, no '/', ':' or white space)");
            else if (FindInterface(name.Value) is { } first)
                _errors.Add(name.Position, $"interface '{name.Value}' is configured twice (first at {first.Name!.Value.Position})");
            else
                draft.Name = name;
        }

        List<Located<int>>? queues = ReadIndexes(reader, "queues", "queue", allowAll: true, out bool all, out SourcePosition queuesPosition);
        draft.QueuesPosition = queuesPosition;
        if (queues is not null)
        {
            draft.Queues = QueueSelection.Of(queues.Select(q => q.Value));
            draft.QueueItems.AddRange(queues);
        }
        else if (!all && reader.Value("queues") is not null)
        {
            draft.QueuesInvalid = true; // reported; the device and worker checks leave it alone
        }

        ReadAddresses(reader, draft);

        if (reader.String("mac") is { } mac)
        {
            if (!ConfigValueParser.TryParseMac(mac.Value, out var parsed, out string? error))
                _errors.Add(mac.Position, $"'mac' in [[interface]]: {error}");
            else if (!parsed.IsUnicast || parsed == Stack.Wire.MacAddress.Zero)
                _errors.Add(mac.Position, $"'mac' in [[interface]]: {parsed} is not a unicast MAC, so no device has it");
            else
                draft.Mac = new(parsed, mac.Position);
        }

        if (reader.Integer("mtu", MinIpv4Mtu, MaxMtu) is { } mtu)
        {
            draft.Mtu = new((int)mtu.Value, mtu.Position);
            if (mtu.Value < MinIpv6Mtu && draft.Addresses.Any(a => a.Value.Address.IsIpv6))
                _errors.Add(mtu.Position, $"'mtu' {mtu.Value} is too small for the interface's IPv6 addresses: IPv6 needs at least {MinIpv6Mtu} (RFC 8200 §5)");
        }

        if (reader.Table("forwarding") is { } forwarding)
        {
            var sub = new TableReader(forwarding, "[[interface]] forwarding", _errors);
            draft.Ipv4Forwarding = sub.Boolean("ipv4")?.Value;
            draft.Ipv6Forwarding = sub.Boolean("ipv6")?.Value;
            sub.ReportUnknownKeys();
        }

        ReadPunt(reader, draft);

        reader.ReportUnknownKeys();
        _interfaces.Add(draft);
    }

    private void ReadPunt(TableReader reader, InterfaceDraft draft)
    {
        string section = draft.IsVlan ? "[[vlan]]" : "[[interface]]";
        Located<bool>? punt = reader.Boolean("punt");
        Located<string>? tap = reader.String("punt_tap");
        if (tap is { } given && punt?.Value != true)
        {
            _errors.Add(given.Position, $"'punt_tap' in {section} names the TAP of the control-plane punt, which needs punt = true");
            return;
        }
        if (punt?.Value != true || draft.Name is not { } name)
            return;
        if (tap is { } named)
        {
            if (!IsValidDeviceName(named.Value))
                _errors.Add(named.Position, $"'punt_tap' in {section}: '{named.Value}' is not a valid interface name (1 to 15 bytes, no '/', ':' or white space)");
            else
                draft.PuntTap = named;
        }
        else
        {
            string fallback = InterfaceConfig.DefaultPuntTap(name.Value);
            if (!IsValidDeviceName(fallback))
                _errors.Add(punt.Value.Position, $"the punt TAP of '{name.Value}' would be named '{fallback}', longer than 15 bytes: give it a name with punt_tap = \"...\"");
            else
                draft.PuntTap = new(fallback, punt.Value.Position);
        }
        if (draft.PuntTap is not { } chosen)
            return;
        // The TAP is a device of its own in the same namespace: it can be neither a configured interface nor another TAP.
        if (FindInterface(chosen.Value) is { } owned)
            _errors.Add(chosen.Position, $"the punt TAP '{chosen.Value}' has the name of a configured interface (at {owned.Name!.Value.Position})");
        else if (_interfaces.FirstOrDefault(i => i.PuntTap?.Value == chosen.Value) is { } twin)
            _errors.Add(chosen.Position, $"the punt TAP '{chosen.Value}' is already the TAP of '{twin.Name!.Value.Value}' (at {twin.PuntTap!.Value.Position})");
        else
            return;
        draft.PuntTap = null;
    }

    private void ReadAddresses(TableReader reader, InterfaceDraft draft)
    {
        if (reader.Array("addresses", "an array of addresses such as [\"198.18.0.1/24\"]") is not { } addresses)
            return;
        foreach (TomlValue item in addresses.Items)
        {
            if (item is not TomlString text)
            {
                _errors.Add(item.Position, $"'addresses' in [[interface]] must list strings such as \"198.18.0.1/24\", not {item.TypeName}");
                continue;
            }
            if (!ConfigValueParser.TryParseInterfaceAddress(text.Value, out AddressWithPrefix address, out string? error))
            {
                _errors.Add(text.Position, $"'addresses' in [[interface]]: {error}");
                continue;
            }
            IpAddress ip = address.Address;
            int twin = draft.Addresses.FindIndex(a => a.Value.Address == ip);
            InterfaceDraft? owner = OwnerOf(ip);
            if (twin >= 0)
                _errors.Add(text.Position, $"address {ip} is listed twice on this interface (first at {draft.Addresses[twin].Position})");
            else if (owner is not null)
                _errors.Add(text.Position, $"address {ip} is already on another interface (at {owner.Addresses.First(a => a.Value.Address == ip).Position})");
            else
                draft.Addresses.Add(new(address, text.Position));
        }
    }

    /// <summary>Linux's dev_valid_name: 1 to 15 bytes (IFNAMSIZ less the NUL), not "." or "..", no '/', ':' or white space.</summary>
    private static bool IsValidDeviceName(string name) =>
        Encoding.UTF8.GetByteCount(name) is > 0 and <= 15 && name is not ("." or "..")
        && !name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c));
}
