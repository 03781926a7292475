namespace XdpStack.Appliance.Config;

/// <summary>What the config is checked against on the machine it will run on: devices and CPUs.</summary>
/// <remarks>
/// Reading these facts must change nothing on the machine: <c>run --check</c> goes through the same
/// checks and promises to touch no interface. Tests use a fake.
/// </remarks>
internal interface IHostFacts
{
    /// <summary>Looks a network device up by name in the current network namespace; false when there is none.</summary>
    bool TryGetDevice(string name, out DeviceFacts facts);

    /// <summary>The CPUs that are online, or null when they cannot be read (then cores are not checked).</summary>
    IReadOnlySet<int>? OnlineCpus { get; }

    /// <summary>Looks a user up by name or uid in /etc/passwd (<c>[management] user</c>); null when there is none.</summary>
    RunAsUser? FindUser(string name) => RunAsUser.FromPasswd(name);
}
