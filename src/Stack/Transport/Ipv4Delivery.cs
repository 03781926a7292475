using System.Runtime.CompilerServices;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport;

/// <summary>A validated IPv4 packet addressed to the stack, as handed to ICMP and the transports: the frame it came in, and a view of its IPv4 packet.</summary>
/// <remarks>
/// <see cref="Frame"/> is the received Ethernet frame, or a worker's reassembly buffer with a copy
/// of the first fragment's Ethernet header in front. Either way a handler may rewrite it into a
/// reply and call <see cref="SendInPlace"/>: a received frame then goes back out through the link
/// without a copy, a reassembled one is copied (and fragmented if it must be).
/// </remarks>
public ref struct Ipv4Delivery
{
    /// <summary>Bytes before the IPv4 header in <see cref="Frame"/>: one untagged Ethernet II header.</summary>
    public const int LinkHeaderLength = EthernetFrame.UntaggedHeaderLength;

    private ref Frame _descriptor;
    private bool _sent;

    internal Ipv4Delivery(Nic nic, int worker, AddressSnapshot addresses, Span<byte> frame, Ipv4Packet ip, ref Frame descriptor, bool reassembled)
    {
        Nic = nic;
        Worker = worker;
        Addresses = addresses;
        Frame = frame;
        Ip = ip;
        _descriptor = ref descriptor;
        IsReassembled = reassembled;
    }

    public Nic Nic { get; }

    /// <summary>The receiving worker; pass it on to anything that counts or sends.</summary>
    public int Worker { get; }

    /// <summary>The Ethernet frame: link header, IPv4 header, payload; trailing link padding already cut off.</summary>
    public Span<byte> Frame { get; }

    /// <summary>The IPv4 packet within <see cref="Frame"/>, checked.</summary>
    public Ipv4Packet Ip { get; }

    public bool IsReassembled { get; }

    /// <summary>True once <see cref="SendInPlace"/> was called.</summary>
    public readonly bool Sent => _sent;

    /// <summary>The transport header and data, bounded by the IPv4 total length.</summary>
    public readonly Span<byte> Payload => Ip.Payload;

    public readonly Ipv4Address Source => Ip.Source;

    public readonly Ipv4Address Destination => Ip.Destination;

    public readonly IpProtocol Protocol => Ip.Protocol;

    /// <summary>The MAC the packet came from: where a reply goes, whether the sender is on link or behind a router.</summary>
    public readonly MacAddress LinkSource => MacAddress.Read(Frame[MacAddress.Length..]);

    // The receiving NIC's addresses as this batch read them.
    internal AddressSnapshot Addresses { get; }

    /// <summary>
    /// Sends the first <paramref name="frameLength"/> bytes of <see cref="Frame"/>, which the caller
    /// rewrote into a complete reply, back out of the receiving NIC.
    /// </summary>
    public bool SendInPlace(int frameLength)
    {
        if (_sent)
            return false;
        _sent = true;
        // In place unless a learned path MTU is smaller than the reply (then it leaves in fragments, its
        // descriptor released); the lookup only matters past the smallest MTU a path may be given.
        if (!IsReassembled && !Unsafe.IsNullRef(ref _descriptor)
            && (frameLength - LinkHeaderLength <= Network.PathMtuCache.MinIpv4 || !Nic.ExceedsPathMtu(Frame[..frameLength])))
        {
            _descriptor.Length = frameLength;
            _descriptor.Action = FrameAction.Transmit;
            return true;
        }
        // A reassembled datagram's reply may exceed the MTU; it leaves in fragments then.
        return Nic.WriteIpv4Frame(Worker, Frame[..frameLength], ownPacket: true);
    }
}
