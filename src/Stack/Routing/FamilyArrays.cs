namespace XdpStack.Stack.Routing;

/// <summary>One family's part of a <see cref="RouteTable"/>, as <see cref="RouteFamilyWriter{TRoute, TPrefix}.Snapshot"/> produces it.</summary>
internal readonly record struct FamilyArrays<TRoute, TLpm>(TRoute[] Routes, int[] FirstByPrefixId, TLpm? Lpm, int[] GroupByPosition, MultipathGroup[] Groups)
    where TLpm : class;
