using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

public sealed partial class PuntProcessTests
{
    private const string VlanTap = "xs-v100";
    private const string VlanName = "vlan100";
    private const int VlanId = 100;
    private const string RouterVlanIpv4 = "198.18.100.1", VlanHostIpv4 = "198.18.100.2";
    private const string VlanHostMac = "02:00:5e:10:00:64";
    private const string BeyondVlanHost = "198.19.77.5";

    /// <summary>
    /// A VLAN sub-interface that punts: its untagged TAP twin resolves and pings the VLAN's host (the kernel's frames
    /// leave tagged, the host's answers come back to the TAP untagged), and a route the kernel holds through the TAP
    /// reaches the appliance through the kernel FIB sync as a route out of the sub-interface, which then forwards
    /// host B's traffic out tagged. This kernel has no 8021q: the VLAN's host is an AF_PACKET socket in host A's
    /// namespace (<see cref="VlanResponderScript"/>).
    /// </summary>
    [Fact]
    public void Run_PuntOnAVlan_TwinPingsTheVlanHostTagged_KernelRouteThroughTheTwinForwardsOutTheVlan()
    {
        using var lab = new RunLab();
        string config = WriteVlanConfig(lab);
        string socket = Path.Combine(Path.GetTempPath(), $"xdpstack-vpunt-{lab.Tag}-{Guid.NewGuid():N}"[..40], "control.sock");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config, "--socket", socket);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains($"{VlanName}: control plane punted to TAP {VlanTap}", router.StandardOutput);

        // The twin: the parent's MAC (a VLAN device shares it), the sub-interface's address, up.
        string link = lab.Dut.Ip("-br", "link", "show", "dev", VlanTap);
        Assert.Contains(RunLab.MacOf(lab.Dut, lab.DutAIf), link);
        Assert.Contains("UP", link);
        Assert.Contains(RouterVlanIpv4 + "/24", lab.Dut.Ip("-br", "addr", "show", "dev", VlanTap));

