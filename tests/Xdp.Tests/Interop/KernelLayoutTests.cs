using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using XdpStack.Lab;
using XdpStack.Xdp.Bpf;
using XdpStack.Xdp.Interop;

namespace XdpStack.Xdp.Tests.Interop;

/// <summary>
/// Compiles a C program against the installed kernel uapi and libc headers and compares the
/// size and every field offset of each struct we declare, and the value of every constant in
/// <c>Kernel</c> (found by reflection, so nothing can be forgotten).
/// </summary>
public sealed partial class KernelLayoutTests
{
    // Constants newer than the oldest uapi headers we build against (Debian 12 ships 6.1).
    // They may be missing from the headers; when present, they are compared like the rest.
    private static readonly HashSet<string> s_newerThanHeaders =
    [
        "XDP_MAX_TX_SKB_BUDGET", "XDP_USE_SG", "XDP_UMEM_TX_SW_CSUM", "XDP_UMEM_TX_METADATA_LEN",
        "XDP_PKT_CONTD", "XDP_TX_METADATA", "xdp_umem_reg.tx_metadata_len",
    ];

    // C# struct → the C type, and a prefix for members of union bpf_attr.
    private static readonly Dictionary<Type, (string CType, string Prefix, bool CompareSize)> s_structs = new()
    {
        [typeof(Kernel.SockaddrXdp)] = ("struct sockaddr_xdp", "", true),
        [typeof(Kernel.XdpUmemReg)] = ("struct xdp_umem_reg", "", true),
        [typeof(Kernel.XdpRingOffset)] = ("struct xdp_ring_offset", "", true),
        [typeof(Kernel.XdpMmapOffsets)] = ("struct xdp_mmap_offsets", "", true),
        [typeof(Kernel.XdpStatisticsRaw)] = ("struct xdp_statistics", "", true),
        [typeof(Kernel.XdpOptions)] = ("struct xdp_options", "", true),
        [typeof(XdpDescriptor)] = ("struct xdp_desc", "", true),
        [typeof(Kernel.BpfAttrMapCreate)] = ("union bpf_attr", "", false),
        [typeof(Kernel.BpfAttrMapElem)] = ("union bpf_attr", "", false),
        [typeof(Kernel.BpfAttrProgLoad)] = ("union bpf_attr", "", false),
        [typeof(Kernel.BpfAttrObjInfo)] = ("union bpf_attr", "info.", false),
        [typeof(Kernel.BpfAttrLinkCreate)] = ("union bpf_attr", "link_create.", false),
        [typeof(Kernel.BpfAttrLinkDetach)] = ("union bpf_attr", "link_detach.", false),
        [typeof(Kernel.BpfObjInfoHead)] = ("struct bpf_prog_info", "", false),
        [typeof(Kernel.SockaddrNl)] = ("struct sockaddr_nl", "", true),
        [typeof(Kernel.Nlmsghdr)] = ("struct nlmsghdr", "", true),
        [typeof(Kernel.Nlmsgerr)] = ("struct nlmsgerr", "", true),
        [typeof(Kernel.Ifinfomsg)] = ("struct ifinfomsg", "", true),
        [typeof(Kernel.Ifaddrmsg)] = ("struct ifaddrmsg", "", true),
        [typeof(Kernel.IfreqFlags)] = ("struct ifreq", "", true),
        [typeof(Kernel.Rtmsg)] = ("struct rtmsg", "", true),
        [typeof(Kernel.Rtnexthop)] = ("struct rtnexthop", "", true),
        [typeof(Kernel.Nlattr)] = ("struct nlattr", "", true),
        [typeof(Kernel.EthtoolChannels)] = ("struct ethtool_channels", "", true),
        [typeof(Kernel.EthtoolValue)] = ("struct ethtool_value", "", true),
        [typeof(Kernel.Ifreq)] = ("struct ifreq", "", true),
        [typeof(Kernel.PollFd)] = ("struct pollfd", "", true),
        [typeof(Kernel.Rlimit)] = ("struct rlimit", "", true),
    };

