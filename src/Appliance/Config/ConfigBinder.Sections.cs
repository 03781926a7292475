using XdpStack.Stack.Routing;
using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Config.Toml;

namespace XdpStack.Appliance.Config;

internal sealed partial class ConfigBinder
{
    /// <summary>The highest queue or CPU index accepted, as for the command-line index lists.</summary>
    private const int MaxIndex = 4095;

    private static readonly string[] s_copyModes = ["auto", "copy", "zero-copy"];
    private static readonly string[] s_attachModes = ["auto", "native", "generic"];

    // Index 0 is the default, Layer 4 (VPP's default flow hash, Linux's fib_multipath_hash_policy=1).
    private static readonly string[] s_multipathHashes = ["l4", "l3"];

    private void ReadForwarding(TableReader reader)
    {
        _forwarding = new ForwardingConfig(reader.Boolean("ipv4", true), reader.Boolean("ipv6", true));
        if (reader.Choice("multipath_hash", s_multipathHashes) is { } hash)
            _multipathHash = hash.Value == 1 ? MultipathHashPolicy.Layer3 : MultipathHashPolicy.Layer4;
        reader.ReportUnknownKeys();
    }

    private void ReadWorkers(TableReader reader)
    {
        List<Located<int>>? cores = ReadIndexes(reader, "cores", "CPU", allowAll: false, out _, out SourcePosition coresPosition);
        int batch = (int)(reader.Integer("batch", 1, WorkersConfig.MaxBatch)?.Value ?? WorkersConfig.DefaultBatch);
        int nice = (int)(reader.Integer("nice", -20, 19)?.Value ?? WorkersConfig.DefaultNice);
        _workers = new WorkersDraft(cores ?? [], cores is null ? null : coresPosition, batch, nice);
        reader.ReportUnknownKeys();
    }

    private void ReadXdp(TableReader reader)
    {
        XdpConfig d = XdpConfig.Default;
        _xdp = new XdpConfig(
            Mode: reader.Choice("mode", s_copyModes)?.Value switch { 1 => CopyMode.Copy, 2 => CopyMode.ZeroCopy, _ => d.Mode },
            Attach: reader.Choice("attach", s_attachModes)?.Value switch { 1 => AttachMode.Native, 2 => AttachMode.Generic, _ => d.Attach },
            BusyPoll: reader.Boolean("busy_poll", d.BusyPoll),
            ReplaceProgram: reader.Boolean("replace_program", d.ReplaceProgram),
            RxRing: RingSize(reader, "rx_ring", d.RxRing),
            TxRing: RingSize(reader, "tx_ring", d.TxRing),
            FillRing: RingSize(reader, "fill_ring", d.FillRing),
            CompletionRing: RingSize(reader, "completion_ring", d.CompletionRing),
            FrameSize: FrameSize(reader, d.FrameSize),
            FramesPerWorker: (int)(reader.Integer("frames_per_worker", WorkersConfig.MaxBatch, XdpConfig.MaxFramesPerWorker)?.Value ?? d.FramesPerWorker),
            UmemHugePages: reader.Boolean("umem_huge_pages", d.UmemHugePages),
            LpmHugePages: reader.Boolean("lpm_huge_pages", d.LpmHugePages));
        reader.ReportUnknownKeys();
    }

    private int RingSize(TableReader reader, string key, int defaultSize)
    {
        if (reader.Integer(key, XdpConfig.MinRing, XdpConfig.MaxRing) is not { } size)
            return defaultSize;
        // The kernel indexes rings with a mask (xsk_queue.h), so it refuses any other size.
        if (!int.IsPow2((int)size.Value))
        {
            _errors.Add(size.Position, $"'{key}' in [xdp] must be a power of two, not {size.Value}");
            return defaultSize;
        }
        return (int)size.Value;
    }