        string script = Path.Combine(Path.GetTempPath(), $"xdpstack-vlan-responder-{lab.Tag}.py");
        File.WriteAllText(script, VlanResponderScript);
        try
        {
            Task<CommandResult> host = Task.Run(() => lab.HostA.Run(TimeSpan.FromSeconds(90), "python3", script, lab.HostAIf,
                RunLab.MacOf(lab.Dut, lab.DutAIf), VlanId.ToString(System.Globalization.CultureInfo.InvariantCulture), VlanHostMac, VlanHostIpv4, "25"));
            Thread.Sleep(1000);

            // The kernel resolves the VLAN host through its TAP and pings it.
            RunProcessTests.Ping(lab.Dut, VlanHostIpv4, "ttl=64");
            Assert.Contains(VlanHostIpv4, lab.Dut.Ip("neigh", "show", "dev", VlanTap));

            // A daemon's route through the twin becomes the appliance's route out of the sub-interface.
            lab.Dut.Ip("route", "add", "198.19.77.0/24", "via", VlanHostIpv4, "dev", VlanTap, "proto", "bird");
            string? route = null;
            for (int i = 0; i < 100 && route is null; i++)
            {
                CommandResult show = XdpstackProcess.Run(lab.Dut, TimeSpan.FromSeconds(30), "show", "routes", "--json", "--socket", socket);
                Assert.True(show.ExitCode == 0, show.StandardError);
                using JsonDocument routes = JsonDocument.Parse(show.StandardOutput);
                route = routes.RootElement.GetProperty("routes").EnumerateArray()
                    .Where(r => r.GetProperty("prefix").GetString() == "198.19.77.0/24").Select(r => r.ToString()).FirstOrDefault();
                if (route is null)
                    Thread.Sleep(100);
            }
            Assert.NotNull(route);
            Assert.Contains($"\"via\":\"{VlanHostIpv4}\"", route);
            Assert.Contains($"\"interface\":\"{VlanName}\"", route);
            Assert.Contains("\"source\":\"kernel\"", route);

            // Host B's datagrams beyond the VLAN host leave tagged, one hop on.
            NamespaceThread.Run(lab.HostB, () =>
            {
                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                for (int i = 0; i < 5; i++)
                {
                    udp.SendTo("beyond the VLAN"u8, new IPEndPoint(IPAddress.Parse(BeyondVlanHost), 9));
                    Thread.Sleep(200);
                }
                return 0;
            });

            CommandResult run = host.Result;
            Assert.True(run.ExitCode == 0, $"responder: {run.StandardOutput}{run.StandardError}");
            using JsonDocument result = JsonDocument.Parse(run.StandardOutput);
            JsonElement r = result.RootElement;
            Assert.True(r.GetProperty("arp_replies").GetInt32() >= 1, run.StandardOutput);
            Assert.True(r.GetProperty("echo_replies").GetInt32() >= 3, run.StandardOutput);
            Assert.Contains(r.GetProperty("forwarded").EnumerateArray(), f => f.GetProperty("dst").GetString() == BeyondVlanHost && f.GetProperty("ttl").GetInt32() == 63);
            // Everything the appliance sent the host (to its MAC, or ARP for its address) carried VLAN 100's tag.
            Assert.All(r.GetProperty("tags").EnumerateArray(), t => Assert.Equal(VlanId, t.GetInt32()));
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static string WriteVlanConfig(RunLab lab)
    {
        string path = Path.Combine(Path.GetTempPath(), $"xdpstack-{lab.Tag}-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, $"""
            # Written by PuntProcessTests: host A — xdpstack (VLAN {VlanId} on A's side punting to {VlanTap}) — host B.
            [workers]
            cores = [{Environment.ProcessorCount - 1}]

            [xdp]
            frames_per_worker = 8192
            fill_ring = 2048
            lpm_huge_pages = false

            [[interface]]
            name = "{lab.DutAIf}"
            addresses = ["{RunLab.RouterAIpv4}/24"]

            [[interface]]
            name = "{lab.DutBIf}"
            addresses = ["{RunLab.RouterBIpv4}/24"]

            [[vlan]]
            parent = "{lab.DutAIf}"
            name = "{VlanName}"
            id = {VlanId}
            addresses = ["{RouterVlanIpv4}/24"]
            punt = true
            punt_tap = "{VlanTap}"

            [kernel_routes]
            sync = true
            ipv6 = false
            """);
        return path;
    }

    /// <summary>The VLAN's host for <see cref="Run_PuntOnAVlan_TwinPingsTheVlanHostTagged_KernelRouteThroughTheTwinForwardsOutTheVlan"/>: answers tagged ARP and ping, records forwarded UDP and every tag it saw, as JSON.</summary>
    private const string VlanResponderScript = """
        # A host on VLAN {vid}, made of one AF_PACKET socket (no 8021q here). For SECONDS it answers ARP requests and
        # echo requests for its address, records the UDP the appliance forwards to it, and the tag of every frame the
        # appliance sent it. Received tags come from PACKET_AUXDATA (the kernel takes them out of the frame).
        import json, select, socket, struct, sys, time

        ETH_P_ALL, SOL_PACKET, PACKET_AUXDATA, SO_RCVBUFFORCE = 3, 263, 8, 33
        TP_STATUS_VLAN_VALID, PACKET_OUTGOING = 0x10, 4
        iface, dut_text, vid, me_text, my4_text, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6])
        mac = lambda t: bytes.fromhex(t.replace(':', ''))
        DUT, ME, MY4 = mac(dut_text), mac(me_text), socket.inet_aton(my4_text)

        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
        s.bind((iface, 0))

        def csum(data):
            if len(data) % 2:
                data += b'\0'
            total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
            while total >> 16:
                total = (total & 0xffff) + (total >> 16)
            return (~total) & 0xffff

        def send(dst, ethertype, payload):
            s.send(dst + ME + struct.pack('!HHH', 0x8100, vid, ethertype) + payload)

        result = {"arp_replies": 0, "echo_replies": 0, "forwarded": [], "tags": []}
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if not select.select([s], [], [], 0.1)[0]:
                continue
            data, ancillary, _, address = s.recvmsg(65535, socket.CMSG_LEN(64))
            if address[2] == PACKET_OUTGOING or data[6:12] != DUT:
                continue
            tag, ethertype, payload = None, struct.unpack('!H', data[12:14])[0], data[14:]
            for level, kind, cdata in ancillary:
                if level == SOL_PACKET and kind == PACKET_AUXDATA:
                    status, _, _, _, _, tci, _ = struct.unpack_from('=IIIHHHH', cdata)
                    if status & TP_STATUS_VLAN_VALID:
                        tag = tci & 0xfff
            if ethertype == 0x8100:
                tag, ethertype, payload = struct.unpack('!H', data[14:16])[0] & 0xfff, struct.unpack('!H', data[16:18])[0], data[18:]
            # Frames for this host: to its MAC, or ARP requests for its address (the parent's own untagged traffic
            # with host A is none of its business).
            if data[0:6] == ME or (ethertype == 0x0806 and payload[24:28] == MY4):
                result["tags"].append(tag)
            if tag != vid:
                continue
            if ethertype == 0x0806 and payload[6:8] == b'\0\1' and payload[24:28] == MY4:
                sender_mac, sender_ip = payload[8:14], payload[14:18]
                send(sender_mac, 0x0806, struct.pack('!HHBBH', 1, 0x0800, 6, 4, 2) + ME + MY4 + sender_mac + sender_ip)
                result["arp_replies"] += 1
            elif ethertype == 0x0800:
                ihl = (payload[0] & 15) * 4
                total = struct.unpack('!H', payload[2:4])[0]
                proto, src, dst = payload[9], payload[12:16], payload[16:20]
                if proto == 1 and dst == MY4 and payload[ihl] == 8:
                    body = b'\0\0\0\0' + payload[ihl + 4:total]
                    body = body[:2] + struct.pack('!H', csum(body)) + body[4:]
                    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), 0, 0, 64, 1, 0, MY4, src)
                    send(data[6:12], 0x0800, h[:10] + struct.pack('!H', csum(h)) + h[12:] + body)
                    result["echo_replies"] += 1
                elif proto == 17 and dst != MY4:
                    result["forwarded"].append({"dst": socket.inet_ntoa(dst), "ttl": payload[8]})
        print(json.dumps(result))
        """;
}
