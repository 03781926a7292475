using XdpStack.Fuzz.Router;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>
/// The IPv4 option walker of the forwarding path (Ipv4ForwardingOptions): the checks, the source-route search, Record
/// Route and Timestamp recording, and the blanking of uncopied options; the input is the option bytes (at most 40).
/// </summary>
internal sealed class Ipv4OptionsTarget : WireTarget
{
    private FuzzRouter? _router;

    public override string Name => "ipv4-options";

    public override string Covers => "Ipv4ForwardingOptions: FindProblem, source routes, RecordHop, ClearUncopied";

    public override int MaxLength => 40;

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> options = Buffer.Place(input[..Math.Min(input.Length, 40)]);
        int problem = Ipv4ForwardingOptions.FindProblem(options);
        Check(problem == -1 || (problem >= 20 && problem < 20 + options.Length), $"problem pointer {problem} outside the options");

        int route = Ipv4ForwardingOptions.FindSourceRoute(options);
        Check(route >= -1 && route < options.Length, "source route offset outside the options");
        if (route >= 0 && problem == -1 && Ipv4ForwardingOptions.HasAddressesLeft(options, route))
        {
            _ = Ipv4ForwardingOptions.IsStrict(options, route);
            byte[] copy = options.ToArray();
            Ipv4ForwardingOptions.RecordSourceRouteHop(copy, route, copy[route + 2], FuzzRouter.Ip2);
        }

        byte[] cleared = options.ToArray();
        Ipv4ForwardingOptions.ClearUncopied(cleared);
        if (problem == -1)
        {
            Check(Ipv4ForwardingOptions.FindProblem(cleared) == -1, "blanking uncopied options broke well-formed options");
            _router ??= new FuzzRouter();
            Span<byte> recorded = Buffer.Place(options.ToArray());
            Ipv4ForwardingOptions.RecordHop(recorded, FuzzRouter.Ip2, _router.Stack);
        }
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source)
    {
        byte[] a = Bytes(FuzzRouter.Ip1), b = Bytes(FuzzRouter.Ip2), c = Bytes(FuzzRouter.HostB);
        yield return [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];                       // Record Route, room for two
        yield return [68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0];                      // Timestamp, timestamps only
        yield return [68, 20, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];   // Timestamp with addresses
        yield return [68, 20, 5, 3, .. b, 0, 0, 0, 0, .. c, 0, 0, 0, 0];          // prespecified addresses
        yield return [131, 11, 4, .. a, .. c, 0];                                  // loose source route
        yield return [137, 11, 4, .. a, .. c, 0];                                  // strict source route
        yield return [1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0];                        // No Operations first
        yield return [130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];                     // Security (unknown here, copied)
        yield return [0, 7, 7, 4];                                                // End of List first
    }

    private static byte[] Bytes(Ipv4Address address)
    {
        byte[] bytes = new byte[4];
        address.CopyTo(bytes);
        return bytes;
    }
}
