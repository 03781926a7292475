namespace XdpStack.Stack.Tests.Wire;

/// <summary>
/// A deliberately plain RFC 1071 checksum to test <c>Checksum</c> against: one big-endian word
/// at a time, end-around carries folded only at the end, nothing clever.
/// </summary>
internal static class ChecksumReference
{
    /// <summary>The folded one's-complement sum of <paramref name="initial"/> and the words of <paramref name="data"/>.</summary>
    public static ushort FoldedSum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = initial;
        for (int i = 0; i < data.Length; i += 2)
        {
            int high = data[i];
            int low = i + 1 < data.Length ? data[i + 1] : 0;
            sum += (uint)(high << 8 | low);
        }
        while (sum > 0xFFFF)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum to store: the complement of <see cref="FoldedSum"/>.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => (ushort)~FoldedSum(data);
}
