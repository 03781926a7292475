using System.Runtime.InteropServices;

namespace XdpStack.Fuzz;

/// <summary>Gives SharpFuzz's instrumentation a counter map when no fuzzer provides one.</summary>
internal static class CoverageSink
{
    // Instrumented code writes to SharpFuzz.Common.Trace.SharedMem on every branch; until libFuzzer's segment is
    // attached, or outside libFuzzer, nothing sets it and the first branch would write through a null pointer.
    public static unsafe void AttachLocal()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
            SharpFuzz.Common.Trace.SharedMem = (byte*)NativeMemory.AllocZeroed(1 << 16);
    }
}
