namespace XdpStack.Lab;

/// <summary>A command the lab ran (ip, ethtool, a peer tool) exited non-zero.</summary>
public sealed class LabCommandException(string command, int exitCode, string stderr)
    : Exception($"'{command}' exited {exitCode}: {stderr.Trim()}")
{
    public string Command { get; } = command;
    public int ExitCode { get; } = exitCode;
    public string StandardError { get; } = stderr;
}
