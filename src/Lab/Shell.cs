using System.Diagnostics;

namespace XdpStack.Lab;

/// <summary>Runs external programs with captured output and a time limit.</summary>
public static class Shell
{
    public static CommandResult Run(string program, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new CommandResult(-1, stdout.Result, stderr.Result + $"\n(timed out after {timeout})");
        }
        return new CommandResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static CommandResult Run(string program, params string[] args) => Run(program, (IEnumerable<string>)args);

    /// <summary>Runs a command and throws <see cref="LabCommandException"/> if it fails.</summary>
    public static string Check(string program, params string[] args)
    {
        CommandResult r = Run(program, args);
        if (!r.Succeeded)
            throw new LabCommandException(program + " " + string.Join(' ', args), r.ExitCode, r.StandardError);
        return r.StandardOutput;
    }

    /// <summary>True when the named program is on PATH.</summary>
    public static bool Exists(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, program)));
}
