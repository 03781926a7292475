using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Wire;

/// <summary>Up to four SACK blocks (RFC 2018 §3), held inline so that a header or segment carrying them allocates nothing.</summary>
/// <remarks>Four is the most a SACK option fits in 40 octets of options; with timestamps only three fit, which the sender decides.</remarks>
public struct TcpSackBlocks : IEquatable<TcpSackBlocks>
{
    /// <summary>RFC 2018 §3: at most 4 blocks in the 40 octets of options.</summary>
    public const int MaxBlocks = 4;

    private Edges _edges;

    /// <summary>How many blocks are held.</summary>
    public int Count { readonly get; private set; }

    /// <summary>Appends a block [<paramref name="left"/>, <paramref name="right"/>); false when four are already held.</summary>
    public bool Add(uint left, uint right)
    {
        if (Count == MaxBlocks)
            return false;
        _edges[2 * Count] = left;
        _edges[(2 * Count) + 1] = right;
        Count++;
        return true;
    }

    /// <summary>Block <paramref name="index"/>'s left edge: its first sequence number.</summary>
    public readonly uint Left(int index) => _edges[2 * index];

    /// <summary>Block <paramref name="index"/>'s right edge: the sequence number just past it.</summary>
    public readonly uint Right(int index) => _edges[(2 * index) + 1];

    public readonly bool Equals(TcpSackBlocks other)
    {
        if (Count != other.Count)
            return false;
        for (int i = 0; i < 2 * Count; i++)
        {
            if (_edges[i] != other._edges[i])
                return false;
        }
        return true;
    }

    public override readonly bool Equals(object? obj) => obj is TcpSackBlocks other && Equals(other);

    public override readonly int GetHashCode() => Count == 0 ? 0 : HashCode.Combine(Count, _edges[0], _edges[1]);

    public static bool operator ==(TcpSackBlocks left, TcpSackBlocks right) => left.Equals(right);

    public static bool operator !=(TcpSackBlocks left, TcpSackBlocks right) => !left.Equals(right);

    [InlineArray(2 * MaxBlocks)]
    private struct Edges
    {
        private uint _element;
    }
}
