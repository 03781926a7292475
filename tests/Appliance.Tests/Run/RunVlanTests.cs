using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>
/// The real <c>xdpstack run</c> process with an 802.1Q sub-interface (VLAN 100) on its first interface. This kernel has
/// no 8021q, so the VLAN's host is a raw AF_PACKET socket in host A's namespace (<see cref="VlanPeerScript"/>), which
/// builds and reads every tagged frame itself, on the same veth that host A uses untagged.
/// </summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class RunVlanTests
{
    private const int VlanId = 100;
    private const string VlanName = "vlan100";
    private const string RouterVlanIpv4 = "198.18.100.1", RouterVlanIpv6 = "2001:2:0:100::1";
    private const string VlanHostIpv4 = "198.18.100.2", VlanHostIpv6 = "2001:2:0:100::2";
    private const string VlanHostMac = "02:00:5e:10:00:64";
    private const int ForwardPort = 5000;
    private const int OtherVlanId = 200;
    private const string RouterOtherVlanIpv4 = "198.18.200.1", OtherVlanHostIpv4 = "198.18.200.2";
    private const string OtherVlanHostMac = "02:00:5e:10:00:c8";

    [Fact]
    public void Run_VlanSubInterfaces_ArpPingNdpUdpEchoForwardingToAnUntaggedInterfaceAndToAnotherVlan_AllTaggedWithTheirIds()
    {
        using var lab = new RunLab();
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: $$"""
            [[vlan]]
            name = "{{VlanName}}"
            parent = "{{lab.DutAIf}}"
            id = {{VlanId}}
            addresses = ["{{RouterVlanIpv4}}/24", "{{RouterVlanIpv6}}/64"]

            [[vlan]]
            parent = "{{lab.DutAIf}}"
            name = "vlan200"
            id = {{OtherVlanId}}
            addresses = ["{{RouterOtherVlanIpv4}}/24"]
            """, services: """
            [[service]]
            kind = "udp-echo"
            port = 7
            """);
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", TimeSpan.FromSeconds(30));

        // Host B answers every datagram to its port, as a Linux service would: the way back to the VLAN host crosses
        // the appliance from the untagged interface to the VLAN.
        using var stop = new CancellationTokenSource();
        Task<int> echoes = Task.Run(() => NamespaceThread.Run(lab.HostB, () => EchoUntil(stop.Token)));
        string peer = Path.Combine(Path.GetTempPath(), $"xdpstack-vlan-peer-{lab.Tag}.py");
        File.WriteAllText(peer, VlanPeerScript);
        CommandResult run;
        try
        {
            run = lab.HostA.Run(TimeSpan.FromSeconds(120), "python3", peer, lab.HostAIf, RunLab.MacOf(lab.Dut, lab.DutAIf), VlanId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                VlanHostMac, VlanHostIpv4, RouterVlanIpv4, VlanHostIpv6, RouterVlanIpv6, RunLab.HostBIpv4, ForwardPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                OtherVlanId.ToString(System.Globalization.CultureInfo.InvariantCulture), OtherVlanHostMac, OtherVlanHostIpv4);
        }
        finally
        {
            stop.Cancel();
            File.Delete(peer);
        }
        Assert.True(run.ExitCode == 0, $"peer script: {run.StandardOutput}{run.StandardError}");
        using JsonDocument result = JsonDocument.Parse(run.StandardOutput);
        JsonElement r = result.RootElement;
        string detail = run.StandardOutput;
        foreach (string step in new[] { "arp", "ping4", "ndp", "ping6", "udp_echo", "forward" })
        {
            JsonElement s = r.GetProperty(step);
            Assert.True(s.GetProperty("ok").GetBoolean(), $"{step} got no answer: {detail}");
            // Every answer came tagged with the sub-interface's id, priority 0, as an 802.1Q (not 802.1ad) tag.
            Assert.True(s.GetProperty("vid").GetInt32() == VlanId && s.GetProperty("pcp").GetInt32() == 0 && s.GetProperty("tpid").GetInt32() == 0x8100,
                $"{step}: {s}");
        }
        // Host B's answer crossed the appliance once: its TTL of 64 was decremented on the way into the VLAN.
        Assert.Equal(63, r.GetProperty("forward").GetProperty("ttl").GetInt32());
        // From VLAN 100 to VLAN 200 on the same link: out tagged 200, to the other host, one hop further.
        JsonElement across = r.GetProperty("forward_vlan");
        Assert.True(across.GetProperty("ok").GetBoolean(), $"VLAN to VLAN got nothing through: {detail}");
        Assert.True(across.GetProperty("vid").GetInt32() == OtherVlanId && across.GetProperty("pcp").GetInt32() == 0 && across.GetProperty("ttl").GetInt32() == 63, across.ToString());
        Assert.True(echoes.Wait(TimeSpan.FromSeconds(10)) && echoes.Result >= 1, $"host B echoed {echoes.Result}");
        // Nothing the appliance sent either VLAN's host carried the other's tag, a priority or DEI; its broadcasts and
        // multicasts (ARP, NDP) went out on one of the two VLANs.
        foreach (JsonElement tag in r.GetProperty("tags").EnumerateArray())
        {
            int vid = tag.GetProperty("vid").GetInt32();
            int expected = tag.GetProperty("to").GetString() switch { "vlan_host" => VlanId, "other_host" => OtherVlanId, _ => vid };
            Assert.True(vid == expected && vid is VlanId or OtherVlanId && tag.GetProperty("pcp").GetInt32() == 0 && tag.GetProperty("dei").GetInt32() == 0, tag.ToString());
        }
        // Linux drops frames of a VLAN it has no sub-interface for, and 802.1ad frames: no answer to either.
        Assert.Equal(0, r.GetProperty("unknown_vlan").GetProperty("answered").GetInt32());
        Assert.Equal(0, r.GetProperty("qinq").GetProperty("answered").GetInt32());

        // The parent still serves its untagged host, and show interfaces lists the sub-interface with parent and id.
        RunProcessTests.Ping(lab.HostA, RunLab.RouterAIpv4, "ttl=64");
        CommandResult show = XdpstackProcess.Run(lab.Dut, TimeSpan.FromSeconds(30), "show", "interfaces");
        Assert.True(show.ExitCode == 0, show.StandardError);
        Assert.Contains($"3: {VlanName}@{lab.DutAIf}: mtu 1500 vlan id {VlanId} (802.1Q)", show.StandardOutput);
        Assert.Contains($"inet {RouterVlanIpv4}/24", show.StandardOutput);

        // The dropped probes were counted under their reasons (3 sent of each; a veth may lose one under load), and
        // the sub-interface's own NIC counted what it answered.
        CommandResult counters = XdpstackProcess.Run(lab.Dut, TimeSpan.FromSeconds(30), "show", "counters", "--json");
        Assert.True(counters.ExitCode == 0, counters.StandardError);
        using JsonDocument c = JsonDocument.Parse(counters.StandardOutput);
        long WorkerSum(string name) => c.RootElement.GetProperty("workers").EnumerateArray().Sum(w => w.GetProperty("counters").GetProperty(name).GetInt64());
        Assert.InRange(WorkerSum("drops_vlan_unknown"), 1, 3);
        Assert.InRange(WorkerSum("drops_vlan_service_tag"), 1, 3);
        Assert.Equal(0, WorkerSum("drops_malformed_vlan"));
        JsonElement vlanNic = c.RootElement.GetProperty("interfaces").EnumerateArray().Single(n => n.GetProperty("interface").GetString() == VlanName);
        Assert.True(vlanNic.GetProperty("counters").GetProperty("IcmpEchoRequestsReceived").GetInt64() >= 1, vlanNic.ToString());
        Assert.True(vlanNic.GetProperty("counters").GetProperty("ArpRequestsReceived").GetInt64() >= 1, vlanNic.ToString());
    }

    /// <summary>Echoes datagrams to host B's port back to their sender until cancelled; returns how many it echoed.</summary>
    private static int EchoUntil(CancellationToken stop)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(RunLab.HostBIpv4), ForwardPort));
        socket.ReceiveTimeout = 200;
        byte[] buffer = new byte[2048];
        int echoed = 0;
        while (!stop.IsCancellationRequested)
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            try
            {
                int n = socket.ReceiveFrom(buffer, ref from);
                socket.SendTo(buffer.AsSpan(0, n), from);
                echoed++;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
            }
        }
        return echoed;
    }

    /// <summary>The VLAN host: tagged ARP, ping, NDP, ping6, UDP echo and forwarding through the appliance, as JSON.</summary>
    private const string VlanPeerScript = """"
        # A host on VLAN {vid} of the appliance's link, made of one AF_PACKET socket: the kernel here has no 8021q, so
        # every tagged frame is built and read by hand. Received tags come from PACKET_AUXDATA (the kernel moves a
        # received tag out of the frame into the packet's metadata before packet sockets see it).
        import json, select, socket, struct, sys, time

        ETH_P_ALL, SOL_PACKET, PACKET_AUXDATA, SO_RCVBUFFORCE = 3, 263, 8, 33
        TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID, PACKET_OUTGOING = 0x10, 0x40, 4

        iface, dut_mac_text, vid = sys.argv[1], sys.argv[2], int(sys.argv[3])
        my_mac_text, my4, dut4, my6, dut6, remote4, remote_port = sys.argv[4:11]
        # A second host, on a second VLAN of the same link, that the first reaches through the appliance.
        vid2, other_mac_text, other4 = int(sys.argv[11]), sys.argv[12], sys.argv[13]
        mac = lambda t: bytes.fromhex(t.replace(':', ''))
        DUT, ME, BCAST, OTHER = mac(dut_mac_text), mac(my_mac_text), b'\xff' * 6, mac(other_mac_text)
        OTHER4 = socket.inet_pton(socket.AF_INET, other4)
        MY4, DUT4, REMOTE4 = (socket.inet_pton(socket.AF_INET, a) for a in (my4, dut4, remote4))
        MY6, DUT6 = (socket.inet_pton(socket.AF_INET6, a) for a in (my6, dut6))

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

        def frame(dst, ethertype, payload, tag=None, tpid=0x8100, src=ME):
            tag = vid if tag is None else tag
            return dst + src + struct.pack('!HH', tpid, tag) + struct.pack('!H', ethertype) + payload

        def ipv4(src, dst, proto, payload, ttl=64):
            h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0, ttl, proto, 0, src, dst)
            return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload

        def ipv6(src, dst, nh, payload, hops=255):
            return struct.pack('!IHBB16s16s', 6 << 28, len(payload), nh, hops, src, dst) + payload

        def l4sum6(src, dst, nh, body):
            return csum(src + dst + struct.pack('!IxxxB', len(body), nh) + body)

        def icmp6(src, dst, body):
            c = l4sum6(src, dst, 58, body)
            return body[:2] + struct.pack('!H', c) + body[4:]

        def udp4(src, dst, sport, dport, data):
            body = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
            c = csum(src + dst + struct.pack('!BBH', 0, 17, len(body)) + body) or 0xffff
            return body[:6] + struct.pack('!H', c) + body[8:]

        def arp(op, sha, spa, tha, tpa):
            return struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)

        def solicited(addr):
            return socket.inet_pton(socket.AF_INET6, 'ff02::1:ff00:0')[:13] + addr[13:], b'\x33\x33\xff' + addr[13:]

        def ns(target):
            group, group_mac = solicited(target)
            body = struct.pack('!BBHI16s', 135, 0, 0, 0, target) + struct.pack('!BB6s', 1, 1, ME)
            return frame(group_mac, 0x86dd, ipv6(MY6, group, 58, icmp6(MY6, group, body)))

        def na(target, dst6, dst_mac):
            body = struct.pack('!BBHI16s', 136, 0, 0, 0x60000000, target) + struct.pack('!BB6s', 2, 1, ME)
            return frame(dst_mac, 0x86dd, ipv6(MY6, dst6, 58, icmp6(MY6, dst6, body)))

        seen = {'tags': [], 'answered_arp': 0, 'answered_ns': 0}

        def frames(seconds):
            """Incoming frames for `seconds`: (untagged bytes, tci or None, tpid or None)."""
            end = time.monotonic() + seconds
            while True:
                left = end - time.monotonic()
                if left <= 0 or not select.select([s], [], [], left)[0]:
                    return
                data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(20))
                if addr[2] == PACKET_OUTGOING:
                    continue
                tci = tpid = None
                for level, kind, value in anc:
                    if level == SOL_PACKET and kind == PACKET_AUXDATA:
                        status, _, _, _, _, vtci, vtpid = struct.unpack('IIIHHHH', value[:20])
                        if status & TP_STATUS_VLAN_VALID:
                            tci = vtci
                            tpid = vtpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
                if tci is None and len(data) >= 18 and data[12:14] == b'\x81\x00':
                    tci, tpid, data = struct.unpack('!H', data[14:16])[0], 0x8100, data[:12] + data[16:]
                if data[6:12] != DUT:
                    continue
                if tci is not None:
                    to = 'vlan_host' if data[:6] == ME else 'other_host' if data[:6] == OTHER else 'group'
                    seen['tags'].append({'vid': tci & 0xfff, 'pcp': tci >> 13, 'dei': (tci >> 12) & 1, 'tpid': tpid, 'to': to})
                yield data, tci, tpid
                answer(data, tci)

        def answer(data, tci):
            """Answers the appliance's ARP and NDP questions about this host (only on the VLAN, as a VLAN host would)."""
            if tci is not None and tci & 0xfff == vid2:
                if struct.unpack('!H', data[12:14])[0] == 0x0806 and data[20:22] == b'\0\x01' and data[38:42] == OTHER4:
                    s.send(frame(data[6:12], 0x0806, arp(2, OTHER, OTHER4, data[22:28], data[28:32]), tag=vid2, src=OTHER))
                    seen['answered_arp'] += 1
                return
            if tci is None or tci & 0xfff != vid:
                return
            et = struct.unpack('!H', data[12:14])[0]
            if et == 0x0806 and data[20:22] == b'\0\x01' and data[38:42] == MY4:
                s.send(frame(data[6:12], 0x0806, arp(2, ME, MY4, data[22:28], data[28:32])))
                seen['answered_arp'] += 1
            elif et == 0x86dd and data[20] == 58 and data[54] == 135 and data[62:78] == MY6:
                s.send(na(MY6, data[22:38], data[6:12]))
                seen['answered_ns'] += 1

        def exchange(name, send, match, tries=6, wait=1.0):
            """Sends `send` until `match(untagged)` is true for a received frame; records the reply's tag."""
            for attempt in range(tries):
                s.send(send)
                for data, tci, tpid in frames(wait):
                    if match(data):
                        result[name] = {'ok': True, 'vid': None if tci is None else tci & 0xfff,
                                        'pcp': None if tci is None else tci >> 13, 'tpid': tpid, 'tries': attempt + 1}
                        return data
            result[name] = {'ok': False, 'tries': tries}
            return None

        result = {}
        et = lambda d: struct.unpack('!H', d[12:14])[0]
        exchange('arp', frame(BCAST, 0x0806, arp(1, ME, MY4, b'\0' * 6, DUT4)),
                 lambda d: et(d) == 0x0806 and d[20:22] == b'\0\x02' and d[28:32] == DUT4 and d[38:42] == MY4)
        echo4 = struct.pack('!BBHHH', 8, 0, 0, 0x1234, 1) + b'vlan-ping'
        echo4 = echo4[:2] + struct.pack('!H', csum(echo4)) + echo4[4:]
        exchange('ping4', frame(DUT, 0x0800, ipv4(MY4, DUT4, 1, echo4)),
                 lambda d: et(d) == 0x0800 and d[23] == 1 and d[26:30] == DUT4 and d[34] == 0 and d[38:40] == b'\x12\x34')
        exchange('ndp', ns(DUT6),
                 lambda d: et(d) == 0x86dd and d[20] == 58 and d[54] == 136 and d[62:78] == DUT6)
        echo6 = struct.pack('!BBHHH', 128, 0, 0, 0x4321, 1) + b'vlan-ping6'
        exchange('ping6', frame(DUT, 0x86dd, ipv6(MY6, DUT6, 58, icmp6(MY6, DUT6, echo6), hops=64)),
                 lambda d: et(d) == 0x86dd and d[20] == 58 and d[54] == 129 and d[58:60] == b'\x43\x21')
        exchange('udp_echo', frame(DUT, 0x0800, ipv4(MY4, DUT4, 17, udp4(MY4, DUT4, 40007, 7, b'vlan-echo'))),
                 lambda d: et(d) == 0x0800 and d[23] == 17 and d[26:30] == DUT4 and d[36:38] == b'\x9c\x47' and d[42:51] == b'vlan-echo')
        reply = exchange('forward', frame(DUT, 0x0800, ipv4(MY4, REMOTE4, 17, udp4(MY4, REMOTE4, 40009, int(remote_port), b'vlan-forward'))),
                 lambda d: et(d) == 0x0800 and d[23] == 17 and d[26:30] == REMOTE4 and d[42:54] == b'vlan-forward')
        if reply is not None:
            result['forward']['ttl'] = reply[22]
        # VLAN to VLAN: the datagram must leave tagged with the other VLAN's id, to the other host's MAC.
        reply = exchange('forward_vlan', frame(DUT, 0x0800, ipv4(MY4, OTHER4, 17, udp4(MY4, OTHER4, 40010, 9, b'vlan-to-vlan'))),
                 lambda d: et(d) == 0x0800 and d[:6] == OTHER and d[23] == 17 and d[30:34] == OTHER4 and d[42:54] == b'vlan-to-vlan')
        if reply is not None:
            result['forward_vlan']['ttl'] = reply[22]

        # Frames no sub-interface takes: another VLAN id, and an 802.1ad service tag around this VLAN's tag. The appliance
        # must stay silent (Linux drops both); asked three times each.
        before = len(result)
        for label, probe in (('unknown_vlan', frame(BCAST, 0x0806, arp(1, ME, MY4, b'\0' * 6, DUT4), tag=vid + 1)),
                             ('qinq', BCAST + ME + struct.pack('!HHHH', 0x88a8, vid, 0x8100, vid) + struct.pack('!H', 0x0806) + arp(1, ME, MY4, b'\0' * 6, DUT4))):
            answered = 0
            for _ in range(3):
                s.send(probe)
                for d, tci, tpid in frames(0.5):
                    if et(d) == 0x0806 and d[20:22] == b'\0\x02' and d[28:32] == DUT4:
                        answered += 1
            result[label] = {'answered': answered}
        result['tags'] = seen['tags']
        result['answered_arp'] = seen['answered_arp']
        result['answered_ns'] = seen['answered_ns']
        print(json.dumps(result))
        """";
}
