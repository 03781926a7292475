/*
 * The C reference for perf/Benchmarks/Wire/ChecksumBenchmarks.cs: the Internet checksum loop
 * exactly as RFC 1071 §4.1 prints it, with no hand optimisation; whatever speed it has comes from
 * the compiler. The benchmark builds it at startup with
 *     gcc -O3 -march=native -shared -fPIC -o libcsum_ref.so csum_ref.c
 * It sums native-order 16-bit words, so on a little-endian machine the result is the byte-swapped
 * checksum (RFC 1071 §2(B)); the benchmark swaps it back before comparing.
 */
unsigned short csum_ref(const void *data, int count)
{
    const unsigned short *addr = data;
    long sum = 0;

    while (count > 1) {
        /* This is the inner loop */
        sum += *addr++;
        count -= 2;
    }

    /* Add left-over byte, if any */
    if (count > 0)
        sum += *(const unsigned char *)addr;

    /* Fold 32-bit sum to 16 bits */
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);

    return (unsigned short)~sum;
}
