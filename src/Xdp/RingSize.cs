namespace XdpStack.Xdp;

/// <summary>Validation shared by the four ring types.</summary>
internal static class RingSize
{
    internal static void Check(uint size)
    {
        if (size == 0 || (size & (size - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "ring size must be a power of two");
    }
}
