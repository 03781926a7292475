using XdpStack.Stack;

namespace XdpStack.Appliance.Config;

internal sealed partial class ConfigBinder
{
    private void ReadRoute(TableReader reader)
    {
        var draft = new RouteDraft { Position = reader.Position };
        if (reader.RequiredString("prefix", "the destination, such as \"198.19.0.0/16\"") is { } prefix)
        {
            if (ConfigValueParser.TryParsePrefix(prefix.Value, out IpPrefix destination, out string? error))
                draft.Destination = new(destination, prefix.Position);
            else
                _errors.Add(prefix.Position, $"'prefix' in [[route]]: {error}");
        }

        draft.HasNextHopKey = reader.Value("via") is not null || reader.Value("interface") is not null;
        if (reader.String("via") is { } via)
        {
            if (!ConfigValueParser.TryParseAddress(via.Value, out IpAddress gateway, out string? error))
                _errors.Add(via.Position, $"'via' in [[route]]: {error}");
            else if (!ConfigValueParser.IsUnicast(gateway))
                _errors.Add(via.Position, $"'via' in [[route]]: {gateway} is not a unicast address, so it cannot be a gateway");
            else if (draft.Destination is { } d && d.Value.IsIpv4 != gateway.IsIpv4)
                _errors.Add(via.Position, $"gateway {gateway} is {Family(gateway.IsIpv4)}, but the prefix {d.Value} is {Family(d.Value.IsIpv4)}");
            else
                draft.Gateway = new(gateway, via.Position);
        }

        draft.Interface = reader.String("interface");
        draft.Metric = (int)(reader.Integer("metric", 0, int.MaxValue)?.Value ?? 0);
        draft.Weight = (int)(reader.Integer("weight", 1, Stack.Routing.Ipv4Route.MaxWeight)?.Value ?? 1);
        reader.ReportUnknownKeys();
        _routes.Add(draft);
    }

    private void CheckRoutes()
    {
        for (int i = 0; i < _routes.Count; i++)
        {
            RouteDraft route = _routes[i];
            ResolveRouteInterface(route);
            if (route.Destination is not { } destination)
                continue;
            // Routes of one prefix and metric through different next hops share the traffic (ECMP, as a kernel
            // multipath route); only the same next hop twice is a mistake.
            if (route.ResolvedInterface is null)
                continue;
            RouteDraft? first = _routes.Take(i).FirstOrDefault(r => r.Destination?.Value == destination.Value && r.Metric == route.Metric
                && r.Gateway?.Value == route.Gateway?.Value && r.ResolvedInterface == route.ResolvedInterface);
            if (first is not null)
                _errors.Add(destination.Position, $"route {destination.Value} metric {route.Metric} {NextHop(route)} is configured twice (first at {first.Destination!.Value.Position})");
        }
    }

