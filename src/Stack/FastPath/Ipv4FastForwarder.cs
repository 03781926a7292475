using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>The batched, run-to-completion IPv4 forwarding fast path: decides a whole receive batch in place, and leaves every frame it cannot decide exactly as the full stack would to the full stack.</summary>
/// <remarks>
/// <para>
/// A frame is taken when it is untagged IPv4 sent to the receiving NIC's MAC, with IHL 5, a
/// consistent total length, a good header checksum and TTL above 1; when its source is not a
/// martian nor a subnet broadcast and its destination not a group, broadcast or special address;
/// and when the LPM snapshot maps the destination to a resolved next hop whose MTU fits it. Then
/// its TTL is decremented with the RFC 1624 checksum update, the MACs are rewritten, its length is
/// trimmed to the IP total length, and the verdict names the egress NIC. What it leaves is byte for
/// byte unchanged.
/// </para>
/// <para>
/// The snapshot follows the stack. Every change schedules one rebuild on the stack's clock, so a burst
/// of changes (100,000 routes added one by one, a storm of ARP replies) costs one rebuild and workers
/// never build. Until that rebuild is published, a batch whose snapshot is older than the stack's
/// <see cref="NetworkStack.ForwardingVersion"/> (route, address, NIC or forwarder changes) goes to the
/// full stack whole, so those changes hold from the moment the control call returns. Neighbour changes
/// do not bump that version (they come from workers, and would stall the fast path on every ARP
/// refresh): a new or changed MAC is used from the rebuild on. A batch reads the snapshot once. Per frame there is no
/// allocation, lock, <c>Interlocked</c> or virtual call: the LPM lookup is the batched DIR-24-8 one. A destination
/// under a multipath route looks up to a group, and the frame's flow hash (<see cref="MultipathHash"/>, the function
/// the full stack uses) picks the next hop from the group's 256 buckets.
/// </para>
/// </remarks>
public sealed class Ipv4FastForwarder : IDisposable
{
    private const int Chunk = 256;
    private const int EthernetLength = 14;
    private const int MinFrame = EthernetLength + 20;

    private readonly SnapshotFollower<Ipv4ForwardingSnapshot> _follower;
    private readonly Ipv4SnapshotMaintainer _maintainer;
    private readonly ReaderEpochs _readers = new();

    /// <summary>Creates the fast path for <paramref name="stack"/> and keeps its snapshot in step with the stack until disposed.</summary>
    public Ipv4FastForwarder(NetworkStack stack)
        : this(stack, useHugePages: false)
    {
    }

    /// <summary>As <see cref="Ipv4FastForwarder(NetworkStack)"/>; <paramref name="useHugePages"/> advises transparent huge pages for every snapshot's 64 MiB tbl24, which saves most of a lookup's TLB misses where THP is enabled.</summary>
    public Ipv4FastForwarder(NetworkStack stack, bool useHugePages)
        : this(stack, useHugePages, doubleBuffered: false)
    {
    }

    /// <summary>As <see cref="Ipv4FastForwarder(NetworkStack, bool)"/>; with <paramref name="doubleBuffered"/>, route updates write the LPM that was published before the current one, once every reader has left it, instead of a 64 MiB copy; every thread that calls <see cref="Forward"/> must then first <see cref="RegisterReader"/>, call <see cref="ReaderEpoch.Quiesce"/> between batches, and <see cref="ReaderEpoch.GoOffline"/> before it blocks.</summary>
    public Ipv4FastForwarder(NetworkStack stack, bool useHugePages, bool doubleBuffered)
    {
        _maintainer = new Ipv4SnapshotMaintainer(useHugePages, doubleBuffered ? _readers : null);
        Ipv4SnapshotMaintainer maintainer = _maintainer;
        _follower = new SnapshotFollower<Ipv4ForwardingSnapshot>(stack,
            maintainer.Build,
            (s, handler) =>
            {
                // The maintainer first, so the rebuild the follower schedules sees the neighbour change.
                s.Ipv4NeighborsChanged += maintainer.OnNeighborsChanged;
                s.Ipv4NeighborsChanged += handler;
            },
            (s, handler) =>
            {
                s.Ipv4NeighborsChanged -= handler;
                s.Ipv4NeighborsChanged -= maintainer.OnNeighborsChanged;
            });
    }

    /// <summary>Registers a thread that calls <see cref="Forward"/>: when double-buffered, an unpublished LPM is written again only after every registered reader has quiesced or gone offline since.</summary>
    public ReaderEpoch RegisterReader() => _readers.Register();

    /// <summary>Removes a reader that will call <see cref="Forward"/> no more.</summary>
    public void UnregisterReader(ReaderEpoch reader) => _readers.Unregister(reader);

