namespace XdpStack.Lab;

/// <summary>Exit code and captured output of a finished command.</summary>
public readonly record struct CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}