    /// <summary>Sets <see cref="RouteDraft.ResolvedInterface"/>: the named interface, after checking the gateway is on its link, or the one interface whose link the gateway is on.</summary>
    private void ResolveRouteInterface(RouteDraft route)
    {
        InterfaceDraft? named = null;
        if (route.Interface is { } name && (named = RequireInterface(name, "[[route]]")) is null)
            return;
        if (route.Destination is not { } destination)
            return;
        if (route.Gateway is not { } gateway)
        {
            if (named is not null)
                route.ResolvedInterface = named.Name!.Value.Value;
            else if (!route.HasNextHopKey) // one written but wrong has been reported already
                _errors.Add(route.Position, $"[[route]] {destination.Value} needs 'via' (a gateway) or 'interface' (for an on-link route)");
            return;
        }

        IpAddress via = gateway.Value;
        if (OwnerOf(via) is { } owner)
        {
            _errors.Add(gateway.Position, $"gateway {via} is an address of this appliance (on '{owner.Name?.Value}')");
            return;
        }
        if (via.IsIpv6 && via.V6.IsLinkLocal)
        {
            // Every link has fe80::/64, so only the route itself can say which link is meant.
            if (named is null)
                _errors.Add(gateway.Position, $"link-local gateway {via} needs 'interface' to say which link it is on");
            else
                route.ResolvedInterface = named.Name!.Value.Value;
            return;
        }
        if (named is not null)
        {
            if (IsOnLink(named, via))
                route.ResolvedInterface = named.Name!.Value.Value;
            else
                _errors.Add(gateway.Position, $"gateway {via} is not on a subnet of '{named.Name!.Value.Value}' ({DescribeSubnets(named, via.IsIpv4)})");
            return;
        }

        List<string> links = [.. _interfaces.Where(i => i.Name is not null && IsOnLink(i, via)).Select(i => i.Name!.Value.Value)];
        switch (links.Count)
        {
            case 0:
                _errors.Add(gateway.Position, $"gateway {via} is not on the subnet of any interface, so it cannot be reached");
                break;
            case 1:
                route.ResolvedInterface = links[0];
                break;
            default:
                _errors.Add(gateway.Position, $"gateway {via} is on the subnets of {string.Join(" and ", links.Select(l => $"'{l}'"))}; add interface = \"...\" to say which");
                break;
        }
    }

    private void ReadNeighbor(TableReader reader)
    {
        var draft = new NeighborDraft { Interface = reader.RequiredString("interface", "the interface the neighbor is on") };
        if (reader.RequiredString("address", "the neighbor's IPv4 or IPv6 address") is { } address)
        {
            if (!ConfigValueParser.TryParseAddress(address.Value, out IpAddress ip, out string? error))
                _errors.Add(address.Position, $"'address' in [[neighbor]]: {error}");
            else if (!ConfigValueParser.IsUnicast(ip))
                _errors.Add(address.Position, $"'address' in [[neighbor]]: {ip} is not a unicast address");
            else
                draft.Address = new(ip, address.Position);
        }
        if (reader.RequiredString("mac", "the neighbor's MAC address, such as \"02:00:00:00:00:02\"") is { } mac)
        {
            if (!ConfigValueParser.TryParseMac(mac.Value, out var parsed, out string? error))
                _errors.Add(mac.Position, $"'mac' in [[neighbor]]: {error}");
            else if (!parsed.IsUnicast || parsed == Stack.Wire.MacAddress.Zero)
                _errors.Add(mac.Position, $"'mac' in [[neighbor]]: {parsed} is not a unicast MAC");
            else
                draft.Mac = new(parsed, mac.Position);
        }
        reader.ReportUnknownKeys();
        _neighbors.Add(draft);
    }

    private void CheckNeighbors()
    {
        for (int i = 0; i < _neighbors.Count; i++)
        {
            NeighborDraft neighbor = _neighbors[i];
            if (neighbor.Interface is not { } name || RequireInterface(name, "[[neighbor]]") is not { } link || neighbor.Address is not { } address)
                continue;
            IpAddress ip = address.Value;
            if (OwnerOf(ip) is not null)
                _errors.Add(address.Position, $"neighbor {ip} is an address of this appliance");
            else if (!(ip.IsIpv6 && ip.V6.IsLinkLocal) && !IsOnLink(link, ip))
                _errors.Add(address.Position, $"neighbor {ip} is not on a subnet of '{name.Value}' ({DescribeSubnets(link, ip.IsIpv4)}), so it would never be used");
            NeighborDraft? first = _neighbors.Take(i).FirstOrDefault(n => n.Interface?.Value == name.Value && n.Address?.Value == ip);
            if (first is not null)
                _errors.Add(address.Position, $"neighbor {ip} on '{name.Value}' is configured twice (first at {first.Address!.Value.Position})");
        }
    }

    private static string NextHop(RouteDraft route) =>
        route.Gateway is { } gateway ? $"via {gateway.Value} dev {route.ResolvedInterface}" : $"dev {route.ResolvedInterface}";

    private static string Family(bool ipv4) => ipv4 ? "IPv4" : "IPv6";
}