    /// <summary>Snapshots built from scratch and snapshots made by updating the previous one's routes, so far.</summary>
    public (int FullBuilds, int Updates) SnapshotBuilds => (_maintainer.FullBuilds, _maintainer.Updates);

    /// <summary>Route updates whose LPM was a full 64 MiB copy: every one without double buffering; when double-buffered, the first after a full build and any whose readers did not leave the other table in time.</summary>
    public int LpmCopies => _maintainer.LpmCopies;

    /// <summary>The snapshot batches use now.</summary>
    public Ipv4ForwardingSnapshot Snapshot => _follower.Current;

    /// <summary>Rebuilds the snapshot from the stack's routes, addresses and neighbours and publishes it.</summary>
    /// <remarks>Builds are serialised, so the snapshot published last is built from the newest state.</remarks>
    public void Refresh() => _follower.Refresh();

    /// <summary>Stops following the stack: the last snapshot stays, and once the stack changes every batch goes to the full stack.</summary>
    public void Dispose() => _follower.Dispose();

    /// <summary>
    /// Decides every frame of <paramref name="frames"/> (received by NIC <paramref name="ingress"/>, lying in
    /// <paramref name="memory"/>): <paramref name="verdicts"/>[i] says whether frame i was forwarded, and for those
    /// <paramref name="egress"/>[i] names the egress NIC. Returns how many were forwarded.
    /// </summary>
    public int Forward(NicId ingress, Span<byte> memory, Span<Frame> frames, Span<ForwardVerdict> verdicts, Span<int> egress)
    {
        if (verdicts.Length < frames.Length || egress.Length < frames.Length)
            throw new ArgumentException("verdicts and egress must be as long as frames");
        Ipv4ForwardingSnapshot snapshot = _follower.Current;
        if (!_follower.IsCurrent(snapshot.StateVersion))
        {
            verdicts[..frames.Length].Clear();
            return 0;
        }
        int forwarded = 0;
        Span<uint> destinations = stackalloc uint[Chunk];
        Span<int> hopIds = stackalloc int[Chunk];
        Span<int> candidates = stackalloc int[Chunk];
        Span<uint> words = stackalloc uint[Chunk];
        Span<int> lengths = stackalloc int[Chunk];
        for (int start = 0; start < frames.Length; start += Chunk)
        {
            int count = Math.Min(Chunk, frames.Length - start);
            forwarded += ForwardChunk(snapshot, ingress.Value, memory, frames.Slice(start, count), verdicts.Slice(start, count),
                egress.Slice(start, count), destinations, hopIds, candidates, words, lengths);
        }
        return forwarded;
    }

