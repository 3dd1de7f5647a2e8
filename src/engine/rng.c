#include "rng.h"

/* The block function lives in philox.h, shared with the CUDA kernels. */
void
sc_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
  sc_philox4x32_block(ctr, key, out);
}

void
sc_rng_init(ScRng *rng, uint64_t seed, ScRngPurpose purpose,
            uint32_t epoch, uint32_t step, uint32_t index)
{
  sc_philox_stream(seed, (uint32_t)purpose, epoch, step, index, 0, rng->ctr, rng->key);
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
