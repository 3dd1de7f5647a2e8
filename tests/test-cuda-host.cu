// The CUDA backend's shared host/device code as nvcc compiles it for the
// host, against the engine's C code; runs without a GPU.
//   philox: the shared generator header against rng.c: the same counters,
//     keys and conversions must give the same bits on both sides.
//   gemm: the row-major to cuBLAS mapping (cuda-gemm.h), run through a
//     column-major product written from cuBLAS's definition, against a
//     row-major one, for all four transposes with padded leading dimensions.
//   elements: the elementwise kernels' per-thread functions
//     (kernel-elements.h) over every index: weight layouts and padding
//     against their definitions, Adam and the NT-Xent gradient steps
//     against the CPU backend's arithmetic, bit for bit.
//   augment: the augmenter kernels' per-pixel functions (augment-pixel.h),
//     run raster by raster on the host as the kernels run them on the
//     device, against sc_augment_batch_cpu: equal bit for bit. The device
//     build differs only in its round-to-nearest intrinsics.
#include "augment.h"
#include "backend.h"
#include "cuda/augment-pixel.h"
#include "cuda/cuda-gemm.h"
#include "cuda/kernel-elements.h"
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

// cuBLAS's sgemm by its definition: column-major, element (i, j) of X at
// x[i + j * ldx]; C (m, n) = alpha op(A) op(B) + beta C.
static void
colmajor_sgemm(cublasOperation_t op_a, cublasOperation_t op_b, int m, int n, int k,
               float alpha, const float *a, int lda, const float *b, int ldb, float beta,
               float *c, int ldc)
{
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      double sum = 0.0;
      for (int p = 0; p < k; p++) {
        double x = op_a == CUBLAS_OP_N ? a[i + (size_t)p * lda] : a[p + (size_t)i * lda];
        double y = op_b == CUBLAS_OP_N ? b[p + (size_t)j * ldb] : b[j + (size_t)p * ldb];
        sum += x * y;
      }
      float *cij = &c[i + (size_t)j * ldc];
      *cij = (float)(alpha * sum + (beta != 0.0f ? beta * (double)*cij : 0.0));
    }
}

static void
test_gemm_mapping(void)
{
  ScRng rng;
  sc_rng_init(&rng, 3, SC_RNG_TEST, 0, 0, 0);
  const int sizes[][3] = { { 5, 7, 9 }, { 1, 4, 3 }, { 8, 1, 6 }, { 13, 11, 1 } };
  for (int t = 0; t < 4; t++)
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
      bool ta = t & 1, tb = t & 2;
      int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
      // Row-major storage: A is (m, k) or (k, m); B (k, n) or (n, k).
      int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
      int lda = a_cols + 2, ldb = b_cols + 3, ldc = n + 1;
      float *a = g_new(float, a_rows * lda), *b = g_new(float, b_rows * ldb);
      float *c = g_new(float, m * ldc), *want = g_new(float, m * ldc);
      for (int i = 0; i < a_rows * lda; i++)
        a[i] = sc_rng_range(&rng, -1, 1);
      for (int i = 0; i < b_rows * ldb; i++)
        b[i] = sc_rng_range(&rng, -1, 1);
      for (int i = 0; i < m * ldc; i++)
        c[i] = want[i] = sc_rng_range(&rng, -1, 1);
      const float alpha = 0.5f, beta = -2.0f;
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
          double sum = 0.0;
          for (int p = 0; p < k; p++)
            sum += (double)(ta ? a[p * lda + i] : a[i * lda + p])
                   * (tb ? b[j * ldb + p] : b[p * ldb + j]);
          want[i * ldc + j] = (float)(alpha * sum + beta * (double)want[i * ldc + j]);
        }
      ScCublasGemm g = sc_cublas_gemm_rowmajor(ta, tb, m, n, k, a, lda, b, ldb);
      colmajor_sgemm(g.op_a, g.op_b, g.m, g.n, g.k, alpha, g.a, g.lda, g.b, g.ldb, beta, c,
                     ldc);
      for (int i = 0; i < m * ldc; i++)
        if (fabsf(c[i] - want[i]) > 1e-5f)
          g_error("gemm %c%c %dx%dx%d: element %d is %g, expected %g", ta ? 'T' : 'N',
                  tb ? 'T' : 'N', m, n, k, i, c[i], want[i]);
      g_free(a);
      g_free(b);
      g_free(c);
      g_free(want);
    }
}

static void
fill(ScRng *rng, float *p, size_t n, float lo, float hi)
{
  for (size_t i = 0; i < n; i++)
    p[i] = sc_rng_range(rng, lo, hi);
}

