/*
 * Tuned C references for perf/Benchmarks/Wire/ChecksumBenchmarks.cs, beside the plain RFC 1071 loop of csum_ref.c:
 *
 *   csum_dpdk    DPDK's rte_raw_cksum (rte_ip.h), what a DPDK application calls (rte_ipv4_cksum and friends).
 *   csum_avx2    hand-written AVX2 intrinsics (only when built for AVX2).
 *   csum_avx512  hand-written AVX-512BW intrinsics (only when built for AVX-512BW).
 *
 * All three return what csum_ref returns: the complemented checksum of the native-order 16-bit words, so on a
 * little-endian machine the byte-swapped checksum (RFC 1071 §2(B)). The benchmark checks each against csum_ref on
 * random data at many lengths and offsets before timing. Built by the benchmark (DpdkReferenceBuild) with
 *     gcc -O3 $(pkg-config --cflags libdpdk) -march=native -shared -fPIC -o build/csum_tuned.so csum_tuned.c \
 *         $(pkg-config --libs libdpdk)
 *
 * The vector loops sum words without widening: each word w is biased to the signed w - 32768 (one xor with 0x8000)
 * and pmaddwd against ones adds adjacent pairs into 32-bit lanes; the bias, 32768 per word lane summed, is added
 * back at the end, so the result is the exact sum of the words. The accumulators are reduced into a 64-bit total
 * every BLOCK_BYTES, before their sum could leave the 32-bit range. Four accumulators over a four-vector unrolled loop keep the adds independent. With VNNI
 * (AVX512-VNNI, AVX-VNNI) vpdpwssd fuses the multiply-add and the accumulate.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <immintrin.h>
#include <rte_ip.h>

/* A biased pair sums to [-65536, 65534], so a block of 128 KiB (4,096 pairs of 32 bytes) sums to [-2^31, 2^31): the
 * 32-bit lanes and their reduction wrap, but the block's sum comes out exact. */
#define BLOCK_BYTES (128 * 1024)

/* Folds a 64-bit one's-complement sum to 16 bits; a nonzero sum never folds to 0, as in csum_ref. */
static inline uint16_t fold64(uint64_t sum)
{
    sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
    sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

/* Adds with end-around carry, as Linux's csum_partial does with adc. */
static inline uint64_t add_carry(uint64_t sum, uint64_t value)
{
    sum += value;
    return sum + (sum < value);
}

/* Native-order word sum of fewer than 32 bytes: 8-byte loads with end-around carry, then 4, 2 and 1 bytes. An odd
 * last byte is added as the low byte of a word, as csum_ref adds it. */
static inline uint64_t sum_tail(const uint8_t *p, size_t n, uint64_t sum)
{
    uint64_t v;
    while (n >= 8) {
        memcpy(&v, p, 8);
        sum = add_carry(sum, v);
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        sum = add_carry(sum, w);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum = add_carry(sum, w);
        p += 2;
        n -= 2;
    }
    if (n)
        sum = add_carry(sum, *p);
    return sum;
}

uint16_t csum_dpdk(const void *data, int count)
{
    return (uint16_t)~rte_raw_cksum(data, (size_t)count);
}

#ifdef __AVX2__
static inline __m256i madd_biased256(__m256i acc, __m256i v, __m256i bias, __m256i ones)
{
#ifdef __AVXVNNI__
    return _mm256_dpwssd_avx_epi32(acc, _mm256_xor_si256(v, bias), ones);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_xor_si256(v, bias), ones));
#endif
}

uint16_t csum_avx2(const void *data, int count)
{
    const uint8_t *p = data;
    size_t n = (size_t)count;
    const __m256i bias = _mm256_set1_epi16((short)0x8000);
    const __m256i ones = _mm256_set1_epi16(1);
    uint64_t total = 0;
    uint64_t words = 0;
    while (n >= 32) {
        size_t block = n < BLOCK_BYTES ? n : BLOCK_BYTES;
        size_t vectors = block / 32;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        size_t i = 0;
        for (; i + 4 <= vectors; i += 4) {
            const __m256i *q = (const __m256i *)(p + 32 * i);
            a0 = madd_biased256(a0, _mm256_loadu_si256(q), bias, ones);
            a1 = madd_biased256(a1, _mm256_loadu_si256(q + 1), bias, ones);
            a2 = madd_biased256(a2, _mm256_loadu_si256(q + 2), bias, ones);
            a3 = madd_biased256(a3, _mm256_loadu_si256(q + 3), bias, ones);
        }
        for (; i < vectors; i++)
            a0 = madd_biased256(a0, _mm256_loadu_si256((const __m256i *)(p + 32 * i)), bias, ones);
        __m256i a = _mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3));
        __m128i h = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
        total += (uint64_t)(int64_t)_mm_cvtsi128_si32(h);
        words += 16 * vectors;
        p += 32 * vectors;
        n -= 32 * vectors;
    }
    total += 32768 * words;
    return (uint16_t)~fold64(sum_tail(p, n, total));
}
#endif

#ifdef __AVX512BW__
static inline __m512i madd_biased512(__m512i acc, __m512i v, __m512i bias, __m512i ones)
{
#ifdef __AVX512VNNI__
    return _mm512_dpwssd_epi32(acc, _mm512_xor_si512(v, bias), ones);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_xor_si512(v, bias), ones));
#endif
}

uint16_t csum_avx512(const void *data, int count)
{
    const uint8_t *p = data;
    size_t n = (size_t)count;
    const __m512i bias = _mm512_set1_epi16((short)0x8000);
    const __m512i ones = _mm512_set1_epi16(1);
    uint64_t total = 0;
    uint64_t words = 0;
    /* The last, partial vector is a masked load: the bytes past the end read as zero, and a word lane of zeros adds
     * nothing once its bias is taken back, so it counts as a whole vector of words. */
    while (n > 0) {
        size_t block = n < BLOCK_BYTES ? n : BLOCK_BYTES;
        size_t vectors = block / 64;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        size_t i = 0;
        for (; i + 4 <= vectors; i += 4) {
            const uint8_t *q = p + 64 * i;
            a0 = madd_biased512(a0, _mm512_loadu_si512(q), bias, ones);
            a1 = madd_biased512(a1, _mm512_loadu_si512(q + 64), bias, ones);
            a2 = madd_biased512(a2, _mm512_loadu_si512(q + 128), bias, ones);
            a3 = madd_biased512(a3, _mm512_loadu_si512(q + 192), bias, ones);
        }
        for (; i < vectors; i++)
            a0 = madd_biased512(a0, _mm512_loadu_si512(p + 64 * i), bias, ones);
        size_t rest = block - 64 * vectors;
        if (rest) {
            __m512i last = _mm512_maskz_loadu_epi8((__mmask64)((1ULL << rest) - 1), p + 64 * vectors);
            a1 = madd_biased512(a1, last, bias, ones);
            vectors++;
        }
        __m512i a = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
        total += (uint64_t)(int64_t)_mm512_reduce_add_epi32(a);
        words += 32 * vectors;
        p += block;
        n -= block;
    }
    total += 32768 * words;
    return (uint16_t)~fold64(total);
}
#endif
