namespace XdpStack.Stack.Routing;

public sealed partial class ReaderEpochs
{
    /// <summary>The readers registered at one moment and their counters then; <see cref="HavePassed"/> compares against it.</summary>
    public sealed class Capture
    {
        internal Capture(ReaderEpoch[] readers, long[] values)
        {
            Readers = readers;
            Values = values;
        }

        internal ReaderEpoch[] Readers { get; }

        internal long[] Values { get; }
    }
}
