using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Neighbors;

/// <summary>Records every handler call with the clock time it happened at.</summary>
internal sealed class RecordingNeighborHandler(ManualClock clock) : INeighborHandler<Ipv4Address>
{
    public List<(TimeSpan At, Ipv4Address Target, MacAddress UnicastTo)> Probes { get; } = [];

    public List<(Ipv4Address Neighbor, MacAddress LinkAddress, byte[] Packet, int Tag)> Sent { get; } = [];

    /// <summary>The worker index each <see cref="SendPending"/> came with, in order.</summary>
    public List<int> SentBy { get; } = [];

    public List<(Ipv4Address Neighbor, byte[] Packet, int Tag, PendingFailure Reason)> Failed { get; } = [];

    /// <summary>Runs inside <see cref="SendPending"/>, to re-enter the cache the way a worker would.</summary>
    public Action<Ipv4Address>? OnSend { get; set; }

    public void SendProbe(Ipv4Address target, MacAddress unicastTo) => Probes.Add((clock.Now, target, unicastTo));

    public void SendPending(Ipv4Address neighbor, MacAddress linkAddress, ReadOnlySpan<byte> packet, int tag, int worker)
    {
        Sent.Add((neighbor, linkAddress, packet.ToArray(), tag));
        SentBy.Add(worker);
        OnSend?.Invoke(neighbor);
    }

    public void PendingFailed(Ipv4Address neighbor, ReadOnlySpan<byte> packet, int tag, PendingFailure reason) =>
        Failed.Add((neighbor, packet.ToArray(), tag, reason));
}
