using System.Diagnostics;
using XdpStack.Lab;

namespace XdpStack.Stack.Tests.Wire.Capture;

/// <summary>
/// Makes the capture files of Wire/Data: two namespaces joined by a veth, Linux tools as the senders,
/// tcpdump on the receiving end. Every value the tests check is set here or in traffic.py.
/// </summary>
internal static class WireCapture
{
    public const string MacA = "02:00:00:00:00:01";
    public const string MacB = "02:00:00:00:00:02";

    /// <summary>The capture files, each with its tcpdump filter and the number of packets it stops at.</summary>
    public static readonly (string File, string Filter, int Count)[] Scenarios =
    [
        ("arp-icmp4.pcap", "arp or icmp", 4),
        ("icmp6-nd-echo.pcap", "icmp6 and (ip6[40] == 135 or ip6[40] == 136 or ip6[40] == 128 or ip6[40] == 129)", 4),
        ("udp4.pcap", "ip and (udp or icmp)", 2),
        ("tcp4-handshake.pcap", "tcp", 3),
        ("ipv6-fragments.pcap", "ip6[6] == 44", 6),
        ("ipv6-extension-headers.pcap", "src host 2001:2::1 and dst host 2001:2::2 and (ip6[6] == 0 or ip6[6] == 43)", 2),
        ("mld-report.pcap", "ip6[6] == 0 and dst host ff02::16 and ip6[48] == 143", 1),
        ("vlan.pcap", "vlan", 1),
    ];

    /// <summary>Runs every scenario and writes its capture file into <paramref name="directory"/>.</summary>
    public static void CaptureAll(string directory, string trafficScript)
    {
        using var lab = new NetworkLab();
        NetNamespace a = lab.AddNamespace("a"), b = lab.AddNamespace("b");
        (string va, string vb) = lab.AddVeth(a, b);
        Configure(a, va, MacA, "198.18.0.1/24", "2001:2::1/64");
        Configure(b, vb, MacB, "198.18.0.2/24", "2001:2::2/64");
        // Let link-local addresses and the first MLD reports settle, so they do not race the captures.
        Thread.Sleep(1500);

        Capture(b, vb, directory, "arp-icmp4.pcap", () =>
            a.Check("ping", "-c", "1", "-e", "4660", "-p", "786470", "-t", "64", "198.18.0.2"));
        Capture(b, vb, directory, "icmp6-nd-echo.pcap", () =>
            a.Check("ping", "-6", "-c", "1", "-e", "4661", "2001:2::2"));
        Capture(b, vb, directory, "udp4.pcap", () =>
            a.Check("python3", trafficScript, "udp4"));
        Capture(b, vb, directory, "tcp4-handshake.pcap", () =>
        {
            using Process listener = Start(b, "python3", trafficScript, "tcp-listen");
            if (listener.StandardOutput.ReadLine() != "ready")
                throw new InvalidOperationException("the TCP listener did not start");
            a.Check("python3", trafficScript, "tcp-connect");
            listener.WaitForExit(5000);
        });
        Capture(b, vb, directory, "ipv6-fragments.pcap", () =>
            a.Check("ping", "-6", "-c", "1", "-s", "3000", "-e", "4662", "2001:2::2"));
        Capture(b, vb, directory, "ipv6-extension-headers.pcap", () =>
        {
            a.Check("python3", trafficScript, "udp6ext");
            a.Check("python3", trafficScript, "srv6-echo");
        });
        Capture(b, vb, directory, "mld-report.pcap", () =>
            a.Check("python3", trafficScript, "mld-join", va));
        Capture(b, vb, directory, "vlan.pcap", () =>
            a.Check("python3", trafficScript, "vlan", va));
    }

    private static void Configure(NetNamespace ns, string dev, string mac, string v4, string v6)
    {
        ns.Ip("link", "set", dev, "down");
        ns.Ip("link", "set", dev, "address", mac);
        ns.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dev}.accept_dad=0");
        // veth offloads the checksums by default, which leaves partial sums in the capture.
        ns.Check("ethtool", "-K", dev, "tx", "off");
        ns.Ip("link", "set", dev, "up");
        ns.Ip("addr", "add", v4, "dev", dev);
        ns.Ip("addr", "add", v6, "dev", dev, "nodad");
    }

    private static void Capture(NetNamespace ns, string dev, string directory, string file, Action traffic)
    {
        (string _, string filter, int count) = Scenarios.Single(s => s.File == file);
        string path = Path.Combine(directory, file);
        using Process tcpdump = Start(ns, "tcpdump", "-i", dev, "-U", "-n", "-c", count.ToString(), "-w", path, filter);
        // tcpdump says "listening on" once its filter is attached; traffic sent earlier would be missed.
        string? line;
        while ((line = tcpdump.StandardError.ReadLine()) is not null && !line.Contains("listening on", StringComparison.Ordinal))
        {
        }
        if (line is null)
            throw new InvalidOperationException($"tcpdump for {file} did not start");
        _ = tcpdump.StandardError.ReadToEndAsync();
        traffic();
        if (!tcpdump.WaitForExit(10_000))
        {
            tcpdump.Kill();
            throw new InvalidOperationException($"{file}: tcpdump saw fewer than {count} packets");
        }
    }

    private static Process Start(NetNamespace ns, string program, params string[] args)
    {
        var psi = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["netns", "exec", ns.Name, program, .. args])
            psi.ArgumentList.Add(arg);
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
    }
}
