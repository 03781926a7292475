using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>One ring's mmap of an AF_XDP socket, reference-counted because sockets on one queue share fill and completion rings.</summary>
internal sealed unsafe class RingMapping
{
    private byte* _address;
    private readonly nuint _length;
    private int _references = 1;    // control thread only

    private RingMapping(byte* address, nuint length, XdpRingOffset offsets)
    {
        _address = address;
        _length = length;
        Producer = (uint*)(address + offsets.Producer);
        Consumer = (uint*)(address + offsets.Consumer);
        Flags = (uint*)(address + offsets.Flags);
        Descriptors = address + offsets.Desc;
    }

    public uint* Producer { get; }
    public uint* Consumer { get; }
    public uint* Flags { get; }
    public byte* Descriptors { get; }

    public static RingMapping Map(int fd, long pageOffset, XdpRingOffset offsets, uint entries, int entrySize, string ring)
    {
        nuint length = (nuint)(offsets.Desc + entries * (ulong)entrySize);
        void* address = mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pageOffset);
        if (address == (void*)-1)
            throw XdpException.FromErrno($"mmap({ring} ring)");
        return new RingMapping((byte*)address, length, offsets);
    }

    public RingMapping AddReference()
    {
        _references++;
        return this;
    }

    public void Release()
    {
        if (--_references > 0 || _address == null)
            return;
        munmap(_address, _length);
        _address = null;
    }
}