    // Fields whose C name is not the snake_case of the C# name.
    private static readonly Dictionary<string, string> s_fieldNames = new()
    {
        ["Ifinfomsg.IfiPad"] = "__ifi_pad",
        ["XdpDescriptor.Address"] = "addr",
        ["XdpDescriptor.Length"] = "len",
    };

    // Interop structs that have no uapi counterpart, with the reason.
    private static readonly HashSet<Type> s_notInUapi =
    [
        typeof(Kernel.XdpRingOffsetV1),     // the ≤5.3 layout; only libxdp names it
    ];

    private const string Headers = """
        #include <stdio.h>
        #include <stddef.h>
        #include <errno.h>
        #include <fcntl.h>
        #include <poll.h>
        #include <sys/mman.h>
        #include <sys/resource.h>
        #include <sys/eventfd.h>
        #include <sys/socket.h>
        #include <net/if.h>
        #include <linux/if_xdp.h>
        #include <linux/bpf.h>
        #include <linux/if_link.h>
        #include <linux/netlink.h>
        #include <linux/rtnetlink.h>
        #include <linux/ethtool.h>
        #include <linux/sockios.h>
        #include <sys/ioctl.h>
        #include <linux/if_tun.h>
        #ifndef SO_PREFER_BUSY_POLL
        #define SO_PREFER_BUSY_POLL 69
        #define SO_BUSY_POLL_BUDGET 70
        #endif
        """;

    [Fact]
    public void Kernel_ConstantsAndStructs_MatchUapiHeaders()
    {
        Assert.True(Shell.Exists("gcc"), "gcc is needed (apt-get install gcc linux-libc-dev)");
        var constants = typeof(Kernel).GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(f => f.IsLiteral && f.FieldType != typeof(string))
            .ToDictionary(f => f.Name, f => ToUInt64(f.GetRawConstantValue()!));
        var fields = new List<(Type Type, string CType, string CField, long Offset)>();
        foreach ((Type type, (string cType, string prefix, _)) in s_structs)
        {
            foreach (FieldInfo f in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (f.Name.StartsWith('_'))
                    continue;   // explicit alignment padding (BpfAttrMapElem)
                string name = s_fieldNames.GetValueOrDefault(type.Name + "." + f.Name) ?? SnakeCase(f.Name);
                fields.Add((type, cType, prefix + name, Marshal.OffsetOf(type, f.Name).ToInt64()));
            }
        }
        Assert.All(typeof(Kernel).GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public).Where(t => t.IsValueType),
            t => Assert.True(s_structs.ContainsKey(t) || s_notInUapi.Contains(t), $"{t.Name} is not checked against a C struct"));

        var missing = new HashSet<string>();
        Dictionary<string, ulong> c = RunC(constants.Keys, fields, missing);

