using XdpStack.Stack.Tests.Wire.Capture;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>Captures the scenarios afresh from Linux and runs the same field checks as on the committed files.</summary>
[Trait("Category", "Root")]
public sealed class LiveCaptureTests
{
    [Fact]
    public void FreshCapture_EveryScenario_PassesTheCommittedChecks()
    {
        string directory = Directory.CreateTempSubdirectory("xdpstack-wire-").FullName;
        try
        {
            WireCapture.CaptureAll(directory, Path.Combine(CapturedPackets.DataDirectory, "traffic.py"));
            // Regenerating the committed files: XDPSTACK_WIRE_CAPTURE_OUT=tests/Stack.Tests/Wire/Data.
            string? output = Environment.GetEnvironmentVariable("XDPSTACK_WIRE_CAPTURE_OUT");
            if (!string.IsNullOrEmpty(output))
            {
                foreach ((string file, _, _) in WireCapture.Scenarios)
                    File.Copy(Path.Combine(directory, file), Path.Combine(output, file), overwrite: true);
            }
            CaptureChecks.CheckAll(new CapturedPackets(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