static void
test_weight_layouts(void)
{
  const int kh = 3, kw = 2, ci = 4, co = 5;
  const size_t n = (size_t)kh * kw * ci * co;
  float hwio[3 * 2 * 4 * 5], ohwi[3 * 2 * 4 * 5], back[3 * 2 * 4 * 5];
  for (size_t j = 0; j < n; j++) {
    hwio[j] = (float)j;
    ohwi[j] = -1.0f;
  }
  for (size_t j = 0; j < n; j++) // the kernel's two directions
    ohwi[sc_k_ohwi_index(j, kh, kw, ci, co)] = hwio[j];
  for (size_t j = 0; j < n; j++)
    back[j] = ohwi[sc_k_ohwi_index(j, kh, kw, ci, co)];
  for (int o = 0; o < co; o++)
    for (int y = 0; y < kh; y++)
      for (int x = 0; x < kw; x++)
        for (int i = 0; i < ci; i++)
          g_assert_cmpfloat(ohwi[((o * kh + y) * kw + x) * ci + i], ==,
                            hwio[((y * kw + x) * ci + i) * co + o]);
  g_assert_cmpmem(back, sizeof(back), hwio, sizeof(hwio));
}

static void
test_padding(void)
{
  const int n = 2, h = 3, w = 4, c = 2, top = 0, bottom = 1, left = 1, right = 2;
  const int ph = h + top + bottom, pw = w + left + right;
  float src[2 * 3 * 4 * 2], padded[2 * 4 * 7 * 2], back[2 * 3 * 4 * 2];
  for (size_t j = 0; j < G_N_ELEMENTS(src); j++)
    src[j] = (float)j + 1.0f;
  for (size_t p = 0; p < G_N_ELEMENTS(padded); p++) { // pad
    size_t inner = 0;
    padded[p] = sc_k_pad_source(p, h, w, c, top, left, ph, pw, &inner) ? src[inner] : 0.0f;
  }
  for (size_t p = 0; p < G_N_ELEMENTS(padded); p++) { // crop
    size_t inner = 0;
    if (sc_k_pad_source(p, h, w, c, top, left, ph, pw, &inner))
      back[inner] = padded[p];
  }
  for (int i = 0; i < n; i++)
    for (int y = 0; y < ph; y++)
      for (int x = 0; x < pw; x++)
        for (int ch = 0; ch < c; ch++) {
          int sy = y - top, sx = x - left;
          bool in = sy >= 0 && sy < h && sx >= 0 && sx < w;
          float want = in ? src[((i * h + sy) * w + sx) * c + ch] : 0.0f;
          g_assert_cmpfloat(padded[((i * ph + y) * pw + x) * c + ch], ==, want);
        }
  g_assert_cmpmem(back, sizeof(back), src, sizeof(src));
}

static void
test_adam_element(void)
{
  GError *error = NULL;
  ScBackend *cpu = sc_backend_cpu_new(1, &error);
  g_assert_no_error(error);
  const size_t n = 4099;
  float *p = g_new(float, n), *g = g_new(float, n), *m = g_new0(float, n);
  float *v = g_new0(float, n), *p2 = g_new(float, n), *m2 = g_new0(float, n);
  float *v2 = g_new0(float, n);
  ScRng rng;
  sc_rng_init(&rng, 8, SC_RNG_TEST, 0, 0, 0);
  fill(&rng, p, n, -1, 1);
  memcpy(p2, p, n * sizeof(float));
  for (int step = 1; step <= 3; step++) {
    fill(&rng, g, n, -1e-3f, 1e-3f);
    float lr_t = 1e-3f * sqrtf(1.0f - powf(0.999f, step)) / (1.0f - powf(0.9f, step));
    cpu->ops->adam_update(cpu, n, p, g, m, v, lr_t, 0.9f, 0.999f, 1e-7f);
    for (size_t i = 0; i < n; i++) // the kernel passes 1 - beta as computed on the host
      sc_k_adam(i, p2, g, m2, v2, lr_t, 1.0f - 0.9f, 1.0f - 0.999f, 1e-7f);
  }
  g_assert_cmpmem(p2, n * sizeof(float), p, n * sizeof(float));
  g_assert_cmpmem(m2, n * sizeof(float), m, n * sizeof(float));
  g_assert_cmpmem(v2, n * sizeof(float), v, n * sizeof(float));
  g_free(p);
  g_free(g);
  g_free(m);
  g_free(v);
  g_free(p2);
  g_free(m2);
  g_free(v2);
  sc_backend_free(cpu);
}