    private static int ForwardChunk(Ipv4ForwardingSnapshot snapshot, int ingressId, Span<byte> memory, Span<Frame> frames,
        Span<ForwardVerdict> verdicts, Span<int> egress, Span<uint> destinations, Span<int> hopIds, Span<int> candidates,
        Span<uint> words, Span<int> lengths)
    {
        int count = frames.Length;
        verdicts[..count].Clear();
        FastIngress[] ingressTable = snapshot.Ingress;
        if ((uint)ingressId >= (uint)ingressTable.Length || !ingressTable[ingressId].Enabled)
            return 0;
        ulong macKey = ingressTable[ingressId].MacKey;
        // A frame going back out its own NIC may need a Redirect, which only the full stack sends.
        int refusedEgress = ingressTable[ingressId].HairpinAllowed ? -1 : ingressId;
        uint[] refused = snapshot.RefusedSources;

        // Bounds are checked once per frame against the memory span; the loops then index with refs so the JIT
        // emits no further checks (count is at most Chunk, the length of every scratch span).
        ref byte memory0 = ref MemoryMarshal.GetReference(memory);
        ref Frame frame0 = ref MemoryMarshal.GetReference(frames);
        ref uint destination0 = ref MemoryMarshal.GetReference(destinations);
        ref int candidate0 = ref MemoryMarshal.GetReference(candidates);
        ref uint word0 = ref MemoryMarshal.GetReference(words);
        ref int length0 = ref MemoryMarshal.GetReference(lengths);
        ulong memoryLength = (uint)memory.Length;

        // Pass 1: validate and gather destinations, so the LPM sees one batch of independent lookups. It also keeps
        // what pass 2 needs from the header (the TTL/protocol/checksum word and the total length), so pass 2 writes
        // frames without reading them again: with frames 2 KiB apart, as in a UMEM, a chunk's headers share two L1
        // sets and are gone from L1 by then. perf/RESULTS.md ("IPv4 forwarding fast path") has the measurements.
        int n = 0;
        for (int i = 0; i < count; i++)
        {
            ref Frame f = ref Unsafe.Add(ref frame0, i);
            uint offset = (uint)f.Offset;
            int length = f.Length;
            if (offset + (ulong)(uint)length > memoryLength || length < MinFrame)
                continue;
            ref byte p = ref Unsafe.Add(ref memory0, (nint)offset);
            // The MAC, then EtherType 0x0800 and version/IHL 0x45 as one read of bytes 12..15 (byte 15 is the TOS).
            if ((Unsafe.ReadUnaligned<ulong>(ref p) & 0xFFFF_FFFF_FFFFUL) != macKey
                || (Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, 12)) & 0x00FF_FFFF) != 0x0045_0008)
                continue;
            ref byte ip = ref Unsafe.Add(ref p, EthernetLength);
            // The header as five 32-bit words in memory order: h0 holds the total length, h2 the TTL, h3 and h4 the addresses.
            uint h0 = Unsafe.ReadUnaligned<uint>(ref ip);
            uint h2 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 8));
            int totalLength = BinaryPrimitives.ReverseEndianness((ushort)(h0 >> 16));
            if (totalLength < 20 || totalLength > length - EthernetLength || (byte)h2 <= 1)
                continue;
            uint h3 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 12));
            uint h4 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 16));
            if (!HeaderChecksumValid(h0, Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 4)), h2, h3, h4))
                continue;
            uint source = BinaryPrimitives.ReverseEndianness(h3);
            uint destination = BinaryPrimitives.ReverseEndianness(h4);
            if (IsSpecial(source) || IsSpecial(destination) || Contains(refused, source))
                continue;
            Unsafe.Add(ref destination0, n) = destination;
            Unsafe.Add(ref candidate0, n) = i;
            Unsafe.Add(ref word0, n) = h2;
            Unsafe.Add(ref length0, n) = totalLength;
            n++;
        }
        if (n == 0)
            return 0;

        LookupX4(snapshot.Lpm, ref destination0, ref MemoryMarshal.GetReference(hopIds), n);
        if (snapshot.GroupHops.Length != 0)
            PickMultipathHops(snapshot, ref memory0, ref frame0, ref candidate0, ref length0, hopIds[..n]);

        // Pass 2: rewrite what has a resolved next hop that fits.
        FastNextHop[] hops = snapshot.Hops;
        ref FastNextHop hop0 = ref MemoryMarshal.GetArrayDataReference(hops);
        ref int hopId0 = ref MemoryMarshal.GetReference(hopIds);
        ref ForwardVerdict verdict0 = ref MemoryMarshal.GetReference(verdicts);
        ref int egress0 = ref MemoryMarshal.GetReference(egress);
        uint hopCount = (uint)hops.Length;
        int forwarded = 0;
        for (int k = 0; k < n; k++)
        {
            int id = Unsafe.Add(ref hopId0, k);
            if ((uint)id >= hopCount)
                continue;
            ref readonly FastNextHop hop = ref Unsafe.Add(ref hop0, id);
            if (hop.Nic == 0 || hop.Nic == refusedEgress)
                continue;
            int totalLength = Unsafe.Add(ref length0, k);
            if (totalLength > hop.Mtu)
                continue;
            int i = Unsafe.Add(ref candidate0, k);
            ref Frame f = ref Unsafe.Add(ref frame0, i);
            ref byte p = ref Unsafe.Add(ref memory0, (nint)(uint)f.Offset);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, EthernetLength + 8), DecrementTimeToLive(Unsafe.Add(ref word0, k)));
            Unsafe.WriteUnaligned(ref p, hop.MacsLow);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, 8), hop.MacsHigh);
            f.Length = EthernetLength + totalLength;
            Unsafe.Add(ref verdict0, i) = ForwardVerdict.Forward;
            Unsafe.Add(ref egress0, i) = hop.Nic;
            forwarded++;
        }
        return forwarded;
    }

    // Multipath prefixes looked up to a group: the flow hash (the same function on the same bytes as the full stack's
    // Ipv4Forwarder) picks the bucket, and the bucket names the hop. Only frames to such prefixes pay for the hash.
    private static void PickMultipathHops(Ipv4ForwardingSnapshot snapshot, ref byte memory0, ref Frame frame0, ref int candidate0,
        ref int length0, Span<int> hopIds)
    {
        int[] groupHops = snapshot.GroupHops;
        MultipathHash multipath = snapshot.Multipath;
        for (int k = 0; k < hopIds.Length; k++)
        {
            int id = hopIds[k];
            if (id < FastMultipathTable.GroupFlag)
                continue;
            ref byte ip = ref Unsafe.Add(ref memory0, (nint)(uint)Unsafe.Add(ref frame0, Unsafe.Add(ref candidate0, k)).Offset + EthernetLength);
            uint hash = multipath.OfIpv4(MemoryMarshal.CreateReadOnlySpan(ref ip, Unsafe.Add(ref length0, k)));
            hopIds[k] = groupHops[((id ^ FastMultipathTable.GroupFlag) << 8) | (int)(hash & (MultipathGroup.BucketCount - 1))];
        }
    }

    // The header's third word (memory order: TTL, protocol, checksum) after the TTL drops by one, with the checksum
    // updated by RFC 1624 eqn. 3 on the TTL/protocol word m, as Ipv4Packet.DecrementTimeToLive does:
    // HC' = ~(~HC + ~m + m'), and with m' = m - 0x100 (TTL >= 2 here) the sum ~m + m' is 0xFEFF for every m.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint DecrementTimeToLive(uint word)
    {
        ushort checksum = BinaryPrimitives.ReverseEndianness((ushort)(word >> 16));
        checksum = (ushort)~Checksum.Fold((uint)(ushort)~checksum + 0xFEFF);
        return (word & 0xFF00) | ((word - 1) & 0xFF) | ((uint)BinaryPrimitives.ReverseEndianness(checksum) << 16);
    }

    // DIR-24-8 lookups four at a time, as DPDK's rte_lpm_lookupx4: four independent tbl24 loads, then the tbl8 loads
    // of the lanes that need one. Measured in ForwardingBenchmarks it beats the two-pass batched lookup once most
    // destinations sit under prefixes longer than /24, since each lane's tbl8 miss overlaps the next group's tbl24 misses.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LookupX4(Routing.Ipv4Lpm lpm, ref uint addresses, ref int results, int n)
    {
        ref uint tbl24 = ref MemoryMarshal.GetArrayDataReference(lpm._tbl24);
        ref uint tbl8 = ref MemoryMarshal.GetArrayDataReference(lpm._tbl8);
        const uint group = Routing.Ipv4Lpm.GroupFlag;
        const uint mask = Routing.Ipv4Lpm.ValueMask;
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            uint a0 = Unsafe.Add(ref addresses, i), a1 = Unsafe.Add(ref addresses, i + 1);
            uint a2 = Unsafe.Add(ref addresses, i + 2), a3 = Unsafe.Add(ref addresses, i + 3);
            uint e0 = Unsafe.Add(ref tbl24, (nint)(a0 >> 8)), e1 = Unsafe.Add(ref tbl24, (nint)(a1 >> 8));
            uint e2 = Unsafe.Add(ref tbl24, (nint)(a2 >> 8)), e3 = Unsafe.Add(ref tbl24, (nint)(a3 >> 8));
            if (((e0 | e1 | e2 | e3) & group) != 0)
            {
                if ((e0 & group) != 0)
                    e0 = Unsafe.Add(ref tbl8, ((nint)(e0 & mask) << 8) | (nint)(a0 & 0xFF));
                if ((e1 & group) != 0)
                    e1 = Unsafe.Add(ref tbl8, ((nint)(e1 & mask) << 8) | (nint)(a1 & 0xFF));
                if ((e2 & group) != 0)
                    e2 = Unsafe.Add(ref tbl8, ((nint)(e2 & mask) << 8) | (nint)(a2 & 0xFF));
                if ((e3 & group) != 0)
                    e3 = Unsafe.Add(ref tbl8, ((nint)(e3 & mask) << 8) | (nint)(a3 & 0xFF));
            }
            Unsafe.Add(ref results, i) = (int)(e0 & mask) - 1;
            Unsafe.Add(ref results, i + 1) = (int)(e1 & mask) - 1;
            Unsafe.Add(ref results, i + 2) = (int)(e2 & mask) - 1;
            Unsafe.Add(ref results, i + 3) = (int)(e3 & mask) - 1;
        }
        for (; i < n; i++)
        {
            uint a = Unsafe.Add(ref addresses, i);
            uint e = Unsafe.Add(ref tbl24, (nint)(a >> 8));
            if ((e & group) != 0)
                e = Unsafe.Add(ref tbl8, ((nint)(e & mask) << 8) | (nint)(a & 0xFF));
            Unsafe.Add(ref results, i) = (int)(e & mask) - 1;
        }
    }

    // RFC 1071 over the 20-byte header given as its five 32-bit words; a good header sums to all ones.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool HeaderChecksumValid(uint h0, uint h1, uint h2, uint h3, uint h4)
    {
        ulong sum = (ulong)h0 + h1 + h2 + h3 + h4;
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        return Checksum.Fold((uint)sum) == 0xFFFF;
    }

    // 0/8, loopback, link-local, multicast, class E and broadcast: never forwarded from or to by the full stack.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsSpecial(uint address)
    {
        // top - 1 wraps for 0/8, so one unsigned compare covers it and everything from 224 up.
        uint top = address >> 24;
        return top - 1 >= 223 || top == 127 || (address >> 16) == 0xA9FE;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Contains(uint[] values, uint value)
    {
        foreach (uint v in values)
        {
            if (v == value)
                return true;
        }
        return false;
    }
}
