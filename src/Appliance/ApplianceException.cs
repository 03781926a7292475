namespace XdpStack.Appliance;

/// <summary>A failure the user can act on; its message is printed as one line, without a stack trace.</summary>
internal sealed class ApplianceException : Exception
{
    public ApplianceException(string message) : base(message)
    {
    }

    public ApplianceException(string message, Exception inner) : base(message, inner)
    {
    }

    public ApplianceException()
    {
    }
}
