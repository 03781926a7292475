namespace XdpStack.Stack.Routing;

/// <summary>What one route table publication changed in one address family: per prefix touched, the route that now decides it.</summary>
/// <remarks>
/// The writer links each publication's changes to the next one's (<see cref="Next"/>), so a reader that built a view
/// from an older table can follow the chain to a newer table and update only the prefixes named on the way
/// (<see cref="TryCollect"/>) instead of reading the whole table again. A publication that changed too much to list,
/// or whose table had no LPM, has no list and makes the reader start over. Only forward links: a node nobody holds
/// goes with the table that held it.
/// </remarks>
internal sealed class RouteChanges<TRoute, TPrefix>
    where TRoute : class
    where TPrefix : struct, IEquatable<TPrefix>
{
    private RouteChanges<TRoute, TPrefix>? _next;

    public RouteChanges(PrefixState[]? prefixes) => Prefixes = prefixes;

    /// <summary>The prefixes whose routes changed, with the first route of each in the new table (null: none left) and whether that route heads a multipath group; null when the publication changed too much to list.</summary>
    public PrefixState[]? Prefixes { get; }

    /// <summary>The next publication's changes, once there is one.</summary>
    public RouteChanges<TRoute, TPrefix>? Next => Volatile.Read(ref _next);

    internal void Link(RouteChanges<TRoute, TPrefix> next) => Volatile.Write(ref _next, next);

    /// <summary>Collects into <paramref name="latest"/> every prefix changed after <paramref name="from"/> up to and including <paramref name="to"/>, newest state winning; false when some publication on the way has no list or <paramref name="to"/> is not reached.</summary>
    public static bool TryCollect(RouteChanges<TRoute, TPrefix> from, RouteChanges<TRoute, TPrefix> to, Dictionary<TPrefix, PrefixState> latest)
    {
        for (RouteChanges<TRoute, TPrefix>? node = from; !ReferenceEquals(node, to);)
        {
            node = node.Next;
            if (node?.Prefixes is null)
                return false;
            foreach (PrefixState state in node.Prefixes)
                latest[state.Prefix] = state;
        }
        return true;
    }

    /// <summary>One changed prefix as the new table has it.</summary>
    public readonly record struct PrefixState(TPrefix Prefix, TRoute? First, bool Grouped);
}
