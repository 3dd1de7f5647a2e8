/* The Philox4x32-10 block function (Salmon et al. 2011), shared by the C
 * engine (rng.c) and the CUDA kernels, so both backends draw the same
 * numbers from the same counters. Plain C99 / C++ with <stdint.h> only:
 * nvcc compiles it for the host and the device. */
#pragma once

#include <stdint.h>

#if defined(__CUDACC__)
#define SC_PHILOX_FN static inline __host__ __device__
#else
#define SC_PHILOX_FN static inline
#endif

/* Constants of Philox4x32 from the paper. */
#define SC_PHILOX_M0 0xD2511F53u
#define SC_PHILOX_M1 0xCD9E8D57u
#define SC_PHILOX_W0 0x9E3779B9u
#define SC_PHILOX_W1 0xBB67AE85u

/* out = Philox4x32-10(ctr, key). */
SC_PHILOX_FN void
sc_philox4x32_block(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)SC_PHILOX_M0 * c0;
    uint64_t p1 = (uint64_t)SC_PHILOX_M1 * c2;
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += SC_PHILOX_W0;
    k1 += SC_PHILOX_W1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/* The counter of block `block` of stream (purpose, epoch, step, index), the
 * layout rng.h describes, and the key of a 64-bit seed. */
SC_PHILOX_FN void
sc_philox_stream(uint64_t seed, uint32_t purpose, uint32_t epoch, uint32_t step,
                 uint32_t index, uint32_t block, uint32_t ctr[4], uint32_t key[2])
{
  key[0] = (uint32_t)seed;
  key[1] = (uint32_t)(seed >> 32);
  ctr[0] = block;
  ctr[1] = index;
  ctr[2] = step;
  ctr[3] = (purpose << 24) | (epoch & 0xFFFFFFu);
}

/* 32 random bits to [0, 1) with 24 of them, exact in float32. */
SC_PHILOX_FN float
sc_philox_unit(uint32_t bits)
{
  return (float)(bits >> 8) * (1.0f / 16777216.0f);
}
