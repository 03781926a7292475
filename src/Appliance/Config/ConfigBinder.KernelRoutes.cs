using System.Globalization;
using XdpStack.Appliance.Config.Toml;

namespace XdpStack.Appliance.Config;

internal sealed partial class ConfigBinder
{
    // iproute2's rt_tables names for the tables a routing daemon may write (RT_TABLE_DEFAULT, RT_TABLE_MAIN).
    private static readonly string[] s_tableNames = ["main", "default"];
    private const uint LocalTable = 255;

    private void ReadKernelRoutes(TableReader reader)
    {
        KernelRoutesConfig d = KernelRoutesConfig.Default;
        bool sync = reader.Boolean("sync", d.Sync);
        (uint table, string tableName) = ReadTable(reader, d);
        bool ipv4 = reader.Boolean("ipv4", d.Ipv4), ipv6 = reader.Boolean("ipv6", d.Ipv6);
        if (sync && !ipv4 && !ipv6)
            _errors.Add(reader.Position, "[kernel_routes] has sync = true but ipv4 = false and ipv6 = false, so it would follow nothing; set sync = false instead");
        _kernelRoutes = new KernelRoutesConfig(sync, table, tableName, ipv4, ipv6);
        reader.ReportUnknownKeys();
    }

    private (uint Id, string Name) ReadTable(TableReader reader, KernelRoutesConfig d)
    {
        const string expected = "\"main\", \"default\" or a table number from 1 to 4294967295";
        TomlValue? value = reader.Value("table");
        switch (value)
        {
            case null:
                return (d.Table, d.TableName);
            case TomlString { Value: "main" }:
                return (KernelRoutesConfig.MainTable, "main");
            case TomlString { Value: "default" }:
                return (253, "default");
            case TomlString { Value: "local" } local:
                _errors.Add(local.Position, LocalTableError("\"local\""));
                return (d.Table, d.TableName);
            case TomlString text:
                string? guess = KeySuggestion.Closest(text.Value, s_tableNames);
                _errors.Add(text.Position, $"'table' in [kernel_routes] must be {expected}, not \"{text.Value}\""
                    + (guess is null ? "" : $" (did you mean \"{guess}\"?)"));
                return (d.Table, d.TableName);
            case TomlInteger { Value: LocalTable } local:
                _errors.Add(local.Position, LocalTableError("255"));
                return (d.Table, d.TableName);
            case TomlInteger { Value: >= 1 and <= uint.MaxValue } number:
                uint id = (uint)number.Value;
                return (id, id switch
                {
                    KernelRoutesConfig.MainTable => "main",
                    253 => "default",
                    _ => id.ToString(CultureInfo.InvariantCulture),
                });
            case TomlInteger number:
                _errors.Add(number.Position, string.Create(CultureInfo.InvariantCulture, $"'table' in [kernel_routes] must be {expected}, not {number.Value}"));
                return (d.Table, d.TableName);
            default:
                reader.TypeError("table", value, expected);
                return (d.Table, d.TableName);
        }
    }

    private static string LocalTableError(string written) =>
        $"'table' in [kernel_routes] is {written}, the kernel's table of its own addresses (local and broadcast routes), which never forwards; name the table the routing daemon writes (\"main\" unless it is told otherwise)";
}
