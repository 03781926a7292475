using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;

namespace XdpStack.Stack.Tests.FastPath;

// The shape of Ipv4FastForwarder.Forward and Ipv6FastForwarder.Forward, so FastPathRuns serves both (Func cannot take spans).
internal delegate int FastForward(NicId ingress, Span<byte> memory, Span<Frame> frames, Span<ForwardVerdict> verdicts, Span<int> egress);
