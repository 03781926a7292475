namespace XdpStack.Xdp;

/// <summary>The attributes of a link as RTM_GETLINK reports them.</summary>
internal sealed class LinkAttributes
{
    public int Index { get; set; }
    public string Name { get; set; } = "";
    public byte[] Address { get; set; } = [];
    public int Mtu { get; set; }
    public int NumTxQueues { get; set; }
    public int NumRxQueues { get; set; }
    public byte XdpAttached { get; set; }
    public uint XdpProgramId { get; set; }
    public uint XdpDriverProgramId { get; set; }
    public uint XdpGenericProgramId { get; set; }
    public uint XdpOffloadProgramId { get; set; }
}
