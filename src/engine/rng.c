#include "rng.h"

/* Constants of Philox4x32 from the paper. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline void
philox_round(uint32_t c[4], const uint32_t k[2])
{
  uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
  uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
  uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
  uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
  uint32_t n0 = hi1 ^ c[1] ^ k[0];
  uint32_t n2 = hi0 ^ c[3] ^ k[1];
  c[0] = n0;
  c[1] = lo1;
  c[2] = n2;
  c[3] = lo0;
}

void
sc_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
  uint32_t c[4] = { ctr[0], ctr[1], ctr[2], ctr[3] };
  uint32_t k[2] = { key[0], key[1] };
  for (int r = 0; r < 10; r++) {
    philox_round(c, k);
    k[0] += PHILOX_W0;
    k[1] += PHILOX_W1;
  }
  out[0] = c[0];
  out[1] = c[1];
  out[2] = c[2];
  out[3] = c[3];
}

void
sc_rng_init(ScRng *rng, uint64_t seed, ScRngPurpose purpose,
            uint32_t epoch, uint32_t step, uint32_t index)
{
  rng->key[0] = (uint32_t)seed;
  rng->key[1] = (uint32_t)(seed >> 32);
  rng->ctr[0] = 0;
  rng->ctr[1] = index;
  rng->ctr[2] = step;
  rng->ctr[3] = ((uint32_t)purpose << 24) | (epoch & 0xFFFFFFu);
  rng->used = 4;
}

uint32_t
sc_rng_u32(ScRng *rng)
{
  if (rng->used == 4) {
    sc_philox4x32(rng->ctr, rng->key, rng->block);
    rng->ctr[0]++;
    rng->used = 0;
  }
  return rng->block[rng->used++];
}

float
sc_rng_uniform(ScRng *rng)
{
  return sc_rng_u32_to_unit(sc_rng_u32(rng));
}

float
sc_rng_range(ScRng *rng, float lo, float hi)
{
  return lo + (hi - lo) * sc_rng_uniform(rng);
}

uint32_t
sc_rng_below(ScRng *rng, uint32_t n)
{
  g_return_val_if_fail(n > 0, 0);
  /* Rejection keeps every value equally likely. */
  uint32_t limit = UINT32_MAX - UINT32_MAX % n;
  uint32_t x;
  do
    x = sc_rng_u32(rng);
  while (x >= limit);
  return x % n;
}

void
sc_rng_permutation(ScRng *rng, int32_t *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = (int32_t)i;
  for (size_t i = n; i > 1; i--) {
    size_t j = sc_rng_below(rng, (uint32_t)i);
    int32_t t = out[i - 1];
    out[i - 1] = out[j];
    out[j] = t;
  }
}
