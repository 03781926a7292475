using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;

namespace XdpStack.Stack.FastPath;

/// <summary>The batched, run-to-completion IPv6 forwarding fast path: decides a whole receive batch in place, and leaves every frame it cannot decide exactly as the full stack would to the full stack.</summary>
/// <remarks>
/// <para>
/// A frame is taken when it is untagged IPv6 sent to the receiving NIC's MAC, version 6, with a payload
/// length that fits the frame, no Hop-by-Hop Options header (those go to the full stack, which processes
/// them), hop limit above 1; when its source is not unspecified, loopback, multicast or link-local and its
/// destination not multicast, loopback, unspecified or link-local; and when the LPM snapshot maps the
/// destination to a resolved next hop whose MTU holds the packet (IPv6 routers never fragment). Then its
/// hop limit is decremented (IPv6 has no header checksum), the MACs are rewritten, its length is trimmed
/// to 40 bytes plus the payload length, and the verdict names the egress NIC. What it leaves is byte for
/// byte unchanged.
/// </para>
/// <para>
/// The snapshot follows the stack as <see cref="Ipv4FastForwarder"/>'s does: every route, address, NIC or
/// forwarding change and every NDP neighbour-cache change schedules one rebuild on the stack's clock, and
/// until the rebuild is published a batch whose snapshot is older than <see cref="NetworkStack.ForwardingVersion"/>
/// goes to the full stack whole. Per frame there is no allocation, lock, <c>Interlocked</c> or virtual call:
/// the LPM lookups of a chunk walk the trie eight at a time in lockstep, so their cache misses overlap. A destination
/// under a multipath route looks up to a group, and the frame's flow hash (<see cref="MultipathHash"/>, the function
/// the full stack uses) picks the next hop from the group's 256 buckets.
/// </para>
/// </remarks>
public sealed class Ipv6FastForwarder : IDisposable
{
    private const int Chunk = 256;
    private const int EthernetLength = 14;
    private const int HeaderLength = 40;
    private const int MinFrame = EthernetLength + HeaderLength;

    private readonly SnapshotFollower<Ipv6ForwardingSnapshot> _follower;

    /// <summary>Creates the fast path for <paramref name="stack"/> and keeps its snapshot in step with the stack until disposed.</summary>
    public Ipv6FastForwarder(NetworkStack stack)
        : this(stack, useHugePages: false)
    {
    }

    /// <summary>As <see cref="Ipv6FastForwarder(NetworkStack)"/>; <paramref name="useHugePages"/> advises transparent huge pages for every snapshot's trie nodes, which saves most of a walk's TLB misses in a large table where THP is enabled.</summary>
    public Ipv6FastForwarder(NetworkStack stack, bool useHugePages)
    {
        var maintainer = new Ipv6SnapshotMaintainer(useHugePages);
        _follower = new SnapshotFollower<Ipv6ForwardingSnapshot>(stack,
            maintainer.Build,
            (s, handler) =>
            {
                // The maintainer first, so the rebuild the follower schedules sees the neighbour change.
                s.Ipv6NeighborsChanged += maintainer.OnNeighborsChanged;
                s.Ipv6NeighborsChanged += handler;
            },
            (s, handler) =>
            {
                s.Ipv6NeighborsChanged -= handler;
                s.Ipv6NeighborsChanged -= maintainer.OnNeighborsChanged;
            });
    }

    /// <summary>The snapshot batches use now.</summary>
    public Ipv6ForwardingSnapshot Snapshot => _follower.Current;

