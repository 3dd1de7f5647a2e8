// The CUDA backend's shared host/device code as nvcc compiles it for the
// host, against the engine's C code; runs without a GPU.
//   philox: the shared generator header against rng.c: the same counters,
//     keys and conversions must give the same bits on both sides.
//   augment: the augmenter kernels' per-pixel functions (augment-pixel.h),
//     run raster by raster on the host as the kernels run them on the
//     device, against sc_augment_batch_cpu: equal bit for bit. The device
//     build differs only in its round-to-nearest intrinsics.
#include "augment.h"
#include "cuda/augment-pixel.h"
#include "rng.h"
#include "src/engine/philox.h"

#include <math.h>
#include <string.h>

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

// sc_cuda_augment's kernels, one loop per kernel.
static void
host_augment(const ScCudaAugmentArgs *a, const uint8_t *images, float *out)
{
  const int H = a->out_h, W = a->out_w, C = a->src_c;
  const size_t px = (size_t)H * W;
  if (!a->training) {
    for (size_t img = 0; img < (size_t)a->batch; img++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
          float v[3];
          sc_aug_base_pixel(a, images, false, img, y, x, v);
          for (int k = 0; k < 3; k++)
            out[(img * px + (size_t)y * W + x) * 3 + k] = v[C == 3 ? k : 0];
        }
    return;
  }
  const float zf = 1.0f - sqrtf(a->min_area);
  const float hf = 0.5f * zf;
  ScAugParams *params = g_new(ScAugParams, a->batch);
  float *base = g_new(float, a->batch * px * C), *warp = g_new(float, a->batch * px * C);
  for (int i = 0; i < a->batch; i++)
    sc_aug_draw(a, zf, hf, (uint32_t)i, &params[i]);
  for (size_t img = 0; img < (size_t)a->batch; img++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        sc_aug_base_pixel(a, images, params[img].flip != 0.0f, img, y, x,
                          base + (img * px + (size_t)y * W + x) * C);
  for (size_t img = 0; img < (size_t)a->batch; img++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        sc_aug_translate_pixel(a, &params[img], base + img * px * C, y, x,
                               warp + (img * px + (size_t)y * W + x) * C);
  for (size_t img = 0; img < (size_t)a->batch; img++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        sc_aug_zoom_colour_pixel(a, &params[img], warp + img * px * C, y, x,
                                 out + (img * px + (size_t)y * W + x) * 3);
  g_free(params);
  g_free(base);
  g_free(warp);
}

static void
check_augment(int batch, int src_h, int src_w, int src_c, int out_side, bool training,
              ScAugmentStrength strength, uint32_t seed)
{
  size_t n_src = (size_t)batch * src_h * src_w * src_c;
  size_t n_out = (size_t)batch * out_side * out_side * 3;
  uint8_t *images = (uint8_t *)g_malloc(n_src);
  ScRng rng;
  sc_rng_init(&rng, seed, SC_RNG_TEST, 0, 0, 0);
  for (size_t i = 0; i < n_src; i++)
    images[i] = (uint8_t)sc_rng_below(&rng, 256);
  float *want = g_new(float, n_out), *got = g_new(float, n_out);

  ScAugmentBatch b = {};
  b.images = images;
  b.batch = batch;
  b.src_h = src_h;
  b.src_w = src_w;
  b.src_c = src_c;
  b.out_h = b.out_w = out_side;
  b.training = training;
  b.strength = strength;
  b.seed = seed;
  b.purpose = SC_RNG_AUG_VIEW2;
  b.epoch = 4;
  b.step = 11;
  sc_augment_batch_cpu(&b, want);

  ScCudaAugmentArgs a = {};
  a.batch = batch;
  a.src_h = src_h;
  a.src_w = src_w;
  a.src_c = src_c;
  a.out_h = a.out_w = out_side;
  a.training = training;
  a.min_area = strength.min_area;
  a.brightness = strength.brightness;
  a.jitter = strength.jitter;
  a.seed = seed;
  a.purpose = b.purpose;
  a.epoch = b.epoch;
  a.step = b.step;
  host_augment(&a, images, got);

  for (size_t i = 0; i < n_out; i++)
    if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
      g_error("augment %dx%dx%d -> %d (%s): value %zu (image %zu) is %.9g, the CPU's %.9g",
              src_h, src_w, src_c, out_side, training ? "training" : "inference", i,
              i / ((size_t)out_side * out_side * 3), got[i], want[i]);
  g_free(images);
  g_free(want);
  g_free(got);
}

static void
test_augment_matches_cpu(void)
{
  // The reference's presets, a stronger one that moves far into the
  // reflected border, grey images resized up, and inference.
  const ScAugmentStrength wild = { 0.05f, 0.9f, 0.5f };
  check_augment(24, 96, 96, 3, 96, true, SC_AUGMENT_STRONG, 1);
  check_augment(24, 96, 96, 3, 96, true, SC_AUGMENT_WEAK, 2);
  check_augment(24, 32, 32, 3, 32, true, wild, 3);
  check_augment(16, 28, 28, 1, 96, true, SC_AUGMENT_STRONG, 4);
  check_augment(16, 32, 32, 3, 48, true, SC_AUGMENT_STRONG, 5);
  check_augment(8, 28, 28, 1, 96, false, SC_AUGMENT_WEAK, 6);
  check_augment(8, 96, 96, 3, 96, false, SC_AUGMENT_WEAK, 7);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cuda-host/philox/streams-match-rng", test_streams_match_rng);
  g_test_add_func("/cuda-host/philox/known-answer", test_known_answer);
  g_test_add_func("/cuda-host/augment-matches-cpu", test_augment_matches_cpu);
  return g_test_run();
}
