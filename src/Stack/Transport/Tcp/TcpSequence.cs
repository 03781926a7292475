namespace XdpStack.Stack.Transport.Tcp;

/// <summary>Comparisons of 32-bit sequence numbers modulo 2^32 (RFC 9293 §3.4), as Linux's <c>before</c>/<c>after</c>.</summary>
internal static class TcpSequence
{
    public static bool LessThan(uint a, uint b) => (int)(a - b) < 0;

    public static bool LessOrEqual(uint a, uint b) => (int)(a - b) <= 0;

    public static bool GreaterThan(uint a, uint b) => (int)(a - b) > 0;

    public static bool GreaterOrEqual(uint a, uint b) => (int)(a - b) >= 0;

    /// <summary>True when <paramref name="low"/> ≤ <paramref name="value"/> &lt; <paramref name="high"/>.</summary>
    public static bool InRange(uint value, uint low, uint high) => (int)(value - low) >= 0 && (int)(value - high) < 0;
}
