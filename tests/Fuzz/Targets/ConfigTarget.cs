using System.Text;
using XdpStack.Appliance.Config;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>
/// The config loader (TOML through Tomlyn, then binding and validation), checked against a made-up machine with eth1
/// and eth2: text in, either a config or errors out, never an exception; every error has a position inside the text
/// and a one-line message.
/// </summary>
internal sealed class ConfigTarget : FuzzTarget
{
    private readonly Host _host = new();

    public override string Name => "config";

    public override string Covers => "ConfigLoader.TryParse: a config xor errors with positions in the text, never an exception";

    public override int MaxLength => 4096;

    public override void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        bool ok = ConfigLoader.TryParse(text, "fuzz.toml", "/fuzz.toml", _host, out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors);
        FuzzCheckException.That(ok == (errors.Count == 0), $"TryParse returned {ok} with {errors.Count} errors");
        FuzzCheckException.That(ok == (config is not null), $"TryParse returned {ok} with config {config}");
        // As ConfigRobustnessTests asks: every error has a position inside the text and a one-line message.
        int lines = text.Split('\n').Length;
        foreach (ConfigError error in errors)
        {
            FuzzCheckException.That(error.File == "fuzz.toml" && !string.IsNullOrWhiteSpace(error.Message) && !error.Message.Contains('\n'),
                $"error without a file or a one-line message: {error}");
            FuzzCheckException.That(error.Position is { } p && p.Line >= 1 && p.Line <= lines && p.Column >= 1, $"error position outside the text: {error}");
        }
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => source.Configs.Select(Encoding.UTF8.GetBytes);

    // The machine the examples were written for: eth1 and eth2 with two queues each, CPUs 0-3.
    private sealed class Host : IHostFacts
    {
        private readonly Dictionary<string, DeviceFacts> _devices = new(StringComparer.Ordinal)
        {
            ["eth1"] = new DeviceFacts("eth1", 2, MacAddress.Parse("02:00:00:00:00:01"), 1500),
            ["eth2"] = new DeviceFacts("eth2", 2, MacAddress.Parse("02:00:00:00:00:02"), 1500),
        };

        public IReadOnlySet<int>? OnlineCpus { get; } = new HashSet<int> { 0, 1, 2, 3 };

        public bool TryGetDevice(string name, out DeviceFacts facts) => _devices.TryGetValue(name, out facts!);
    }
}
