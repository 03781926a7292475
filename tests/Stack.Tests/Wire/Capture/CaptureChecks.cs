namespace XdpStack.Stack.Tests.Wire.Capture;

/// <summary>Field checks against the values the capture scenarios set; shared by the committed-file tests and the live capture.</summary>
internal static class CaptureChecks
{
    public static void CheckAll(CapturedPackets packets)
    {
        Assert.Equal(4, packets.ArpIcmp4.Count);
    }
}