// The NT-Xent gradient steps against cpu-loss.c's loops, written out here.
/* float -> bf16 is the nearest bf16 (ties to an even last bit), checked
 * against the two bf16 values around each float in double; NaN stays NaN,
 * infinities stay, the largest floats round to infinity as IEEE says. */
static void
test_bf16_element(void)
{
  GRand *rand = g_rand_new_with_seed(16);
  for (int i = 0; i < 200000; i++) {
    uint32_t bits = g_rand_int(rand);
    float f;
    memcpy(&f, &bits, sizeof f);
    if (isnan(f)) {
      g_assert_true(isnan(sc_k_bf16_to_float(sc_k_float_to_bf16(f))));
      continue;
    }
    uint16_t lo = (uint16_t)(bits >> 16), hi = (uint16_t)(lo + 1);
    float got = sc_k_bf16_to_float(sc_k_float_to_bf16(f));
    /* hi past the largest finite bf16 is infinity: IEEE rounds as if it
     * were 2^128, the next value of the exponent range. */
    double hi_value = (hi & 0x7fffu) == 0x7f80u ? copysign(ldexp(1.0, 128), (double)f)
                                                : (double)sc_k_bf16_to_float(hi);
    double dl = fabs((double)f - sc_k_bf16_to_float(lo));
    double dh = fabs((double)f - hi_value);
    float want = (dl < dh || (dl == dh && (lo & 1) == 0)) ? sc_k_bf16_to_float(lo)
                                                          : sc_k_bf16_to_float(hi);
    if ((bits & 0xffffu) == 0)
      want = f; /* exactly a bf16 already */
    g_assert_cmpfloat(got, ==, want);
  }
  g_assert_true(isinf(sc_k_bf16_to_float(sc_k_float_to_bf16(INFINITY))));
  g_assert_cmpfloat(sc_k_bf16_to_float(sc_k_float_to_bf16(1.0f + 1.0f / 256)), ==, 1.0f);
  g_assert_cmpfloat(sc_k_bf16_to_float(sc_k_float_to_bf16(1.0f + 3.0f / 256)), ==,
                    1.0f + 4.0f / 256);
  g_rand_free(rand);
}

static void
test_ntxent_grad_elements(void)
{
  ScRng rng;
  sc_rng_init(&rng, 9, SC_RNG_TEST, 0, 0, 0);
  // Full variant: S (v, v) softmax rows with 0 on the diagonal.
  const int b = 5, v = 2 * b;
  float s[10 * 10], want[10 * 10];
  fill(&rng, s, G_N_ELEMENTS(s), 0, 0.2f);
  for (int r = 0; r < v; r++)
    s[r * v + r] = 0.0f;
  memcpy(want, s, sizeof(s));
  for (int r = 0; r < v; r++)
    want[r * v + (r + b) % v] -= 1.0f;
  for (int r = 0; r < v; r++)
    for (int k = r; k < v; k++) {
      float h = 0.5f * (want[r * v + k] + want[k * v + r]);
      want[r * v + k] = h;
      want[k * v + r] = h;
    }
  for (size_t idx = 0; idx < G_N_ELEMENTS(s); idx++)
    sc_k_ntxent_full_grad(idx, b, s);
  g_assert_cmpmem(s, sizeof(s), want, sizeof(want));

  // Cross-view: G = (P + Q^T) / 2 - I with Q the softmax of S^T's rows.
  const int c = 6;
  float pm[6 * 6], q[6 * 6], want2[6 * 6];
  fill(&rng, pm, G_N_ELEMENTS(pm), 0, 0.3f);
  fill(&rng, q, G_N_ELEMENTS(q), 0, 0.3f);
  for (int i = 0; i < c; i++)
    for (int k = 0; k < c; k++)
      want2[i * c + k] = 0.5f * (pm[i * c + k] + q[k * c + i]) - (i == k ? 1.0f : 0.0f);
  for (size_t idx = 0; idx < G_N_ELEMENTS(pm); idx++)
    sc_k_ntxent_cross_grad(idx, c, pm, q);
  g_assert_cmpmem(pm, sizeof(pm), want2, sizeof(want2));
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
  g_test_add_func("/cuda-host/gemm-mapping", test_gemm_mapping);
  g_test_add_func("/cuda-host/elements/weight-layouts", test_weight_layouts);
  g_test_add_func("/cuda-host/elements/padding", test_padding);
  g_test_add_func("/cuda-host/elements/adam", test_adam_element);
  g_test_add_func("/cuda-host/elements/bf16", test_bf16_element);
  g_test_add_func("/cuda-host/elements/ntxent-gradients", test_ntxent_grad_elements);
  return g_test_run();
}
