// The shared Philox header as nvcc compiles it for the host against the
// engine's generator (rng.c, built by the C compiler): the same counters,
// keys and conversions must give the same bits on both sides, which is
// what lets the CUDA augmenter draw the CPU's numbers. Runs without a GPU.
#include "rng.h"
#include "src/engine/philox.h"

// The uniforms of stream (seed, purpose, epoch, step, index) from the header
// alone, block by block, as the kernels draw them.
static void
header_uniforms(uint64_t seed, uint32_t purpose, uint32_t epoch, uint32_t step,
                uint32_t index, int n, float *out)
{
  for (int i = 0; i < n; i++) {
    uint32_t ctr[4], key[2], bits[4];
    sc_philox_stream(seed, purpose, epoch, step, index, (uint32_t)(i / 4), ctr, key);
    sc_philox4x32_block(ctr, key, bits);
    out[i] = sc_philox_unit(bits[i % 4]);
  }
}

static void
test_streams_match_rng(void)
{
  const uint64_t seeds[] = { 0, 1, 42, 0x123456789ABCDEFull, ~0ull };
  const uint32_t purposes[] = { SC_RNG_INIT, SC_RNG_AUG_WEAK, SC_RNG_AUG_VIEW2, SC_RNG_TEST };
  float got[67];
  for (size_t s = 0; s < G_N_ELEMENTS(seeds); s++)
    for (size_t p = 0; p < G_N_ELEMENTS(purposes); p++) {
      // An epoch past 24 bits wraps in both (the counter keeps 24 bits).
      uint32_t epoch = (uint32_t)(s * 7 + (p == 3 ? 0x1000005u : 0u));
      uint32_t step = (uint32_t)(p * 1000 + 3), index = (uint32_t)(s * 131 + p);
      header_uniforms(seeds[s], purposes[p], epoch, step, index, G_N_ELEMENTS(got), got);
      ScRng rng;
      sc_rng_init(&rng, seeds[s], (ScRngPurpose)purposes[p], epoch, step, index);
      for (size_t i = 0; i < G_N_ELEMENTS(got); i++)
        g_assert_cmpfloat(got[i], ==, sc_rng_uniform(&rng));
    }
}

// Published Random123 answer for the all-ones counter and key.
static void
test_known_answer(void)
{
  const uint32_t ctr[4] = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };
  const uint32_t key[2] = { 0xffffffffu, 0xffffffffu };
  const uint32_t want[4] = { 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu };
  uint32_t out[4], out_c[4];
  sc_philox4x32_block(ctr, key, out);
  sc_philox4x32(ctr, key, out_c);
  for (int j = 0; j < 4; j++) {
    g_assert_cmphex(out[j], ==, want[j]);
    g_assert_cmphex(out_c[j], ==, want[j]);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/philox-nvcc/streams-match-rng", test_streams_match_rng);
  g_test_add_func("/philox-nvcc/known-answer", test_known_answer);
  return g_test_run();
}
