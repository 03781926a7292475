namespace XdpStack.Stack.Routing;

/// <summary>One family's part of a <see cref="RouteTable"/>, as <see cref="RouteFamilyWriter{TRoute, TPrefix}.Snapshot"/> produces it.</summary>
internal readonly record struct FamilyArrays<TRoute, TPrefix, TLpm>(TRoute[] Routes, int[] FirstByPrefixId, TLpm? Lpm, int[] GroupByPosition, MultipathGroup[] Groups, RouteChanges<TRoute, TPrefix>? Changes)
    where TRoute : class
    where TPrefix : struct, IEquatable<TPrefix>
    where TLpm : class;