        Assert.Subset(s_newerThanHeaders, missing);
        foreach ((string name, ulong value) in constants)
        {
            if (missing.Contains(name))
                continue;
            Assert.True(c.TryGetValue("C " + name, out ulong expected), $"{name} was not printed");
            Assert.True(expected == value, $"{name}: C# {value:x}, C {expected:x}");
        }
        foreach ((Type type, string cType, string cField, long offset) in fields)
        {
            string key = cType.Split(' ')[1] + "." + cField;
            if (missing.Contains(key))
                continue;
            Assert.True(c.TryGetValue("O " + key, out ulong expected), $"{key} was not printed");
            Assert.True((ulong)offset == expected, $"{type.Name} {key}: C# offset {offset}, C {expected}");
        }
        foreach ((Type type, (string cType, _, bool compareSize)) in s_structs)
        {
            if (!compareSize)
                continue;
            ulong size = c["S " + cType.Split(' ')[1]];
            Assert.True((ulong)Marshal.SizeOf(type) == size, $"{type.Name}: C# size {Marshal.SizeOf(type)}, {cType} {size}");
        }
    }

    [Fact]
    public unsafe void BpfInstruction_MatchesStructBpfInsn()
    {
        Dictionary<string, ulong> c = RunC([], [], [], """
            printf("S bpf_insn %zu\n", sizeof(struct bpf_insn));
            printf("O off %zu\n", offsetof(struct bpf_insn, off));
            printf("O imm %zu\n", offsetof(struct bpf_insn, imm));
            { struct bpf_insn i = { .code = 0x61, .dst_reg = 2, .src_reg = 1, .off = 16, .imm = -2 };
              unsigned long long raw; __builtin_memcpy(&raw, &i, 8); printf("R raw %llu\n", raw); }
            """);
        Assert.Equal((ulong)sizeof(BpfInstruction), c["S bpf_insn"]);
        Assert.Equal(2ul, c["O off"]);
        Assert.Equal(4ul, c["O imm"]);
        Assert.Equal(new BpfInstruction(0x61, 2, 1, 16, -2).Raw, c["R raw"]);
    }

    private static Dictionary<string, ulong> RunC(IEnumerable<string> constants,
        List<(Type Type, string CType, string CField, long Offset)> fields, HashSet<string> missing, string extra = "")
    {
        string dir = Directory.CreateTempSubdirectory("xdp-layout").FullName;
        try
        {
            for (int attempt = 0; attempt < 4; attempt++)
            {
                var body = new StringBuilder();
                foreach (string name in constants.Where(n => !missing.Contains(n)))
                    body.AppendLine($"    printf(\"C {name} %llu\\n\", (unsigned long long)({name}));");
                // Two C# views of one C struct (Ifreq, IfreqFlags) share members: each is printed once.
                var printed = new HashSet<string>();
                foreach ((_, string cType, string cField, _) in fields)
                {
                    string key = cType.Split(' ')[1] + "." + cField;
                    if (!missing.Contains(key) && printed.Add(key))
                        body.AppendLine($"    printf(\"O {key} %zu\\n\", offsetof({cType}, {cField}));");
                }
                foreach (string cType in fields.Select(f => f.CType).Distinct())
                    body.AppendLine($"    printf(\"S {cType.Split(' ')[1]} %zu\\n\", sizeof({cType}));");
                string source = Headers + "\nint main(void)\n{\n" + body + extra + "\n    return 0;\n}\n";
                File.WriteAllText(Path.Combine(dir, "layout.c"), source);
                CommandResult cc = Shell.Run("gcc", "-Wall", "-o", Path.Combine(dir, "layout"), Path.Combine(dir, "layout.c"));
                if (cc.Succeeded)
                {
                    CommandResult run = Shell.Run(Path.Combine(dir, "layout"));
                    Assert.True(run.Succeeded, run.StandardError);
                    return run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                        .Select(l => l.Split(' '))
                        .ToDictionary(p => p[0] + " " + p[1], p => ulong.Parse(p[2]));
                }
                // Names the headers lack: undeclared constants and absent members.
                int before = missing.Count;
                foreach (Match m in UndeclaredRegex().Matches(cc.StandardError))
                    missing.Add(m.Groups[1].Value);
                foreach (Match m in NoMemberRegex().Matches(cc.StandardError))
                    missing.Add(m.Groups[1].Value + "." + m.Groups[2].Value);
                Assert.True(missing.Count > before, "gcc failed for another reason:\n" + cc.StandardError);
            }
            throw new InvalidOperationException("the layout program did not compile");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    private static ulong ToUInt64(object value) => value switch
    {
        int i => unchecked((ulong)(long)i),
        uint u => u,
        long l => unchecked((ulong)l),
        ulong u => u,
        short s => unchecked((ulong)(long)s),
        ushort u => u,
        byte b => b,
        _ => throw new InvalidOperationException($"constant of type {value.GetType()}"),
    };

    // gcc quotes with ' or with ‘ ’ depending on the locale.
    [GeneratedRegex(@"['‘](\w+)['’] undeclared")]
    private static partial Regex UndeclaredRegex();

    [GeneratedRegex(@"['‘](?:struct|union) (\w+)['’] has no member named ['‘](\w+)['’]")]
    private static partial Regex NoMemberRegex();
}
