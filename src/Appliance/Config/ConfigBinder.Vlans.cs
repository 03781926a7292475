using System.Globalization;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

internal sealed partial class ConfigBinder
{
    /// <summary>
    /// A <c>[[vlan]]</c>: an interface of its own (addresses, MTU, forwarding; routes, neighbours and services name it)
    /// whose frames ride on an <c>[[interface]]</c> tagged with its id, as <c>ip link add link eth1 name eth1.100 type
    /// vlan id 100</c> makes one. Read after every <c>[[interface]]</c>, so its NIC comes after theirs.
    /// </summary>
    private void ReadVlan(TableReader reader)
    {
        var draft = new InterfaceDraft { Position = reader.Position, IsVlan = true };
        InterfaceDraft? parent = null;
        if (reader.RequiredString("parent", "the [[interface]] it rides on, such as \"eth1\"") is { } parentName)
        {
            parent = FindInterface(parentName.Value);
            if (parent is null)
            {
                string? guess = KeySuggestion.Closest(parentName.Value, _interfaces.Where(i => i.Name is not null && !i.IsVlan).Select(i => i.Name!.Value.Value));
                _errors.Add(parentName.Position, $"[[vlan]] names parent '{parentName.Value}', which no [[interface]] configures"
                    + (guess is null ? "" : $" (did you mean '{guess}'?)"));
            }
            else if (parent.IsVlan)
            {
                _errors.Add(parentName.Position, $"parent '{parentName.Value}' is a [[vlan]] itself: stacked VLANs (QinQ) are not supported");
                parent = null;
            }
            else
            {
                draft.VlanParent = parentName;
            }
        }

        Located<long>? id = reader.Integer("id", VlanTag.MinId, VlanTag.MaxId);
        if (reader.Value("id") is null)
            _errors.Add(reader.Position, $"[[vlan]] needs 'id' (the 802.1Q VLAN id, {VlanTag.MinId} to {VlanTag.MaxId})");
        if (id is { } given && parent is not null)
        {
            InterfaceDraft? twin = _interfaces.FirstOrDefault(i => i.VlanParent?.Value == parent.Name!.Value.Value && i.VlanId?.Value == given.Value);
            if (twin is not null)
                _errors.Add(given.Position, string.Create(CultureInfo.InvariantCulture, $"VLAN {given.Value} is already on '{parent.Name!.Value.Value}' (at {twin.VlanId!.Value.Position})"));
        }
        draft.VlanId = id is { } ok ? new((int)ok.Value, ok.Position) : null;

        ReadVlanName(reader, draft);
        ReadAddresses(reader, draft);
        ReadPunt(reader, draft);

        if (reader.Integer("mtu", MinIpv4Mtu, MaxMtu) is { } mtu)
        {
            draft.Mtu = new((int)mtu.Value, mtu.Position);
            if (mtu.Value < MinIpv6Mtu && draft.Addresses.Any(a => a.Value.Address.IsIpv6))
                _errors.Add(mtu.Position, $"'mtu' {mtu.Value} is too small for the VLAN's IPv6 addresses: IPv6 needs at least {MinIpv6Mtu} (RFC 8200 §5)");
            // The tag rides outside the MTU (the parent's frames grow by 4 octets), but the payload cannot exceed the parent's.
            else if (parent?.Mtu is { } parentMtu && mtu.Value > parentMtu.Value)
                _errors.Add(mtu.Position, $"'mtu' {mtu.Value} of a [[vlan]] is above the MTU of its parent '{parent.Name!.Value.Value}' ({parentMtu.Value}, at {parentMtu.Position})");
        }

        if (reader.Table("forwarding") is { } forwarding)
        {
            var sub = new TableReader(forwarding, "[[vlan]] forwarding", _errors);
            draft.Ipv4Forwarding = sub.Boolean("ipv4")?.Value;
            draft.Ipv6Forwarding = sub.Boolean("ipv6")?.Value;
            sub.ReportUnknownKeys();
        }

        reader.ReportUnknownKeys();
        _interfaces.Add(draft);
    }

    /// <summary>The name routes and services use: as written, or Linux's <c>PARENT.ID</c>.</summary>
    private void ReadVlanName(TableReader reader, InterfaceDraft draft)
    {
        Located<string>? name = reader.String("name");
        if (name is null)
        {
            if (draft.VlanParent is not { } parent || draft.VlanId is not { } id)
                return;
            name = new(string.Create(CultureInfo.InvariantCulture, $"{parent.Value}.{id.Value}"), reader.Position);
            if (!IsValidDeviceName(name.Value.Value))
            {
                _errors.Add(reader.Position, $"the [[vlan]]'s name would be '{name.Value.Value}', longer than 15 bytes: give it a name with name = \"...\"");
                return;
            }
        }
        Located<string> chosen = name.Value;
        if (!IsValidDeviceName(chosen.Value))
            _errors.Add(chosen.Position, $"'{chosen.Value}' is not a valid interface name (1 to 15 bytes, no '/', ':' or white space)");
        else if (FindInterface(chosen.Value) is { } first)
            _errors.Add(chosen.Position, $"interface '{chosen.Value}' is configured twice (first at {first.Name!.Value.Position})");
        else
            draft.Name = chosen;
    }

    /// <summary>With the machine: a [[vlan]] MTU no higher than its parent device's, when the parent's 'mtu' did not say.</summary>
    private void CheckVlanMtu(InterfaceDraft draft, IReadOnlyDictionary<string, int> deviceMtus)
    {
        if (draft.Mtu is not { } mtu || draft.VlanParent is not { } parent || FindInterface(parent.Value)?.Mtu is not null)
            return;
        if (deviceMtus.TryGetValue(parent.Value, out int deviceMtu) && mtu.Value > deviceMtu)
            _errors.Add(mtu.Position, $"'mtu' {mtu.Value} of a [[vlan]] is above the MTU of its parent '{parent.Value}' ({deviceMtu})");
    }
}
