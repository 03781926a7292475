using System.Text;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp.Bpf;

/// <summary>A BPF map created with bpf(BPF_MAP_CREATE), owned through its file descriptor.</summary>
public sealed unsafe class BpfMap : IDisposable
{
    private int _fd;

    private BpfMap(int fd, uint type, int keySize, int valueSize, int maxEntries, string name)
    {
        _fd = fd;
        Type = type;
        KeySize = keySize;
        ValueSize = valueSize;
        MaxEntries = maxEntries;
        Name = name;
        Id = BpfObjectInfo.GetId(fd, "map");
    }

    /// <summary>The map's file descriptor.</summary>
    public int Fd => _fd;

    /// <summary>The map type (enum bpf_map_type).</summary>
    public uint Type { get; }

    public int KeySize { get; }
    public int ValueSize { get; }
    public int MaxEntries { get; }
    public string Name { get; }

    /// <summary>The kernel's id for the map.</summary>
    public uint Id { get; }

    /// <summary>Creates a map of any type.</summary>
    public static BpfMap Create(uint type, int keySize, int valueSize, int maxEntries, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEntries);
        var attr = new BpfAttrMapCreate
        {
            MapType = type,
            KeySize = (uint)keySize,
            ValueSize = (uint)valueSize,
            MaxEntries = (uint)maxEntries,
        };
        WriteName(name, attr.MapName);
        int fd = bpf(BPF_MAP_CREATE, &attr, sizeof(BpfAttrMapCreate));
        if (fd < 0)
            throw XdpException.FromErrno($"bpf(BPF_MAP_CREATE, type {type}, {maxEntries} entries)",
                "creating BPF maps needs CAP_BPF (or CAP_SYS_ADMIN)");
        try
        {
            return new BpfMap(fd, type, keySize, valueSize, maxEntries, name);
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    /// <summary>Creates an XSKMAP (queue index → AF_XDP socket) with one entry per queue.</summary>
    public static BpfMap CreateXskMap(int maxEntries, string name = "xsks_map") =>
        Create(BPF_MAP_TYPE_XSKMAP, sizeof(uint), sizeof(uint), maxEntries, name);

    /// <summary>Sets map[key] = value (BPF_ANY).</summary>
    public void Update(uint key, uint value)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var attr = new BpfAttrMapElem { MapFd = (uint)_fd, Key = (ulong)&key, Value = (ulong)&value, Flags = BPF_ANY };
        if (bpf(BPF_MAP_UPDATE_ELEM, &attr, sizeof(BpfAttrMapElem)) != 0)
            throw XdpException.FromErrno($"bpf(BPF_MAP_UPDATE_ELEM, {Name}[{key}])");
    }

    /// <summary>Removes map[key]; false when the map reports there was no such entry (an XSKMAP never does).</summary>
    public bool Delete(uint key)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var attr = new BpfAttrMapElem { MapFd = (uint)_fd, Key = (ulong)&key };
        if (bpf(BPF_MAP_DELETE_ELEM, &attr, sizeof(BpfAttrMapElem)) == 0)
            return true;
        if (Errno == ENOENT)
            return false;
        throw XdpException.FromErrno($"bpf(BPF_MAP_DELETE_ELEM, {Name}[{key}])");
    }

    /// <summary>Reads map[key] as a u32; false when absent. (XSKMAP lookups from user space are not allowed by the kernel.)</summary>
    public bool TryLookup(uint key, out uint value)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        uint result = 0;
        var attr = new BpfAttrMapElem { MapFd = (uint)_fd, Key = (ulong)&key, Value = (ulong)&result };
        int rc = bpf(BPF_MAP_LOOKUP_ELEM, &attr, sizeof(BpfAttrMapElem));
        value = result;
        if (rc == 0)
            return true;
        if (Errno == ENOENT)
            return false;
        throw XdpException.FromErrno($"bpf(BPF_MAP_LOOKUP_ELEM, {Name}[{key}])");
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            close(_fd);
            _fd = -1;
        }
    }

    /// <summary>Copies an object name into a 16-byte kernel field: at most 15 bytes, [A-Za-z0-9_.] only.</summary>
    internal static void WriteName(string name, byte* destination)
    {
        var span = new Span<byte>(destination, BPF_OBJ_NAME_LEN);
        span.Clear();
        int n = 0;
        foreach (char c in name)
        {
            if (n == BPF_OBJ_NAME_LEN - 1)
                break;
            span[n++] = char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? (byte)c : (byte)'_';
        }
    }
}
