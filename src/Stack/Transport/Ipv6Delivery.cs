using System.Runtime.CompilerServices;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport;

/// <summary>An IPv6 packet addressed to the stack, its extension headers walked, as handed to a transport: the frame it came in, and where its upper-layer segment lies.</summary>
/// <remarks>
/// The IPv6 counterpart of <see cref="Ipv4Delivery"/>. <see cref="Frame"/> is the received Ethernet
/// frame, or a worker's reassembly buffer with the first fragment's Ethernet and unfragmentable
/// headers in front. A handler may rewrite it into a reply and call <see cref="SendInPlace"/>: a
/// received frame then goes back out through the link without a copy; a reassembled one is copied,
/// and refused when it exceeds the MTU, since the stack does not fragment IPv6 it sends.
/// </remarks>
public ref struct Ipv6Delivery
{
    /// <summary>Bytes before the IPv6 header in <see cref="Frame"/>: one untagged Ethernet II header.</summary>
    public const int LinkHeaderLength = EthernetFrame.UntaggedHeaderLength;

    private ref Frame _descriptor;
    private bool _sent;

    internal Ipv6Delivery(Nic nic, int worker, AddressSnapshot addresses, Span<byte> frame, int upperLayerOffset, int upperLayerLength, ref Frame descriptor, bool reassembled)
    {
        Nic = nic;
        Worker = worker;
        Addresses = addresses;
        Frame = frame;
        UpperLayerOffset = upperLayerOffset;
        UpperLayerLength = upperLayerLength;
        _descriptor = ref descriptor;
        IsReassembled = reassembled;
    }

    public Nic Nic { get; }

    /// <summary>The receiving worker; pass it on to anything that counts or sends.</summary>
    public int Worker { get; }

    /// <summary>The Ethernet frame: link header, IPv6 header, extension headers, segment; trailing link padding already cut off.</summary>
    public Span<byte> Frame { get; }

    /// <summary>Where the upper-layer segment starts, counted from the IPv6 header.</summary>
    public int UpperLayerOffset { get; }

    /// <summary>Octets of the upper-layer segment, bounded by the payload length.</summary>
    public int UpperLayerLength { get; }

    public bool IsReassembled { get; }

    /// <summary>True once <see cref="SendInPlace"/> was called.</summary>
    public readonly bool Sent => _sent;

    /// <summary>The IPv6 packet within <see cref="Frame"/>.</summary>
    public readonly Ipv6Packet Ip
    {
        get
        {
            Ipv6Packet.TryCreate(Frame[LinkHeaderLength..], out Ipv6Packet ip, out _);
            return ip;
        }
    }

    /// <summary>The upper-layer segment (transport header and data).</summary>
    public readonly Span<byte> Payload => Frame.Slice(LinkHeaderLength + UpperLayerOffset, UpperLayerLength);

    public readonly Ipv6Address Source => new(Frame.Slice(LinkHeaderLength + 8, 16));

    public readonly Ipv6Address Destination => new(Frame.Slice(LinkHeaderLength + 24, 16));

    /// <summary>The MAC the packet came from: where a reply goes, whether the sender is on link or behind a router.</summary>
    public readonly MacAddress LinkSource => MacAddress.Read(Frame[MacAddress.Length..]);

    // The receiving NIC's addresses as this batch read them.
    internal AddressSnapshot Addresses { get; }

    /// <summary>
    /// Sends the first <paramref name="frameLength"/> bytes of <see cref="Frame"/>, which the caller
    /// rewrote into a complete reply with a bare IPv6 header, back out of the receiving NIC; false
    /// when a reassembled reply exceeds the MTU or the link has no room for its copy.
    /// </summary>
    public bool SendInPlace(int frameLength)
    {
        if (_sent)
            return false;
        _sent = true;
        if (!IsReassembled && !Unsafe.IsNullRef(ref _descriptor))
        {
            _descriptor.Length = frameLength;
            _descriptor.Action = FrameAction.Transmit;
            return true;
        }
        return frameLength - LinkHeaderLength <= Nic.Link.Mtu && Nic.WriteFrame(Worker, Frame[..frameLength]);
    }
}
