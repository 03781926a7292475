namespace XdpStack.Fuzz;

/// <summary>A property a target checks did not hold; fuzzers report it as a crash.</summary>
internal sealed class FuzzCheckException(string message) : Exception(message)
{
    public static void That(bool condition, string what)
    {
        if (!condition)
            throw new FuzzCheckException(what);
    }
}
