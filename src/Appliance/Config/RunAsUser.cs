using System.Globalization;

namespace XdpStack.Appliance.Config;

/// <summary>The user <c>[management] user</c> names, resolved from /etc/passwd.</summary>
internal sealed record RunAsUser(string Name, uint Uid, uint Gid)
{
    /// <summary>Looks <paramref name="name"/> (or a numeric uid) up in this machine's /etc/passwd.</summary>
    public static RunAsUser? FromPasswd(string name) => File.Exists("/etc/passwd") ? Resolve(name, File.ReadLines("/etc/passwd")) : null;

    /// <summary>Looks <paramref name="name"/> (or a numeric uid) up in <paramref name="passwd"/>'s lines (the /etc/passwd format); null when no line has it.</summary>
    public static RunAsUser? Resolve(string name, IEnumerable<string> passwd)
    {
        bool numeric = uint.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out uint wanted);
        foreach (string line in passwd)
        {
            string[] f = line.Split(':');
            if (f.Length < 4 || !uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid)
                || !uint.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out uint gid))
                continue;
            if (numeric ? uid == wanted : f[0] == name)
                return new RunAsUser(f[0], uid, gid);
        }
        return null;
    }
}
