using System.Collections.Immutable;

namespace XdpStack.Appliance.Config;

/// <summary>The NIC queues an interface is served on: every queue the device has, or a list of queue indexes.</summary>
internal sealed class QueueSelection : IEquatable<QueueSelection>
{
    private QueueSelection(ImmutableArray<int> indexes)
    {
        Indexes = indexes;
    }

    /// <summary>Every queue of the device, counted when the appliance starts.</summary>
    public static QueueSelection All { get; } = new([]);

    public bool IsAll => Indexes.IsEmpty;

    /// <summary>The queue indexes in the order written; empty for <see cref="All"/>.</summary>
    public ImmutableArray<int> Indexes { get; }

    public static QueueSelection Of(IEnumerable<int> indexes)
    {
        ImmutableArray<int> list = [.. indexes];
        if (list.IsEmpty)
            throw new ArgumentException("a queue list names at least one queue", nameof(indexes));
        return new QueueSelection(list);
    }

    /// <summary>The queue indexes on a device with <paramref name="queueCount"/> queues.</summary>
    public ImmutableArray<int> Resolve(int queueCount) => IsAll ? [.. Enumerable.Range(0, queueCount)] : Indexes;

    public bool Equals(QueueSelection? other) => other is not null && Indexes.SequenceEqual(other.Indexes);

    public override bool Equals(object? obj) => Equals(obj as QueueSelection);

    public override int GetHashCode() => Indexes.Aggregate(17, HashCode.Combine);

    /// <summary>"all", or the indexes as written in a config: "0,1".</summary>
    public override string ToString() => IsAll ? "all" : string.Join(',', Indexes);
}
