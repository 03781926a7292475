using System.Runtime.CompilerServices;

// Everything crossing into the kernel is blittable; the runtime never marshals for us.
[assembly: DisableRuntimeMarshalling]
// Kernel structs are filled field by field before every syscall.
[module: SkipLocalsInit]
