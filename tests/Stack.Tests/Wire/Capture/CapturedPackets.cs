namespace XdpStack.Stack.Tests.Wire.Capture;

/// <summary>The frames of the capture files in one directory (by default the committed Wire/Data).</summary>
internal sealed class CapturedPackets(string directory)
{
    public static string DataDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "Wire", "Data");

    public static CapturedPackets Committed { get; } = new(DataDirectory);

    public List<byte[]> ArpIcmp4 => Read("arp-icmp4.pcap");

    public List<byte[]> Icmp6NdEcho => Read("icmp6-nd-echo.pcap");

    public List<byte[]> Udp4 => Read("udp4.pcap");

    public List<byte[]> Tcp4Handshake => Read("tcp4-handshake.pcap");

    public List<byte[]> Ipv6Fragments => Read("ipv6-fragments.pcap");

    public List<byte[]> Ipv6ExtensionHeaders => Read("ipv6-extension-headers.pcap");

    public List<byte[]> MldReport => Read("mld-report.pcap");

    public List<byte[]> Vlan => Read("vlan.pcap");

    /// <summary>Every frame of every file, for the property tests.</summary>
    public IEnumerable<byte[]> All => Directory.GetFiles(directory, "*.pcap").Order(StringComparer.Ordinal).SelectMany(PcapReader.ReadFrames);

    // A fresh copy per call: tests write into frames.
    private List<byte[]> Read(string file) => PcapReader.ReadFrames(Path.Combine(directory, file));
}