    private int FrameSize(TableReader reader, int defaultSize)
    {
        if (reader.Integer("frame_size", 0, int.MaxValue) is not { } size)
            return defaultSize;
        if (size.Value is not (2048 or 4096))
        {
            _errors.Add(size.Position, $"'frame_size' in [xdp] must be 2048 or 4096, not {size.Value}");
            return defaultSize;
        }
        return (int)size.Value;
    }

    private void ReadManagement(TableReader reader)
    {
        if (reader.String("listen") is { } listen)
        {
            if (listen.Value.Length == 0)
                _management = _management with { Listen = null };
            else if (ConfigValueParser.TryParseEndpoint(listen.Value, out var endpoint, out string? error))
                _management = _management with { Listen = endpoint };
            else
                _errors.Add(listen.Position, $"'listen' in [management]: {error}");
        }
        if (reader.String("user") is { } user)
        {
            if (user.Value.Length == 0)
                _management = _management with { User = null };
            else if ((_host is null ? RunAsUser.FromPasswd(user.Value) : _host.FindUser(user.Value)) is { } found)
                _management = _management with { User = found };
            else
                _errors.Add(user.Position, $"'user' in [management]: no user '{user.Value}' in /etc/passwd (create one, name an existing one such as \"nobody\", or \"\" to stay root)");
        }
        reader.ReportUnknownKeys();
    }

    /// <summary>
    /// Reads a list of indexes written as an array ([0, 1]) or a string ("0,2-3"), and for queues also
    /// "all". Returns null when the key is absent, is "all" (<paramref name="all"/> set) or is wrong.
    /// </summary>
    private List<Located<int>>? ReadIndexes(TableReader reader, string key, string noun, bool allowAll, out bool all, out SourcePosition position)
    {
        all = false;
        position = default;
        TomlValue? value = reader.Value(key);
        if (value is null)
            return null;
        position = value.Position;
        string expected = allowAll
            ? "\"all\", an array of queue indexes such as [0, 1], or a string such as \"0,2-3\""
            : "an array of CPU numbers such as [1, 2], or a string such as \"1-4\"";
        switch (value)
        {
            case TomlString { Value: "all" } when allowAll:
                all = true;
                return null;
            case TomlString text:
                if (!IndexList.TryParse(text.Value, out int[] indexes, out string error))
                {
                    _errors.Add(text.Position, $"'{key}' {reader.In}: {error}");
                    return null;
                }
                return [.. indexes.Select(i => new Located<int>(i, text.Position))];
            case TomlArray array:
                return ReadIndexArray(reader, key, noun, array);
            default:
                reader.TypeError(key, value, expected);
                return null;
        }
    }

    private List<Located<int>>? ReadIndexArray(TableReader reader, string key, string noun, TomlArray array)
    {
        if (array.Items.Count == 0)
        {
            _errors.Add(array.Position, noun == "CPU"
                ? $"'{key}' {reader.In} is empty; leave it out to run the workers unpinned"
                : $"'{key}' {reader.In} is empty; write \"all\" or list the queues to serve");
            return null;
        }
        var result = new List<Located<int>>();
        bool valid = true;
        foreach (TomlValue item in array.Items)
        {
            if (item is not TomlInteger { Value: >= 0 and <= MaxIndex } index)
            {
                _errors.Add(item.Position, item is TomlInteger number
                    ? $"{noun} {number.Value} in '{key}' {reader.In} is out of range (0 to {MaxIndex})"
                    : $"'{key}' {reader.In} must list integers, not {item.TypeName}");
                valid = false;
                continue;
            }
            if (result.Any(r => r.Value == index.Value))
            {
                _errors.Add(index.Position, noun == "CPU"
                    ? $"CPU {index.Value} is listed twice in '{key}' {reader.In}: two workers cannot share a CPU"
                    : $"queue {index.Value} is listed twice in '{key}' {reader.In}");
                valid = false;
                continue;
            }
            result.Add(new Located<int>((int)index.Value, index.Position));
        }
        return valid ? result : null;
    }
}
