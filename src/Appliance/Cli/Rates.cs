using System.Globalization;

namespace XdpStack.Appliance.Cli;

/// <summary>Rates from counter differences, and their short SI form, shared by <c>reflect</c>'s rate lines and <c>xdpstack stats</c>.</summary>
internal static class Rates
{
    /// <summary>Events per second, rounded; 0 over an empty interval.</summary>
    public static long PerSecond(ulong delta, double seconds) =>
        seconds <= 0 ? 0 : (long)Math.Round(delta / seconds);

    /// <summary>Three significant digits with an SI prefix: <c>0</c>, <c>950</c>, <c>1.23k</c>, <c>45.6M</c>, <c>10.0G</c>.</summary>
    public static string Si(double value)
    {
        if (value < 0 || double.IsNaN(value))
            return "-";
        string[] prefixes = ["", "k", "M", "G", "T"];
        int p = 0;
        while (value >= 999.5 && p < prefixes.Length - 1)
        {
            value /= 1000;
            p++;
        }
        if (p == 0)
            return Math.Round(value).ToString("0", CultureInfo.InvariantCulture);
        string digits = value >= 99.95 ? value.ToString("0", CultureInfo.InvariantCulture)
            : value >= 9.995 ? value.ToString("0.0", CultureInfo.InvariantCulture)
            : value.ToString("0.00", CultureInfo.InvariantCulture);
        return digits + prefixes[p];
    }
}
