/* The counter-based generator: known answers and distribution properties. */
#include "rng.h"

#include <math.h>

/* Known-answer vectors of Philox4x32-10 published with Random123. */
static void
test_philox_known_answers(void)
{
  static const struct {
    uint32_t ctr[4], key[2], out[4];
  } kat[] = {
    { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
    { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff },
      { 0xffffffff, 0xffffffff },
      { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
    { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 },
      { 0xa4093822, 0x299f31d0 },
      { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(kat); i++) {
    uint32_t out[4];
    sc_philox4x32(kat[i].ctr, kat[i].key, out);
    for (int j = 0; j < 4; j++)
      g_assert_cmphex(out[j], ==, kat[i].out[j]);
  }
}

static void
test_streams_replay_and_differ(void)
{
  ScRng a, b, c;
  sc_rng_init(&a, 42, SC_RNG_TEST, 3, 7, 11);
  sc_rng_init(&b, 42, SC_RNG_TEST, 3, 7, 11);
  sc_rng_init(&c, 42, SC_RNG_TEST, 3, 7, 12);
  int same_as_c = 0;
  for (int i = 0; i < 100; i++) {
    uint32_t x = sc_rng_u32(&a);
    g_assert_cmphex(x, ==, sc_rng_u32(&b));
    same_as_c += x == sc_rng_u32(&c);
  }
  g_assert_cmpint(same_as_c, <, 3);
}

static void
test_uniform_moments(void)
{
  ScRng rng;
  sc_rng_init(&rng, 7, SC_RNG_TEST, 0, 0, 0);
  const int n = 200000;
  double sum = 0, sum2 = 0;
  float lo = 1, hi = 0;
  for (int i = 0; i < n; i++) {
    float u = sc_rng_uniform(&rng);
    g_assert_cmpfloat(u, >=, 0.0f);
    g_assert_cmpfloat(u, <, 1.0f);
    lo = MIN(lo, u);
    hi = MAX(hi, u);
    sum += u;
    sum2 += (double)u * u;
  }
  double mean = sum / n, var = sum2 / n - mean * mean;
  /* Standard error of the mean is 0.29 / sqrt(n) = 6.5e-4. */
  g_assert_cmpfloat(fabs(mean - 0.5), <, 0.004);
  g_assert_cmpfloat(fabs(var - 1.0 / 12.0), <, 0.002);
  g_assert_cmpfloat(lo, <, 0.001f);
  g_assert_cmpfloat(hi, >, 0.999f);
}

static void
test_permutation(void)
{
  ScRng rng;
  sc_rng_init(&rng, 1, SC_RNG_SHUFFLE, 0, 0, 0);
  int32_t perm[1000];
  sc_rng_permutation(&rng, perm, G_N_ELEMENTS(perm));
  gboolean seen[1000] = { 0 };
  int fixed = 0;
  for (int i = 0; i < 1000; i++) {
    g_assert_cmpint(perm[i], >=, 0);
    g_assert_cmpint(perm[i], <, 1000);
    g_assert_false(seen[perm[i]]);
    seen[perm[i]] = TRUE;
    fixed += perm[i] == i;
  }
  /* A random permutation has about one fixed point. */
  g_assert_cmpint(fixed, <, 10);
}

static void
test_below_is_unbiased(void)
{
  ScRng rng;
  sc_rng_init(&rng, 3, SC_RNG_TEST, 0, 0, 0);
  int counts[3] = { 0 };
  for (int i = 0; i < 30000; i++)
    counts[sc_rng_below(&rng, 3)]++;
  for (int i = 0; i < 3; i++)
    g_assert_cmpint(abs(counts[i] - 10000), <, 400);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rng/philox-known-answers", test_philox_known_answers);
  g_test_add_func("/rng/streams-replay-and-differ", test_streams_replay_and_differ);
  g_test_add_func("/rng/uniform-moments", test_uniform_moments);
  g_test_add_func("/rng/permutation", test_permutation);
  g_test_add_func("/rng/below-is-unbiased", test_below_is_unbiased);
  return g_test_run();
}