    // How many lookups walk the trie together: 1, 4 or 8. Ipv6ForwardingBenchmarks measures all three; 8 was the
    // fastest in every run at 1,000, 10,000 and 100,000 prefixes (perf/RESULTS.md), so it is the default.
    internal int LookupLanes { get; set; } = 8;

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
        Ipv6ForwardingSnapshot snapshot = _follower.Current;
        if (!_follower.IsCurrent(snapshot.StateVersion))
        {
            verdicts[..frames.Length].Clear();
            return 0;
        }
        int forwarded = 0;
        int lanes = LookupLanes;
        Span<ulong> highs = stackalloc ulong[Chunk];
        Span<ulong> lows = stackalloc ulong[Chunk];
        Span<int> hopIds = stackalloc int[Chunk];
        Span<int> candidates = stackalloc int[Chunk];
        for (int start = 0; start < frames.Length; start += Chunk)
        {
            int count = Math.Min(Chunk, frames.Length - start);
            Span<Frame> chunk = frames.Slice(start, count);
            Span<ForwardVerdict> chunkVerdicts = verdicts.Slice(start, count);
            Span<int> chunkEgress = egress.Slice(start, count);
            // One instantiation per lookup, so each gets its own code (and its own profile) and nothing is dispatched per frame.
            forwarded += lanes switch
            {
                1 => ForwardChunk<OneLane>(snapshot, ingress.Value, memory, chunk, chunkVerdicts, chunkEgress, highs, lows, hopIds, candidates),
                4 => ForwardChunk<FourLanes>(snapshot, ingress.Value, memory, chunk, chunkVerdicts, chunkEgress, highs, lows, hopIds, candidates),
                _ => ForwardChunk<EightLanes>(snapshot, ingress.Value, memory, chunk, chunkVerdicts, chunkEgress, highs, lows, hopIds, candidates),
            };
        }
        return forwarded;
    }

    private static int ForwardChunk<TLookup>(Ipv6ForwardingSnapshot snapshot, int ingressId, Span<byte> memory, Span<Frame> frames,
        Span<ForwardVerdict> verdicts, Span<int> egress, Span<ulong> highs, Span<ulong> lows, Span<int> hopIds, Span<int> candidates)
        where TLookup : struct, ITrieLookup
    {
        int count = frames.Length;
        verdicts[..count].Clear();
        FastIngress[] ingressTable = snapshot.Ingress;
        if ((uint)ingressId >= (uint)ingressTable.Length || !ingressTable[ingressId].Enabled)
            return 0;
        ulong macKey = ingressTable[ingressId].MacKey;
        // A frame going back out its own NIC may need a Redirect, which only the full stack sends.
        int refusedEgress = ingressTable[ingressId].HairpinAllowed ? -1 : ingressId;

        // Bounds are checked once per frame against the memory span; the loops then index with refs so the JIT
        // emits no further checks (count is at most Chunk, the length of every scratch span).
        ref byte memory0 = ref MemoryMarshal.GetReference(memory);
        ref Frame frame0 = ref MemoryMarshal.GetReference(frames);
        ref ulong high0 = ref MemoryMarshal.GetReference(highs);
        ref ulong low0 = ref MemoryMarshal.GetReference(lows);
        ref int candidate0 = ref MemoryMarshal.GetReference(candidates);
        uint memoryLength = (uint)memory.Length;

        // Pass 1: validate and gather destinations, so the LPM sees one batch of independent lookups.
        int n = 0;
        for (int i = 0; i < count; i++)
        {
            Frame f = Unsafe.Add(ref frame0, i);
            if ((uint)f.Offset > memoryLength || (uint)f.Length > memoryLength - (uint)f.Offset || f.Length < MinFrame)
                continue;
            ref byte p = ref Unsafe.Add(ref memory0, (nint)(uint)f.Offset);
            if ((Unsafe.ReadUnaligned<ulong>(ref p) & 0xFFFF_FFFF_FFFFUL) != macKey
                || Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, 12)) != 0xDD86)
                continue;
            ref byte ip = ref Unsafe.Add(ref p, EthernetLength);
            int payloadLength = (Unsafe.Add(ref ip, 4) << 8) | Unsafe.Add(ref ip, 5);
            // Version 6; Next Header 0 is Hop-by-Hop Options, which every router must look at (RFC 8200 §4.3).
            if ((ip >> 4) != 6 || payloadLength > f.Length - MinFrame || Unsafe.Add(ref ip, 6) == 0 || Unsafe.Add(ref ip, 7) <= 1)
                continue;
            ulong sourceHigh = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref ip, 8)));
            ulong sourceLow = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref ip, 16)));
            ulong destinationHigh = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref ip, 24)));
            ulong destinationLow = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref ip, 32)));
            if (IsSpecial(sourceHigh, sourceLow) || IsSpecial(destinationHigh, destinationLow))
                continue;
            Unsafe.Add(ref high0, n) = destinationHigh;
            Unsafe.Add(ref low0, n) = destinationLow;
            Unsafe.Add(ref candidate0, n) = i;
            n++;
        }
        if (n == 0)
            return 0;

        ref int hopId0 = ref MemoryMarshal.GetReference(hopIds);
        TLookup.Lookup(snapshot.Lpm, ref high0, ref low0, ref hopId0, n);
        if (snapshot.GroupHops.Length != 0)
            PickMultipathHops(snapshot, ref memory0, ref frame0, ref candidate0, hopIds[..n]);

        // Pass 2: rewrite what has a resolved next hop that fits.
        FastNextHop[] hops = snapshot.Hops;
        ref FastNextHop hop0 = ref MemoryMarshal.GetArrayDataReference(hops);
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
            int i = Unsafe.Add(ref candidate0, k);
            ref Frame f = ref Unsafe.Add(ref frame0, i);
            ref byte p = ref Unsafe.Add(ref memory0, (nint)(uint)f.Offset);
            ref byte ip = ref Unsafe.Add(ref p, EthernetLength);
            int packetLength = HeaderLength + ((Unsafe.Add(ref ip, 4) << 8) | Unsafe.Add(ref ip, 5));
            // Too big: the full stack answers with Packet Too Big (RFC 8200 §5).
            if (packetLength > hop.Mtu)
                continue;
            Unsafe.Add(ref ip, 7)--;
            Unsafe.WriteUnaligned(ref p, hop.MacsLow);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, 8), hop.MacsHigh);
            f.Length = EthernetLength + packetLength;
            Unsafe.Add(ref verdict0, i) = ForwardVerdict.Forward;
            Unsafe.Add(ref egress0, i) = hop.Nic;
            forwarded++;
        }
        return forwarded;
    }

    // Multipath prefixes looked up to a group: the flow hash (the same function on the same bytes as the full stack's
    // Ipv6Forwarder) picks the bucket, and the bucket names the hop. Only frames to such prefixes pay for the hash.
    private static void PickMultipathHops(Ipv6ForwardingSnapshot snapshot, ref byte memory0, ref Frame frame0, ref int candidate0, Span<int> hopIds)
    {
        int[] groupHops = snapshot.GroupHops;
        MultipathHash multipath = snapshot.Multipath;
        for (int k = 0; k < hopIds.Length; k++)
        {
            int id = hopIds[k];
            if (id < FastMultipathTable.GroupFlag)
                continue;
            ref byte ip = ref Unsafe.Add(ref memory0, (nint)(uint)Unsafe.Add(ref frame0, Unsafe.Add(ref candidate0, k)).Offset + EthernetLength);
            int packetLength = HeaderLength + ((Unsafe.Add(ref ip, 4) << 8) | Unsafe.Add(ref ip, 5));
            uint hash = multipath.OfIpv6(MemoryMarshal.CreateReadOnlySpan(ref ip, packetLength));
            hopIds[k] = groupHops[((id ^ FastMultipathTable.GroupFlag) << 8) | (int)(hash & (MultipathGroup.BucketCount - 1))];
        }
    }

    // The trie lookup of a chunk's gathered destinations, chosen by type so the JIT specialises ForwardChunk for it.
    private interface ITrieLookup
    {
        static abstract void Lookup(Ipv6Lpm lpm, ref ulong highs, ref ulong lows, ref int results, int n);
    }

    private readonly struct OneLane : ITrieLookup
    {
        public static void Lookup(Ipv6Lpm lpm, ref ulong highs, ref ulong lows, ref int results, int n) =>
            LookupScalar(lpm, ref highs, ref lows, ref results, n);
    }

    private readonly struct FourLanes : ITrieLookup
    {
        public static void Lookup(Ipv6Lpm lpm, ref ulong highs, ref ulong lows, ref int results, int n) =>
            LookupX4(lpm, ref highs, ref lows, ref results, n);
    }

    private readonly struct EightLanes : ITrieLookup
    {
        public static void Lookup(Ipv6Lpm lpm, ref ulong highs, ref ulong lows, ref int results, int n) =>
            LookupX8(lpm, ref highs, ref lows, ref results, n);
    }

    // One walk per address, as Ipv6Lpm.Lookup: each read waits for the one before.
    private static void LookupScalar(Ipv6Lpm lpm, ref ulong highs, ref ulong lows, ref int results, int n)
    {
        for (int i = 0; i < n; i++)
            Unsafe.Add(ref results, i) = lpm.Lookup(Unsafe.Add(ref highs, i), Unsafe.Add(ref lows, i));
    }

    // Four walks in lockstep: each level's (up to) four node reads are independent, so their misses overlap. All lanes
    // sit at the same depth, so they share the shift that picks the next octet; a lane that reached a leaf stops.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LookupX4(Ipv6Lpm lpm, ref ulong highs, ref ulong lows, ref int results, int n)
    {
        ref uint root = ref MemoryMarshal.GetArrayDataReference(lpm._root);
        ref uint nodes = ref MemoryMarshal.GetArrayDataReference(lpm._nodes);
        const uint child = Ipv6Lpm.ChildFlag;
        const uint mask = Ipv6Lpm.ValueMask;
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            uint e0 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref highs, i) >> 48));
            uint e1 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref highs, i + 1) >> 48));
            uint e2 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref highs, i + 2) >> 48));
            uint e3 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref highs, i + 3) >> 48));
            if (((e0 | e1 | e2 | e3) & child) != 0)
            {
                ref ulong words = ref Unsafe.Add(ref highs, i);
                int shift = 40;
                do
                {
                    if ((e0 & child) != 0)
                        e0 = Unsafe.Add(ref nodes, ((nint)(e0 & mask) << 8) | (nint)((words >> shift) & 0xFF));
                    if ((e1 & child) != 0)
                        e1 = Unsafe.Add(ref nodes, ((nint)(e1 & mask) << 8) | (nint)((Unsafe.Add(ref words, 1) >> shift) & 0xFF));
                    if ((e2 & child) != 0)
                        e2 = Unsafe.Add(ref nodes, ((nint)(e2 & mask) << 8) | (nint)((Unsafe.Add(ref words, 2) >> shift) & 0xFF));
                    if ((e3 & child) != 0)
                        e3 = Unsafe.Add(ref nodes, ((nint)(e3 & mask) << 8) | (nint)((Unsafe.Add(ref words, 3) >> shift) & 0xFF));
                    shift -= 8;
                    if (shift < 0)
                    {
                        words = ref Unsafe.Add(ref lows, i);
                        shift = 56;
                    }
                }
                while (((e0 | e1 | e2 | e3) & child) != 0);
            }
            Unsafe.Add(ref results, i) = (int)(e0 & mask) - 1;
            Unsafe.Add(ref results, i + 1) = (int)(e1 & mask) - 1;
            Unsafe.Add(ref results, i + 2) = (int)(e2 & mask) - 1;
            Unsafe.Add(ref results, i + 3) = (int)(e3 & mask) - 1;
        }
        for (; i < n; i++)
            Unsafe.Add(ref results, i) = lpm.Lookup(Unsafe.Add(ref highs, i), Unsafe.Add(ref lows, i));
    }

    // Eight walks in lockstep, as LookupX4 with eight lanes: more misses in flight per level, at the cost of more
    // lanes idling while the deepest walks and of registers (the JIT spills some of the eight entries).
    private static void LookupX8(Ipv6Lpm lpm, ref ulong highs, ref ulong lows, ref int results, int n)
    {
        ref uint root = ref MemoryMarshal.GetArrayDataReference(lpm._root);
        ref uint nodes = ref MemoryMarshal.GetArrayDataReference(lpm._nodes);
        const uint child = Ipv6Lpm.ChildFlag;
        const uint mask = Ipv6Lpm.ValueMask;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            ref ulong h = ref Unsafe.Add(ref highs, i);
            uint e0 = Unsafe.Add(ref root, (nint)(h >> 48));
            uint e1 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref h, 1) >> 48));
            uint e2 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref h, 2) >> 48));
            uint e3 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref h, 3) >> 48));
            uint e4 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref h, 4) >> 48));
            uint e5 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref h, 5) >> 48));
            uint e6 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref h, 6) >> 48));
            uint e7 = Unsafe.Add(ref root, (nint)(Unsafe.Add(ref h, 7) >> 48));
            if (((e0 | e1 | e2 | e3 | e4 | e5 | e6 | e7) & child) != 0)
            {
                ref ulong words = ref h;
                int shift = 40;
                do
                {
                    if ((e0 & child) != 0)
                        e0 = Unsafe.Add(ref nodes, ((nint)(e0 & mask) << 8) | (nint)((words >> shift) & 0xFF));
                    if ((e1 & child) != 0)
                        e1 = Unsafe.Add(ref nodes, ((nint)(e1 & mask) << 8) | (nint)((Unsafe.Add(ref words, 1) >> shift) & 0xFF));
                    if ((e2 & child) != 0)
                        e2 = Unsafe.Add(ref nodes, ((nint)(e2 & mask) << 8) | (nint)((Unsafe.Add(ref words, 2) >> shift) & 0xFF));
                    if ((e3 & child) != 0)
                        e3 = Unsafe.Add(ref nodes, ((nint)(e3 & mask) << 8) | (nint)((Unsafe.Add(ref words, 3) >> shift) & 0xFF));
                    if ((e4 & child) != 0)
                        e4 = Unsafe.Add(ref nodes, ((nint)(e4 & mask) << 8) | (nint)((Unsafe.Add(ref words, 4) >> shift) & 0xFF));
                    if ((e5 & child) != 0)
                        e5 = Unsafe.Add(ref nodes, ((nint)(e5 & mask) << 8) | (nint)((Unsafe.Add(ref words, 5) >> shift) & 0xFF));
                    if ((e6 & child) != 0)
                        e6 = Unsafe.Add(ref nodes, ((nint)(e6 & mask) << 8) | (nint)((Unsafe.Add(ref words, 6) >> shift) & 0xFF));
                    if ((e7 & child) != 0)
                        e7 = Unsafe.Add(ref nodes, ((nint)(e7 & mask) << 8) | (nint)((Unsafe.Add(ref words, 7) >> shift) & 0xFF));
                    shift -= 8;
                    if (shift < 0)
                    {
                        words = ref Unsafe.Add(ref lows, i);
                        shift = 56;
                    }
                }
                while (((e0 | e1 | e2 | e3 | e4 | e5 | e6 | e7) & child) != 0);
            }
            ref int r = ref Unsafe.Add(ref results, i);
            r = (int)(e0 & mask) - 1;
            Unsafe.Add(ref r, 1) = (int)(e1 & mask) - 1;
            Unsafe.Add(ref r, 2) = (int)(e2 & mask) - 1;
            Unsafe.Add(ref r, 3) = (int)(e3 & mask) - 1;
            Unsafe.Add(ref r, 4) = (int)(e4 & mask) - 1;
            Unsafe.Add(ref r, 5) = (int)(e5 & mask) - 1;
            Unsafe.Add(ref r, 6) = (int)(e6 & mask) - 1;
            Unsafe.Add(ref r, 7) = (int)(e7 & mask) - 1;
        }
        LookupX4(lpm, ref Unsafe.Add(ref highs, i), ref Unsafe.Add(ref lows, i), ref Unsafe.Add(ref results, i), n - i);
    }

    // Unspecified, loopback, multicast (ff00::/8) and link-local unicast (fe80::/10): never forwarded from or to
    // (RFC 4291 §2.5.2, §2.5.3, §2.5.6, §2.7).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsSpecial(ulong high, ulong low) =>
        (high >> 56) == 0xFF || (high >> 54) == (0xFE80UL >> 6) || (high == 0 && low <= 1);
}
