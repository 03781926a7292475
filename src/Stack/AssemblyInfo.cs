using System.Runtime.CompilerServices;

// Packet buffers are always written before they are read; zeroing stackalloc'd scratch is wasted work.
[module: SkipLocalsInit]
