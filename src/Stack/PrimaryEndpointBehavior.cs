namespace XdpStack.Stack;

/// <summary>Whether and where an address enters its NIC's list of primary (source-address candidate) addresses.</summary>
public enum PrimaryEndpointBehavior
{
    /// <summary>Appended to the primary list; the default.</summary>
    CanBePrimary,

    /// <summary>Inserted at the front of the primary list, so the most recent such address is chosen first.</summary>
    FirstPrimary,

    /// <summary>Never chosen as a source address (the limited broadcast address, multicast groups).</summary>
    NeverPrimary,
}
