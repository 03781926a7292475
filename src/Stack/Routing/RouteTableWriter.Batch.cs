namespace XdpStack.Stack.Routing;

public sealed partial class RouteTableWriter
{
    /// <summary>The changes of one <see cref="Update(Action{Batch})"/>; valid only inside that call.</summary>
    public readonly struct Batch
    {
        private readonly RouteTableWriter _writer;

        internal Batch(RouteTableWriter writer) => _writer = writer;

        public void AddRoute(Ipv4Route route) => _writer._v4.Add(route);

        public void AddRoute(Ipv6Route route) => _writer._v6.Add(route);

        /// <summary>Adds every route as <see cref="AddRoute(Ipv4Route)"/> would one by one, in one linear merge (for bulk loads).</summary>
        public void AddRoutes(IReadOnlyList<Ipv4Route> routes) => _writer._v4.AddRange(routes);

        /// <summary>Adds every route as <see cref="AddRoute(Ipv6Route)"/> would one by one, in one linear merge (for bulk loads).</summary>
        public void AddRoutes(IReadOnlyList<Ipv6Route> routes) => _writer._v6.AddRange(routes);

        public int RemoveRoutes(Predicate<Ipv4Route> match) => _writer._v4.RemoveAll(match);

        public int RemoveRoutes(Predicate<Ipv6Route> match) => _writer._v6.RemoveAll(match);

        /// <summary>Removes the first route equal to <paramref name="route"/>; false when there is none.</summary>
        public bool RemoveRoute(Ipv4Route route) => _writer._v4.RemoveFirst(r => r == route);

        /// <summary>Removes the first route equal to <paramref name="route"/>; false when there is none.</summary>
        public bool RemoveRoute(Ipv6Route route) => _writer._v6.RemoveFirst(r => r == route);

        /// <summary>Removes every route of both families.</summary>
        public void Clear()
        {
            _writer._v4.Clear();
            _writer._v6.Clear();
        }
    }
}
