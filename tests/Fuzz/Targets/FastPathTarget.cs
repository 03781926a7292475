using XdpStack.Fuzz.Router;
using XdpStack.Stack;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;

namespace XdpStack.Fuzz.Targets;

/// <summary>
/// A fast path checked against the full stack, as the property tests in tests/Stack.Tests/FastPath do: a frame the fast
/// path leaves must be untouched, one it takes must be exactly what the full stack sends for it, on the same NIC and no
/// other; and a batch must get, frame by frame, what each frame gets alone.
/// </summary>
/// <remarks>
/// The input is a <see cref="FrameSequence"/>; every frame comes in on the first record's NIC, alone with the frame
/// ending at a guard page (the fast paths read through refs), then all together as one batch. The router is made once
/// and not reset: its neighbours are static, and only frames the fast path took reach the full stack, which forwards
/// them without changing its state.
/// </remarks>
internal abstract class FastPathTarget : FuzzTarget
{
    private const int Slot = 2048;
    private readonly FrameRecord[] _records = new FrameRecord[FrameSequence.MaxFrames];
    private readonly GuardedBuffer _guarded = new(16 * 1024);
    private readonly byte[] _batchMemory = new byte[FrameSequence.MaxFrames * Slot];
    private readonly Frame[] _batch = new Frame[FrameSequence.MaxFrames];
    private readonly ForwardVerdict[] _batchVerdicts = new ForwardVerdict[FrameSequence.MaxFrames];
    private readonly int[] _batchEgress = new int[FrameSequence.MaxFrames];
    private readonly ForwardVerdict[] _verdicts = new ForwardVerdict[FrameSequence.MaxFrames];
    private readonly int[] _egress = new int[FrameSequence.MaxFrames];
    private readonly byte[][] _outputs = new byte[FrameSequence.MaxFrames][];
    private FuzzRouter? _router;
    private FastForward? _forward;

    /// <summary>The shape of Ipv4FastForwarder.Forward and Ipv6FastForwarder.Forward.</summary>
    protected delegate int FastForward(NicId ingress, Span<byte> memory, Span<Frame> frames, Span<ForwardVerdict> verdicts, Span<int> egress);

    public override int MaxLength => 8192;

    protected abstract FastForward CreateForwarder(NetworkStack stack);

    /// <summary>A UDP packet from host A to host B, which the fast path must take.</summary>
    protected abstract byte[] TransitProbe();

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (_router is null)
        {
            _router = new FuzzRouter();
            _forward = CreateForwarder(_router.Stack);
            // A fast path that never forwards would pass every check here; make sure this one takes plain transit.
            (ForwardVerdict probe, _, _) = Alone(FuzzRouter.Nic1, TransitProbe());
            if (probe != ForwardVerdict.Forward)
                throw new InvalidOperationException($"{Name}: the fast path did not take a plain transit packet ({probe}); the router is set up wrong");
        }
        // Runs a rebuild the stack scheduled (as a worker's next batch would see it), so the fast path never stays on
        // a snapshot the stack has moved past and hands everything to the full stack unchecked.
        _router.Clock.Advance(TimeSpan.Zero);
        int count = FrameSequence.Parse(input, _records);
        if (count == 0)
            return;
        NicId ingress = _records[0].SecondNic ? FuzzRouter.Nic2 : FuzzRouter.Nic1;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> frame = input.Slice(_records[i].Offset, Math.Min(_records[i].Length, Slot));
            (_verdicts[i], _egress[i], _outputs[i]) = Alone(ingress, frame);
            if (_verdicts[i] == ForwardVerdict.SlowPath)
                FuzzCheckException.That(_outputs[i].AsSpan().SequenceEqual(frame), "a frame left to the full stack was changed");
            else
                MatchFullStack(ingress, frame, _egress[i], _outputs[i]);
        }

        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> frame = input.Slice(_records[i].Offset, Math.Min(_records[i].Length, Slot));
            frame.CopyTo(_batchMemory.AsSpan(i * Slot));
            _batch[i] = new Frame(i * Slot, frame.Length);
        }
        int forwarded = _forward!(ingress, _batchMemory, _batch.AsSpan(0, count), _batchVerdicts.AsSpan(0, count), _batchEgress.AsSpan(0, count));
        int expected = 0;
        for (int i = 0; i < count; i++)
        {
            FuzzCheckException.That(_batchVerdicts[i] == _verdicts[i], $"frame {i}: {_batchVerdicts[i]} in a batch, {_verdicts[i]} alone");
            FuzzCheckException.That(_batchMemory.AsSpan(_batch[i].Offset, _batch[i].Length).SequenceEqual(_outputs[i]), $"frame {i}: other bytes in a batch than alone");
            if (_verdicts[i] == ForwardVerdict.Forward)
            {
                FuzzCheckException.That(_batchEgress[i] == _egress[i], $"frame {i}: egress {_batchEgress[i]} in a batch, {_egress[i]} alone");
                expected++;
            }
        }
        FuzzCheckException.That(forwarded == expected, $"the batch returned {forwarded} forwarded, its verdicts say {expected}");
    }

    private (ForwardVerdict Verdict, int Egress, byte[] Output) Alone(NicId ingress, ReadOnlySpan<byte> frame)
    {
        Span<byte> placed = _guarded.Place(frame);
        Span<Frame> frames = [new Frame(_guarded.Capacity - placed.Length, placed.Length)];
        Span<ForwardVerdict> verdicts = [(ForwardVerdict)0xFF];
        Span<int> egress = [0];
        int forwarded = _forward!(ingress, _guarded.All, frames, verdicts, egress);
        FuzzCheckException.That(verdicts[0] is ForwardVerdict.SlowPath or ForwardVerdict.Forward, $"verdict {verdicts[0]}");
        FuzzCheckException.That(forwarded == (verdicts[0] == ForwardVerdict.Forward ? 1 : 0), $"returned {forwarded} for a {verdicts[0]}");
        FuzzCheckException.That(frames[0].Offset >= 0 && frames[0].Offset + frames[0].Length <= _guarded.Capacity, "descriptor outside the memory");
        return (verdicts[0], egress[0], _guarded.All.Slice(frames[0].Offset, frames[0].Length).ToArray());
    }

    private void MatchFullStack(NicId ingress, ReadOnlySpan<byte> frame, int egress, byte[] output)
    {
        FuzzCheckException.That(egress is 1 or 2, $"egress {egress}");
        _router!.Link(ingress).InjectInbound(frame);
        List<byte[]> out1 = _router.Link1.ReadAll(), out2 = _router.Link2.ReadAll();
        List<byte[]> same = egress == 1 ? out1 : out2, other = egress == 1 ? out2 : out1;
        FuzzCheckException.That(other.Count == 0, $"the full stack also sent {other.Count} frames out of the other NIC");
        FuzzCheckException.That(same.Count == 1, $"the full stack sent {same.Count} frames out of nic {egress}, the fast path one");
        FuzzCheckException.That(same[0].AsSpan().SequenceEqual(output),
            $"fast path sent {Convert.ToHexString(output)}, the full stack {Convert.ToHexString(same[0])}");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source)
    {
        foreach ((bool secondNic, byte[] frame) in SeedFrames.Transit(source))
            yield return FrameSequence.One(frame, secondNic);
        foreach (byte[] frame in source.Frames)
            yield return FrameSequence.One(frame);
        // A batch of everything transit from nic 1, to reach the lookup's groups of four.
        yield return FrameSequence.Encode([.. SeedFrames.Transit(source).Where(t => !t.SecondNic).Take(FrameSequence.MaxFrames).Select(t => (false, 0, t.Frame))]);
    }
}
