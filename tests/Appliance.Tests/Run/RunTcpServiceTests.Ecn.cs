using System.Net;
using System.Net.Sockets;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

public sealed partial class RunTcpServiceTests
{
    /// <summary>
    /// A Linux client that asks for ECN (net.ipv4.tcp_ecn = 1, SYN with ECE and CWR) gets it, as from a Linux server:
    /// our SYN-ACK carries ECE alone and our data leaves ECT(0), as tcpdump on the client sees them. A client that
    /// does not ask (the default, 2) gets neither.
    /// </summary>
    [Fact]
    public void Run_EcnClient_GetsEceInTheSynAckAndEct0Data()
    {
        using var lab = new RunLab();
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: "", services: Services);
        using XdpstackProcess run = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        run.WaitForOutput("xdpstack: ready", StartTimeout);

        string plain = EchoCaptured(lab);
        Assert.True(plain.Contains("Flags [S.],", StringComparison.Ordinal) && !plain.Contains("ECT(0)", StringComparison.Ordinal), plain);

        CommandResult sysctl = lab.HostA.Run("sysctl", "-w", "net.ipv4.tcp_ecn=1");
        Assert.True(sysctl.ExitCode == 0, sysctl.StandardError);
        string ecn = EchoCaptured(lab);
        Assert.True(ecn.Contains("Flags [S.E],", StringComparison.Ordinal), ecn);
        string[] lines = ecn.Split('\n');
        // tcpdump -v prints the IP header on one line and the TCP segment on the next.
        int data = Array.FindIndex(lines, l => l.Contains("length 1448", StringComparison.Ordinal));
        Assert.True(data > 0 && lines[data - 1].Contains("tos 0x2,ECT(0)", StringComparison.Ordinal), ecn);
        // Bare ACKs leave Not-ECT (RFC 3168 §6.1.4).
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Contains("Flags [.]", StringComparison.Ordinal) && lines[i].EndsWith("length 0", StringComparison.Ordinal))
                Assert.True(lines[i - 1].Contains("(tos 0x0,", StringComparison.Ordinal), ecn);
        }

        run.Signal("TERM");
        Assert.Equal(0, run.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    // Echoes 100,000 octets through port 7 from host A while tcpdump there prints the first 24 segments we send.
    private static string EchoCaptured(RunLab lab)
    {
        CommandResult dump = default;
        var capture = new Thread(() => dump = lab.HostA.Run(TimeSpan.FromSeconds(20), "timeout", "10", "tcpdump", "-i", lab.HostAIf, "-c", "24", "-n", "-v",
            "-l", "--immediate-mode", $"src host {RunLab.RouterAIpv4} and tcp src port 7"));
        capture.Start();
        // tcpdump says "listening on" once its filter is in place; give it that long.
        Thread.Sleep(1500);
        NamespaceThread.Run(lab.HostA, () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.ReceiveTimeout = 20_000;
            socket.Connect(new IPEndPoint(IPAddress.Parse(RunLab.RouterAIpv4), 7));
            byte[] data = new byte[100_000];
            Random.Shared.NextBytes(data);
            socket.Send(data);
            byte[] received = new byte[data.Length];
            int got = 0;
            while (got < data.Length)
            {
                int n = socket.Receive(received, got, data.Length - got, SocketFlags.None);
                Assert.True(n > 0, $"the echo ended after {got} octets");
                got += n;
            }
            Assert.True(data.AsSpan().SequenceEqual(received), "the echoed bytes differ");
            return 0;
        });
        capture.Join();
        Assert.True(dump.StandardError.Contains("24 packets captured", StringComparison.Ordinal), dump.StandardOutput + dump.StandardError);
        return dump.StandardOutput;
    }
}
