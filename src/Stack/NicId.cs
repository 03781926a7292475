namespace XdpStack.Stack;

/// <summary>Identifies a NIC within a <see cref="NetworkStack"/>; 0 means "any NIC" where an API allows it, as in gVisor.</summary>
public readonly record struct NicId(int Value)
{
    /// <summary>The "any NIC" wildcard.</summary>
    public static NicId Any => default;

    public bool IsAny => Value == 0;

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
