namespace XdpStack.Stack;

/// <summary>Why a control operation failed, named after gVisor's <c>tcpip.Error</c> kinds; <see cref="None"/> is success.</summary>
public enum StackError
{
    None,

    /// <summary>No NIC has this id (gVisor <c>ErrUnknownNICID</c>).</summary>
    UnknownNicId,

    /// <summary>A NIC with this id already exists.</summary>
    DuplicateNicId,

    /// <summary>A NIC with this name already exists.</summary>
    DuplicateNicName,

    /// <summary>The address is already assigned as permanent on this NIC.</summary>
    DuplicateAddress,

    /// <summary>The NIC has no such address, or it was already removed; or a local address the NIC may not use.</summary>
    BadLocalAddress,

    /// <summary>The network protocol is not one the stack knows.</summary>
    UnknownProtocol,

    /// <summary>No route to the destination, or no usable source address.</summary>
    NetworkUnreachable,

    /// <summary>The route's local address was removed, or its NIC is down.</summary>
    InvalidEndpointState,

    /// <summary>The address or prefix is not valid for the operation.</summary>
    BadAddress,

    /// <summary>The link had no room for the frame.</summary>
    WouldBlock,

    /// <summary>The destination's link address is being resolved; the packet waits in the neighbour cache.</summary>
    ResolutionPending,

    /// <summary>The packet is larger than the link MTU.</summary>
    MessageTooLong,

    /// <summary>The transport key is already registered on that NIC without reuse-port on both sides (gVisor <c>ErrPortInUse</c>).</summary>
    PortInUse,

    /// <summary>The endpoint is not bound, or not connected where a destination is needed.</summary>
    NotConnected,
}
