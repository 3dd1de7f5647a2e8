/* The CUDA backend against the CPU backend, operation by operation, on the
 * same random inputs. Without a usable GPU the program says why and skips
 * (TAP plan "1..0 # SKIP").
 *
 * Tolerances (|cuda - cpu| <= abs + rel * |cpu|; "scale" is max |cpu|):
 *   memory, relu, bias_add, philox uniforms: exact
 *   adam: rel 1e-6 (the same float operations, each rounded; expected exact)
 *   augment: abs 1e-6 (the same float operations; expected exact)
 *   bias_grad: abs 1e-6 * scale (both sum in double)
 *   gemm (inputs in [-1, 1]), float32: abs 1e-5 * sqrt(k); TF32: abs
 *     2.9e-3 * sqrt(k); bf16: abs 2.3e-2 * sqrt(k) (all times
 *     max(|alpha|, 1), plus 1e-6 * scale)
 *   conv, float32: abs 1e-4 * scale (cuDNN's Winograd / FFT algorithms
 *     round differently); TF32: abs 4.9e-3 * scale; bf16: abs 3.9e-2 *
 *     scale (inputs and outputs rounded to 8 significant bits)
 *   softmax_xent: abs 1e-6, rel 1e-5; NT-Xent: abs 1e-5, rel 1e-4 (float
 *     logits from products summed in another order, times 1 / T)
 *   contrastive and supervised step, float32: loss rel 1e-4, gradients
 *     abs 1e-3 * scale, parameters after Adam abs 1e-5
 *   tiny run (three runs of 2 epochs through the trainer, float32): losses
 *     abs 1e-4 + rel 1e-3, accuracies within one sample of 8 */
#include "config.h"

#include "augment.h"
#include "backend.h"
#include "cuda/cuda-kernels.h"
#include "cuda/sc-cuda.h"
#include "adam.h"
#include "loss.h"
#include "model.h"
#include "rng.h"
#include "sc-error.h"
#include "test-data-fixtures.h"
#include "test-util.h"
#include "trainer.h"

#include <math.h>
#include <string.h>

static ScBackend *cpu;
static ScBackend *gpu;

/* ---- Helpers ---- */

static void
fill_uniform(GRand *rand, float *p, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (float)g_rand_double_range(rand, lo, hi);
}

/* A device copy of host floats. */
static float *
to_gpu(const float *host, size_t n)
{
  float *d = gpu->ops->alloc(gpu, MAX(n, 1) * sizeof(float));
  g_assert_nonnull(d);
  gpu->ops->upload(gpu, d, host, n * sizeof(float));
  return d;
}

/* A host copy of device floats (after checking the stream reported no error). */
static float *
from_gpu(const float *dev, size_t n)
{
  float *h = g_new(float, MAX(n, 1));
  gpu->ops->download(gpu, h, dev, n * sizeof(float));
  g_autoptr(GError) error = NULL;
  g_assert_true(gpu->ops->sync(gpu, &error));
  g_assert_no_error(error);
  return h;
}

static double
max_abs(const float *p, size_t n)
{
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = MAX(m, fabs((double)p[i]));
  return m;
}

/* got (device) against want (CPU floats). */
static void
assert_close_gpu(const char *what, const float *got_dev, const float *want, size_t n,
                 double abs_tol, double rel_tol)
{
  g_autofree float *got = from_gpu(got_dev, n);
  g_autofree double *w = g_new(double, MAX(n, 1));
  for (size_t i = 0; i < n; i++)
    w[i] = want[i];
  sc_test_assert_close_f(what, got, w, n, abs_tol, rel_tol);
}

/* ---- Memory and elementwise ---- */

static void
test_memory(void)
{
  const size_t sizes[] = { 1, 3, 1000, 1 << 20 };
  for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
    size_t n = sizes[s];
    g_autofree uint8_t *host = g_malloc(n), *back = g_malloc(n);
    for (size_t i = 0; i < n; i++)
      host[i] = (uint8_t)(i * 13 + s);
    uint8_t *a = gpu->ops->alloc(gpu, n), *b = gpu->ops->alloc(gpu, n);
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    gpu->ops->upload(gpu, a, host, n);
    gpu->ops->copy(gpu, b, a, n);
    gpu->ops->download(gpu, back, b, n);
    g_assert_cmpmem(back, n, host, n);
    gpu->ops->zero(gpu, b, n);
    gpu->ops->download(gpu, back, b, n);
    for (size_t i = 0; i < n; i++)
      g_assert_cmpuint(back[i], ==, 0);
    gpu->ops->free(gpu, a);
    gpu->ops->free(gpu, b);
  }
  g_assert_true(gpu->ops->sync(gpu, NULL));
  /* An impossible allocation fails cleanly and leaves the device usable. */
  g_autoptr(GError) error = NULL;
  g_assert_null(sc_backend_alloc(gpu, (size_t)1 << 50, "a test buffer", &error));
  g_assert_error(error, SC_BACKEND_ERROR, SC_ERROR_OUT_OF_MEMORY);
  g_assert_true(gpu->ops->sync(gpu, NULL));
}

/* Rows gathered on the device equal the CPU's, for row sizes that take
 * each copy width (16, 4 and 1 bytes) and indices that repeat. */
static void
test_gather_rows(void)
{
  GRand *rand = g_rand_new_with_seed(5);
  const size_t row_sizes[] = { 1, 3, 17, 784, 3072, 27648 };
  const size_t count = 37, n = 53;
  for (size_t s = 0; s < G_N_ELEMENTS(row_sizes); s++) {
    size_t row = row_sizes[s];
    g_autofree uint8_t *rows = g_malloc(count * row), *got = g_malloc(n * row);
    g_autofree uint8_t *want = g_malloc(n * row);
    g_autofree int32_t *indices = g_new(int32_t, n);
    for (size_t i = 0; i < count * row; i++)
      rows[i] = (uint8_t)g_rand_int(rand);
    for (size_t i = 0; i < n; i++)
      indices[i] = (int32_t)g_rand_int_range(rand, 0, (gint32)count);
    indices[n - 1] = (int32_t)count - 1;
    cpu->ops->gather_rows(cpu, rows, row, indices, n, want);
    uint8_t *rows_d = gpu->ops->alloc(gpu, count * row), *out_d = gpu->ops->alloc(gpu, n * row);
    int32_t *indices_d = gpu->ops->alloc(gpu, n * sizeof(int32_t));
    gpu->ops->upload(gpu, rows_d, rows, count * row);
    gpu->ops->upload(gpu, indices_d, indices, n * sizeof(int32_t));
    gpu->ops->gather_rows(gpu, rows_d, row, indices_d, n, out_d);
    gpu->ops->download(gpu, got, out_d, n * row);
    g_autoptr(GError) error = NULL;
    g_assert_true(gpu->ops->sync(gpu, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(got, n * row, want, n * row);
    gpu->ops->free(gpu, rows_d);
    gpu->ops->free(gpu, out_d);
    gpu->ops->free(gpu, indices_d);
  }
  g_rand_free(rand);
}

static void
test_elementwise(void)
{
  GRand *rand = g_rand_new_with_seed(21);
  const int shapes[][2] = { { 1, 1 }, { 37, 13 }, { 1050, 128 }, { 2209 * 64, 32 } };
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    int rows = shapes[s][0], cols = shapes[s][1];
    size_t n = (size_t)rows * cols;
    g_autofree float *y = g_new(float, n), *bias = g_new(float, cols);
    g_autofree float *dy = g_new(float, n), *db = g_new(float, cols);
    fill_uniform(rand, y, n, -1, 1);
    fill_uniform(rand, bias, cols, -1, 1);
    fill_uniform(rand, dy, n, -1, 1);
    float *y_d = to_gpu(y, n), *bias_d = to_gpu(bias, cols), *dy_d = to_gpu(dy, n);
    float *db_d = to_gpu(bias, cols), *out_d = to_gpu(y, n);

    /* bias_add: the same float sum, exact. */
    gpu->ops->bias_add(gpu, rows, cols, y_d, bias_d);
    cpu->ops->bias_add(cpu, rows, cols, y, bias);
    assert_close_gpu("bias_add", y_d, y, n, 0, 0);

    gpu->ops->bias_grad(gpu, rows, cols, dy_d, db_d);
    cpu->ops->bias_grad(cpu, rows, cols, dy, db);
    assert_close_gpu("bias_grad", db_d, db, cols, 1e-6 * max_abs(db, cols), 0);

    /* ReLU forward (in place too) and backward, exact. */
    gpu->ops->relu_forward(gpu, n, dy_d, out_d);
    cpu->ops->relu_forward(cpu, n, dy, y);
    assert_close_gpu("relu_forward", out_d, y, n, 0, 0);
    g_autofree float *y2 = from_gpu(y_d, n); /* the gradient, in place below */
    gpu->ops->relu_backward(gpu, n, out_d, y_d, y_d);
    cpu->ops->relu_backward(cpu, n, y, y2, y2);
    assert_close_gpu("relu_backward", y_d, y2, n, 0, 0);

    gpu->ops->free(gpu, y_d);
    gpu->ops->free(gpu, bias_d);
    gpu->ops->free(gpu, dy_d);
    gpu->ops->free(gpu, db_d);
    gpu->ops->free(gpu, out_d);
  }
  g_rand_free(rand);
}

static void
test_adam(void)
{
  GRand *rand = g_rand_new_with_seed(22);
  const size_t n = 300001;
  g_autofree float *p = g_new(float, n), *g = g_new(float, n);
  g_autofree float *m = g_new0(float, n), *v = g_new0(float, n);
  fill_uniform(rand, p, n, -1, 1);
  float *p_d = to_gpu(p, n), *m_d = to_gpu(m, n), *v_d = to_gpu(v, n), *g_d = NULL;
  for (int step = 1; step <= 3; step++) {
    fill_uniform(rand, g, n, -1e-3, 1e-3);
    g[0] = 0.0f;
    g_d = g_d != NULL ? g_d : to_gpu(g, n);
    gpu->ops->upload(gpu, g_d, g, n * sizeof(float));
    float lr_t = 1e-3f * sqrtf(1.0f - powf(0.999f, step)) / (1.0f - powf(0.9f, step));
    gpu->ops->adam_update(gpu, n, p_d, g_d, m_d, v_d, lr_t, 0.9f, 0.999f, 1e-7f);
    cpu->ops->adam_update(cpu, n, p, g, m, v, lr_t, 0.9f, 0.999f, 1e-7f);
  }
  assert_close_gpu("adam params", p_d, p, n, 0, 1e-6);
  assert_close_gpu("adam m", m_d, m, n, 0, 1e-6);
  assert_close_gpu("adam v", v_d, v, n, 0, 1e-6);
  gpu->ops->free(gpu, p_d);
  gpu->ops->free(gpu, m_d);
  gpu->ops->free(gpu, v_d);
  gpu->ops->free(gpu, g_d);
  g_rand_free(rand);
}

/* ---- Matrix products ---- */

/* Relative rounding of one input in each precision (half an ulp): float32
 * 2^-24, TF32 2^-11, bf16 2^-8. */
static double
unit_roundoff(ScCudaPrecision prec)
{
  return prec == SC_CUDA_PRECISION_BF16 ? 0x1p-8 : prec == SC_CUDA_PRECISION_TF32 ? 0x1p-11
                                                                                  : 0x1p-24;
}

static void
check_gemm(GRand *rand, bool ta, bool tb, int m, int n, int k, float alpha, float beta,
           ScCudaPrecision prec)
{
  int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  int lda = a_cols + 3, ldb = b_cols + 5, ldc = n + 2;
  size_t na = (size_t)a_rows * lda, nb = (size_t)b_rows * ldb, nc = (size_t)m * ldc;
  g_autofree float *a = g_new(float, na), *b = g_new(float, nb), *c = g_new(float, nc);
  fill_uniform(rand, a, na, -1, 1);
  fill_uniform(rand, b, nb, -1, 1);
  fill_uniform(rand, c, nc, -1, 1);
  float *a_d = to_gpu(a, na), *b_d = to_gpu(b, nb), *c_d = to_gpu(c, nc);
  sc_cuda_backend_set_precision(gpu, prec);
  gpu->ops->gemm(gpu, ta, tb, m, n, k, alpha, a_d, lda, b_d, ldb, beta, c_d, ldc);
  cpu->ops->gemm(cpu, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  g_autofree char *what = g_strdup_printf("gemm %s %c%c %dx%dx%d",
                                          sc_cuda_precision_name(prec), ta ? 'T' : 'N',
                                          tb ? 'T' : 'N', m, n, k);
  /* The columns past n are someone else's and must be untouched. */
  /* Inputs in [-1, 1]: TF32 rounds each to 11 significant bits, so a sum of
   * k products is off by about 3e-4 sqrt(k) (bf16: 8 bits, 8 times more);
   * float32 by far less. */
  double tol = (prec == SC_CUDA_PRECISION_FP32 ? 1e-5 : 6.0 * unit_roundoff(prec))
                 * sqrt((double)k) * MAX(fabs(alpha), 1.0)
               + 1e-6 * max_abs(c, nc);
  assert_close_gpu(what, c_d, c, nc, tol, 0);
  gpu->ops->free(gpu, a_d);
  gpu->ops->free(gpu, b_d);
  gpu->ops->free(gpu, c_d);
}

static void
test_gemm(void)
{
  GRand *rand = g_rand_new_with_seed(23);
  for (int prec = 0; prec <= SC_CUDA_PRECISION_BF16; prec++)
    for (int t = 0; t < 4; t++) {
      bool ta = t & 1, tb = t & 2;
      check_gemm(rand, ta, tb, 5, 7, 9, 0.7f, -1.3f, prec);
      check_gemm(rand, ta, tb, 1, 1, 1, 2.0f, 0.5f, prec);
      check_gemm(rand, ta, tb, 130, 67, 300, 1.0f, 0.0f, prec);
      check_gemm(rand, ta, tb, 1050, 128, 512, 1.0f, 0.0f, prec);
    }
  sc_cuda_backend_set_tf32(gpu, TRUE);
  g_rand_free(rand);
}

/* ---- Convolutions ---- */

typedef struct {
  int batch, h, w, c, filters, k, stride;
  ScPadding padding;
} ConvCase;

static void
check_conv(GRand *rand, const ConvCase *cc, ScCudaPrecision prec)
{
  ScConvDesc d;
  g_assert_true(sc_conv_desc_init(&d, cc->batch, cc->h, cc->w, cc->c, cc->filters, cc->k,
                                  cc->k, cc->stride, cc->padding, NULL));
  size_t nx = (size_t)d.batch * d.in_h * d.in_w * d.in_c;
  size_t ny = (size_t)d.batch * d.out_h * d.out_w * d.out_c;
  size_t nw = (size_t)d.k_h * d.k_w * d.in_c * d.out_c;
  g_autofree float *x = g_new(float, nx), *w = g_new(float, nw), *bias = g_new(float, d.out_c);
  g_autofree float *dy = g_new(float, ny), *y = g_new(float, ny), *dx = g_new(float, nx);
  g_autofree float *dw = g_new(float, nw), *db = g_new(float, d.out_c);
  fill_uniform(rand, x, nx, -1, 1);
  fill_uniform(rand, w, nw, -0.5, 0.5);
  fill_uniform(rand, bias, d.out_c, -1, 1);
  fill_uniform(rand, dy, ny, -1, 1);
  float *x_d = to_gpu(x, nx), *w_d = to_gpu(w, nw), *b_d = to_gpu(bias, d.out_c);
  float *dy_d = to_gpu(dy, ny), *y_d = to_gpu(dy, ny), *dx_d = to_gpu(x, nx);
  float *dw_d = to_gpu(w, nw), *db_d = to_gpu(bias, d.out_c);

  sc_cuda_backend_set_precision(gpu, prec);
  gpu->ops->conv2d_forward(gpu, &d, x_d, w_d, b_d, y_d);
  gpu->ops->conv2d_backward(gpu, &d, x_d, w_d, dy_d, dx_d, dw_d, db_d);
  cpu->ops->conv2d_forward(cpu, &d, x, w, bias, y);
  cpu->ops->conv2d_backward(cpu, &d, x, w, dy, dx, dw, db);
  g_assert_true(cpu->ops->sync(cpu, NULL));

  /* Of the largest value: TF32 5e-3; bf16 8 times that (3 bits fewer), its
   * outputs rounded to bf16 as well. */
  const double rel = prec == SC_CUDA_PRECISION_FP32 ? 1e-4 : 10.0 * unit_roundoff(prec);
  g_autofree char *what = g_strdup_printf("conv %s batch %d %dx%dx%d k%d s%d %s -> %dx%dx%d",
                                          sc_cuda_precision_name(prec), d.batch, d.in_h, d.in_w,
                                          d.in_c, d.k_h, d.stride,
                                          cc->padding == SC_PADDING_SAME ? "same" : "valid",
                                          d.out_h, d.out_w, d.out_c);
  g_test_message("%s", what);
  assert_close_gpu("conv forward", y_d, y, ny, rel * max_abs(y, ny), 0);
  assert_close_gpu("conv dx", dx_d, dx, nx, rel * max_abs(dx, nx), 0);
  assert_close_gpu("conv dw", dw_d, dw, nw, rel * max_abs(dw, nw), 0);
  /* The bias gradient against column sums of dy in double: the device sums
   * in double, oneDNN (the CPU) in float, which is off by more than this. */
  g_autofree double *db_exact = g_new0(double, d.out_c);
  for (size_t i = 0; i < ny; i++)
    db_exact[i % d.out_c] += dy[i];
  g_autofree float *db_got = from_gpu(db_d, d.out_c);
  sc_test_assert_close_f("conv dbias", db_got, db_exact, d.out_c, 1e-6 * max_abs(db, d.out_c),
                         0);

  float *bufs[] = { x_d, w_d, b_d, dy_d, y_d, dx_d, dw_d, db_d };
  for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
    gpu->ops->free(gpu, bufs[i]);
}

static void
test_conv(void)
{
  GRand *rand = g_rand_new_with_seed(24);
  const ConvCase cases[] = {
    { 4, 17, 19, 3, 8, 3, 2, SC_PADDING_VALID },
    { 3, 9, 9, 5, 6, 3, 1, SC_PADDING_SAME },   /* symmetric padding */
    { 2, 10, 11, 4, 7, 3, 2, SC_PADDING_SAME }, /* the odd row after: explicit padding */
    { 5, 8, 8, 16, 32, 1, 1, SC_PADDING_VALID },
    { 16, 96, 96, 3, 32, 3, 2, SC_PADDING_VALID }, /* the encoder's first layer */
    { 16, 47, 47, 32, 64, 3, 2, SC_PADDING_VALID },
  };
  for (int prec = 0; prec <= SC_CUDA_PRECISION_BF16; prec++)
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
      check_conv(rand, &cases[i], prec);
  sc_cuda_backend_set_tf32(gpu, TRUE);
  g_rand_free(rand);
}

/* A new batch size (the last partial batch) gets its own plan and its own
 * algorithm choice; the first size's plan stays. */
static void
test_conv_plans_per_shape(void)
{
  GRand *rand = g_rand_new_with_seed(25);
  sc_cuda_backend_set_tf32(gpu, FALSE);
  sc_cuda_backend_set_tf32(gpu, TRUE); /* drops the plans of earlier tests */
  g_assert_cmpuint(sc_cuda_conv_plan_count(gpu), ==, 0);

  const ConvCase full = { 64, 47, 47, 32, 64, 3, 2, SC_PADDING_VALID };
  ConvCase last = full;
  last.batch = 7;
  ScConvDesc d_full, d_last;
  g_assert_true(sc_conv_desc_init(&d_full, full.batch, full.h, full.w, full.c, full.filters,
                                  3, 3, 2, SC_PADDING_VALID, NULL));
  d_last = d_full;
  d_last.batch = last.batch;

  int algos[3];
  g_assert_false(sc_cuda_conv_algorithms(gpu, &d_full, algos));
  check_conv(rand, &full, SC_CUDA_PRECISION_TF32);
  g_assert_cmpuint(sc_cuda_conv_plan_count(gpu), ==, 1);
  g_assert_true(sc_cuda_conv_algorithms(gpu, &d_full, algos));
  for (int i = 0; i < 3; i++)
    g_assert_cmpint(algos[i], >=, 0);
  g_assert_false(sc_cuda_conv_algorithms(gpu, &d_last, algos));

  check_conv(rand, &last, SC_CUDA_PRECISION_TF32);
  g_assert_cmpuint(sc_cuda_conv_plan_count(gpu), ==, 2);
  g_assert_true(sc_cuda_conv_algorithms(gpu, &d_last, algos));
  for (int i = 0; i < 3; i++)
    g_assert_cmpint(algos[i], >=, 0);

  /* The full size again reuses its plan. */
  check_conv(rand, &full, SC_CUDA_PRECISION_TF32);
  g_assert_cmpuint(sc_cuda_conv_plan_count(gpu), ==, 2);
  g_rand_free(rand);
}

/* ---- Losses ---- */

static void
test_softmax_xent(void)
{
  GRand *rand = g_rand_new_with_seed(26);
  const int shapes[][2] = { { 1, 2 }, { 525, 10 }, { 64, 1000 } };
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    int n = shapes[s][0], k = shapes[s][1];
    size_t nk = (size_t)n * k;
    g_autofree float *z = g_new(float, nk), *dz = g_new(float, nk), *loss = g_new(float, n);
    g_autofree int32_t *labels = g_new(int32_t, n);
    fill_uniform(rand, z, nk, -8, 8);
    for (int i = 0; i < n; i++)
      labels[i] = g_rand_int_range(rand, 0, k);
    z[0] = z[k > 1 ? 1 : 0]; /* a tie: the first index wins */
    float *z_d = to_gpu(z, nk), *dz_d = to_gpu(z, nk), *loss_d = to_gpu(z, n);
    int32_t *labels_d = gpu->ops->alloc(gpu, n * sizeof(int32_t));
    gpu->ops->upload(gpu, labels_d, labels, n * sizeof(int32_t));
    int64_t correct_gpu = -1, correct_cpu = -2;
    gpu->ops->softmax_xent(gpu, n, k, z_d, labels_d, 1.0f / n, loss_d, dz_d, &correct_gpu);
    cpu->ops->softmax_xent(cpu, n, k, z, labels, 1.0f / n, loss, dz, &correct_cpu);
    g_assert_cmpint(correct_gpu, ==, correct_cpu);
    assert_close_gpu("softmax_xent loss", loss_d, loss, n, 1e-6, 1e-5);
    assert_close_gpu("softmax_xent dlogits", dz_d, dz, nk, 1e-6, 1e-5);
    gpu->ops->free(gpu, z_d);
    gpu->ops->free(gpu, dz_d);
    gpu->ops->free(gpu, loss_d);
    gpu->ops->free(gpu, labels_d);
  }
  g_rand_free(rand);
}

static void
check_ntxent(GRand *rand, int b, int dim, float temperature, ScNtxentVariant variant)
{
  size_t n = (size_t)b * dim;
  g_autofree float *p1 = g_new(float, n), *p2 = g_new(float, n);
  g_autofree float *dp1 = g_new(float, n), *dp2 = g_new(float, n), *loss = g_new(float, b);
  fill_uniform(rand, p1, n, -1, 1);
  /* Second views near the first, so the positives win most rows. */
  for (size_t i = 0; i < n; i++)
    p2[i] = p1[i] + (float)g_rand_double_range(rand, -0.5, 0.5);
  for (int d = 0; d < dim; d++)
    p1[d] = 0.0f; /* a zero projection: the clamp of the normalisation */
  float *p1_d = to_gpu(p1, n), *p2_d = to_gpu(p2, n), *dp1_d = to_gpu(p1, n);
  float *dp2_d = to_gpu(p1, n), *loss_d = to_gpu(p1, b);
  int64_t correct_gpu = -1, correct_cpu = -2;
  ScNtxentArgs a = { .batch = b, .dim = dim, .temperature = temperature, .variant = variant,
                     .p1 = p1_d, .p2 = p2_d, .loss = loss_d, .dp1 = dp1_d, .dp2 = dp2_d,
                     .n_correct = &correct_gpu };
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_ntxent(gpu, &a, &error));
  ScNtxentArgs c = { .batch = b, .dim = dim, .temperature = temperature, .variant = variant,
                     .p1 = p1, .p2 = p2, .loss = loss, .dp1 = dp1, .dp2 = dp2,
                     .n_correct = &correct_cpu };
  g_assert_true(sc_ntxent(cpu, &c, &error));
  g_test_message("NT-Xent %s B %d D %d T %g", variant == SC_NTXENT_FULL ? "full" : "cross",
                 b, dim, temperature);
  g_assert_cmpint(correct_gpu, ==, correct_cpu);
  assert_close_gpu("ntxent loss", loss_d, loss, b, 1e-5, 1e-4);
  assert_close_gpu("ntxent dp1", dp1_d, dp1, n, 1e-5 * MAX(max_abs(dp1, n), 1.0), 1e-4);
  assert_close_gpu("ntxent dp2", dp2_d, dp2, n, 1e-5 * MAX(max_abs(dp2, n), 1.0), 1e-4);

  /* Forward only leaves the gradients alone and gives the same loss. */
  a.dp1 = a.dp2 = NULL;
  g_assert_true(sc_ntxent(gpu, &a, &error));
  assert_close_gpu("ntxent loss (forward only)", loss_d, loss, b, 1e-5, 1e-4);
  float *bufs[] = { p1_d, p2_d, dp1_d, dp2_d, loss_d };
  for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
    gpu->ops->free(gpu, bufs[i]);
}

static void
test_ntxent(void)
{
  GRand *rand = g_rand_new_with_seed(27);
  const float temps[] = { 0.1f, 0.5f, 0.05f };
  for (int v = 0; v < 2; v++)
    for (size_t t = 0; t < G_N_ELEMENTS(temps); t++) {
      ScNtxentVariant variant = v ? SC_NTXENT_FULL : SC_NTXENT_CROSS_VIEW;
      check_ntxent(rand, 2, 3, temps[t], variant);
      check_ntxent(rand, 37, 16, temps[t], variant);
      check_ntxent(rand, 525, 128, temps[t], variant);
    }
  g_rand_free(rand);
}

/* ---- Random numbers and augmentation ---- */

static void
test_philox_device(void)
{
  const int n = 64;
  float *u_d = gpu->ops->alloc(gpu, n * sizeof(float));
  const uint64_t seeds[] = { 0, 42, 0xFFFFFFFFFFFFFFFFull };
  for (size_t s = 0; s < G_N_ELEMENTS(seeds); s++) {
    g_assert_cmpint(sc_cuda_philox_uniforms(0, seeds[s], SC_RNG_AUG_VIEW2, 3, 17, 524, n, u_d),
                    ==, cudaSuccess);
    g_assert_cmpint(cudaDeviceSynchronize(), ==, cudaSuccess);
    g_autofree float *u = from_gpu(u_d, n);
    ScRng rng;
    sc_rng_init(&rng, seeds[s], SC_RNG_AUG_VIEW2, 3, 17, 524);
    for (int i = 0; i < n; i++)
      g_assert_cmpfloat(u[i], ==, sc_rng_uniform(&rng));
  }
  gpu->ops->free(gpu, u_d);
}

static void
check_augment(GRand *rand, int batch, int src_h, int src_w, int src_c, int out, bool training,
              ScAugmentStrength strength)
{
  size_t n_src = (size_t)batch * src_h * src_w * src_c;
  size_t n_out = (size_t)batch * out * out * 3;
  g_autofree uint8_t *images = g_malloc(n_src);
  for (size_t i = 0; i < n_src; i++)
    images[i] = (uint8_t)g_rand_int_range(rand, 0, 256);
  uint8_t *images_d = gpu->ops->alloc(gpu, n_src);
  gpu->ops->upload(gpu, images_d, images, n_src);
  float *out_d = gpu->ops->alloc(gpu, n_out * sizeof(float));
  g_autofree float *want = g_new(float, n_out);

  ScAugmentBatch b = { .images = images, .batch = batch, .src_h = src_h, .src_w = src_w,
                       .src_c = src_c, .out_h = out, .out_w = out, .training = training,
                       .strength = strength, .seed = 1234, .purpose = SC_RNG_AUG_VIEW1,
                       .epoch = 2, .step = 9 };
  cpu->ops->augment(cpu, &b, want);
  b.images = images_d;
  gpu->ops->augment(gpu, &b, out_d);
  g_autofree char *what = g_strdup_printf("augment %dx%dx%d -> %d, %s", src_h, src_w, src_c,
                                          out, training ? "training" : "inference");
  assert_close_gpu(what, out_d, want, n_out, 1e-6, 0);
  gpu->ops->free(gpu, images_d);
  gpu->ops->free(gpu, out_d);
}

static void
test_augment(void)
{
  GRand *rand = g_rand_new_with_seed(28);
  check_augment(rand, 64, 96, 96, 3, 96, true, SC_AUGMENT_STRONG);
  check_augment(rand, 64, 96, 96, 3, 96, true, SC_AUGMENT_WEAK);
  check_augment(rand, 32, 28, 28, 1, 96, true, SC_AUGMENT_STRONG); /* grey, resized */
  check_augment(rand, 32, 32, 32, 3, 48, true, SC_AUGMENT_STRONG);
  check_augment(rand, 16, 28, 28, 1, 96, false, SC_AUGMENT_WEAK);
  check_augment(rand, 16, 96, 96, 3, 96, false, SC_AUGMENT_WEAK);
  g_rand_free(rand);
}

/* ---- Whole steps ---- */

/* One backend's copy of a small encoder with a head. */
typedef struct {
  ScBackend *be;
  ScNet *encoder, *head;
  ScParams *params;
  ScAdam *adam;
  uint8_t *images; /* (2B, 32, 32, 3) */
  float *views;    /* (2B, 32, 32, 3) */
  float *grad;     /* (2B, head outputs) */
  float *dfeat;    /* (2B, encoder outputs) */
  float *loss;     /* (2B) */
  int32_t *labels; /* (B) */
} Model;

#define STEP_SIDE 32
#define STEP_BATCH 24

static void
model_init(Model *m, ScBackend *be, int head_out, const uint8_t *images, const int32_t *labels)
{
  g_autoptr(GError) error = NULL;
  m->be = be;
  m->encoder = sc_encoder_new(STEP_SIDE, STEP_SIDE, 3, 32, &error);
  g_assert_no_error(error);
  size_t feat = sc_net_output_size(m->encoder);
  m->head = head_out > 0 ? sc_linear_head_new((int)feat, head_out)
                         : sc_projection_head_new((int)feat, 32);
  ScNet *nets[] = { m->encoder, m->head };
  m->params = sc_params_new(be, nets, 2, &error);
  g_assert_no_error(error);
  sc_net_init_glorot(m->encoder, 77, 0);
  sc_net_init_glorot(m->head, 77, 1);
  g_assert_true(sc_net_prepare(m->encoder, 2 * STEP_BATCH, &error));
  g_assert_true(sc_net_prepare(m->head, 2 * STEP_BATCH, &error));
  ScAdamConfig ac;
  sc_adam_config_init_default(&ac);
  m->adam = sc_adam_new(be, m->params->count, &ac, &error);
  g_assert_no_error(error);

  size_t n_img = (size_t)2 * STEP_BATCH * STEP_SIDE * STEP_SIDE * 3;
  m->images = sc_backend_alloc(be, n_img, "images", &error);
  be->ops->upload(be, m->images, images, n_img);
  m->views = sc_backend_alloc(be, n_img * sizeof(float), "views", &error);
  size_t out = sc_net_output_size(m->head);
  m->grad = sc_backend_alloc(be, 2 * STEP_BATCH * out * sizeof(float), "grad", &error);
  m->dfeat = sc_backend_alloc(be, 2 * STEP_BATCH * feat * sizeof(float), "dfeat", &error);
  m->loss = sc_backend_alloc(be, 2 * STEP_BATCH * sizeof(float), "loss", &error);
  m->labels = sc_backend_alloc(be, STEP_BATCH * sizeof(int32_t), "labels", &error);
  be->ops->upload(be, m->labels, labels, STEP_BATCH * sizeof(int32_t));
  g_assert_no_error(error);
}

static void
model_clear(Model *m)
{
  ScBackend *be = m->be;
  void *bufs[] = { m->images, m->views, m->grad, m->dfeat, m->loss, m->labels };
  for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
    be->ops->free(be, bufs[i]);
  sc_adam_free(m->adam);
  sc_net_free(m->encoder);
  sc_net_free(m->head);
  sc_params_free(m->params);
}

static void
augment_views(Model *m, int n, uint32_t purpose, size_t first, ScAugmentStrength s)
{
  size_t px = (size_t)STEP_SIDE * STEP_SIDE * 3;
  ScAugmentBatch b = { .images = m->images, .batch = n, .src_h = STEP_SIDE,
                       .src_w = STEP_SIDE, .src_c = 3, .out_h = STEP_SIDE,
                       .out_w = STEP_SIDE, .training = true, .strength = s, .seed = 5,
                       .purpose = purpose, .epoch = 1, .step = 3 };
  m->be->ops->augment(m->be, &b, m->views + first * px);
}

/* The end of both steps: backward through head and encoder, Adam, and the
 * mean of the first n losses. */
static double
backward_adam(Model *m, int n)
{
  sc_net_backward(m->head, m->grad, m->dfeat);
  sc_net_backward(m->encoder, m->dfeat, NULL);
  sc_adam_step(m->adam, m->params->params, m->params->grads);
  g_autofree float *loss = g_new(float, n);
  m->be->ops->download(m->be, loss, m->loss, n * sizeof(float));
  g_autoptr(GError) error = NULL;
  g_assert_true(m->be->ops->sync(m->be, &error));
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += loss[i];
  return sum / n;
}

/* The trainer's contrastive step: two strong views through encoder and
 * projection head as one batch of 2B, NT-Xent, backward, Adam. */
static double
contrastive_step(Model *m)
{
  const int b = STEP_BATCH;
  augment_views(m, b, SC_RNG_AUG_VIEW1, 0, SC_AUGMENT_STRONG);
  augment_views(m, b, SC_RNG_AUG_VIEW2, b, SC_AUGMENT_STRONG);
  const float *h = sc_net_forward(m->encoder, m->views, 2 * b);
  const float *p = sc_net_forward(m->head, h, 2 * b);
  size_t dim = sc_net_output_size(m->head);
  ScNtxentArgs a = { .batch = b, .dim = (int)dim, .temperature = 0.1f,
                     .variant = SC_NTXENT_CROSS_VIEW, .p1 = p, .p2 = p + b * dim,
                     .loss = m->loss, .dp1 = m->grad, .dp2 = m->grad + b * dim };
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_ntxent(m->be, &a, &error));
  return backward_adam(m, b);
}

/* The trainer's supervised step: weak views, encoder, linear head, mean
 * cross-entropy, backward, Adam. */
static double
supervised_step(Model *m, const int32_t *host_labels, int64_t *correct)
{
  const int b = STEP_BATCH;
  augment_views(m, b, SC_RNG_AUG_WEAK, 0, SC_AUGMENT_WEAK);
  const float *h = sc_net_forward(m->encoder, m->views, b);
  const float *logits = sc_net_forward(m->head, h, b);
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_softmax_xent_mean(m->be, b, 10, logits, m->labels, host_labels, m->loss,
                                     m->grad, correct, &error));
  return backward_adam(m, b);
}

static void
compare_models(const Model *g, const Model *c)
{
  size_t n = c->params->count;
  g_assert_cmpuint(g->params->count, ==, n);
  g_autofree float *cpu_grads = g_new(float, n);
  memcpy(cpu_grads, c->params->grads, n * sizeof(float));
  assert_close_gpu("step gradients", g->params->grads, cpu_grads, n,
                   1e-3 * max_abs(cpu_grads, n), 0);
  assert_close_gpu("step parameters", g->params->params, c->params->params, n, 1e-5, 0);
}

static void
test_steps(void)
{
  GRand *rand = g_rand_new_with_seed(29);
  size_t n_img = (size_t)2 * STEP_BATCH * STEP_SIDE * STEP_SIDE * 3;
  g_autofree uint8_t *images = g_malloc(n_img);
  for (size_t i = 0; i < n_img; i++)
    images[i] = (uint8_t)g_rand_int_range(rand, 0, 256);
  int32_t labels[STEP_BATCH];
  for (int i = 0; i < STEP_BATCH; i++)
    labels[i] = g_rand_int_range(rand, 0, 10);
  sc_cuda_backend_set_tf32(gpu, FALSE);

  Model g, c;
  model_init(&g, gpu, 0, images, labels);
  model_init(&c, cpu, 0, images, labels);
  double loss_g = contrastive_step(&g), loss_c = contrastive_step(&c);
  g_test_message("contrastive step: loss %.6f (cuda) %.6f (cpu)", loss_g, loss_c);
  g_assert_cmpfloat(fabs(loss_g - loss_c), <=, 1e-4 * fabs(loss_c));
  compare_models(&g, &c);
  model_clear(&g);
  model_clear(&c);

  model_init(&g, gpu, 10, images, labels);
  model_init(&c, cpu, 10, images, labels);
  int64_t correct_g = -1, correct_c = -2;
  loss_g = supervised_step(&g, labels, &correct_g);
  loss_c = supervised_step(&c, labels, &correct_c);
  g_test_message("supervised step: loss %.6f (cuda) %.6f (cpu)", loss_g, loss_c);
  g_assert_cmpfloat(fabs(loss_g - loss_c), <=, 1e-4 * fabs(loss_c));
  g_assert_cmpint(correct_g, ==, correct_c);
  compare_models(&g, &c);
  model_clear(&g);
  model_clear(&c);

  sc_cuda_backend_set_tf32(gpu, TRUE);
  g_rand_free(rand);
}

/* The trainer's three runs, two epochs each, on a tiny IDX data set with
 * each backend: the same history within tolerance. */
static void
run_tiny(const char *data, ScDataFormat format, const char *backend,
         ScEpochMetrics hist[SC_N_RUNS][2])
{
  ScTrainConfig c;
  sc_train_config_init_default(&c);
  c.data_path = g_strdup(data);
  c.format = format;
  c.labeled_per_class = 1;
  c.input_size = 32;
  c.width = 8;
  c.epochs = 2;
  c.batch_size = 8;
  c.seed = 7;
  c.threads = 1;
  g_free(c.backend);
  c.backend = g_strdup(backend);
  g_autoptr(GError) error = NULL;
  ScTrainer *t = sc_trainer_new(&c, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(sc_trainer_run(t, &error));
  g_assert_no_error(error);
  for (int r = 0; r < SC_N_RUNS; r++) {
    int n = 0;
    const ScEpochMetrics *h = sc_trainer_get_history(t, (ScRunKind)r, &n);
    g_assert_cmpint(n, ==, 2);
    memcpy(hist[r], h, 2 * sizeof(*h));
  }
  sc_trainer_free(t);
  sc_train_config_clear(&c);
}

static void
assert_metric(const char *what, int run, int epoch, double got, double want, double abs_tol,
              double rel_tol)
{
  if (isnan(want) && isnan(got))
    return;
  if (!(fabs(got - want) <= abs_tol + rel_tol * fabs(want)))
    g_error("tiny run %s, epoch %d, %s: cuda %.7g, cpu %.7g", sc_run_name((ScRunKind)run),
            epoch + 1, what, got, want);
}

/* Both backends' histories on the data set in data. */
static void
compare_tiny_runs(const char *data, ScDataFormat format)
{
  ScEpochMetrics gpu_h[SC_N_RUNS][2], cpu_h[SC_N_RUNS][2];
  g_setenv("SC_CUDA_TF32", "0", TRUE); /* the trainer makes its own backend */
  run_tiny(data, format, "cuda", gpu_h);
  g_unsetenv("SC_CUDA_TF32");
  run_tiny(data, format, "cpu", cpu_h);
  const double loss_abs = 1e-4, loss_rel = 1e-3, acc_abs = 1.0 / 8 + 1e-9;
  for (int r = 0; r < SC_N_RUNS; r++)
    for (int e = 0; e < 2; e++) {
      const ScEpochMetrics *g = &gpu_h[r][e], *c = &cpu_h[r][e];
      assert_metric("loss", r, e, g->loss, c->loss, loss_abs, loss_rel);
      assert_metric("val_loss", r, e, g->val_loss, c->val_loss, loss_abs, loss_rel);
      assert_metric("c_loss", r, e, g->c_loss, c->c_loss, loss_abs, loss_rel);
      assert_metric("p_loss", r, e, g->p_loss, c->p_loss, loss_abs, loss_rel);
      assert_metric("val_p_loss", r, e, g->val_p_loss, c->val_p_loss, loss_abs, loss_rel);
      assert_metric("acc", r, e, g->acc, c->acc, acc_abs, 0);
      assert_metric("val_acc", r, e, g->val_acc, c->val_acc, acc_abs, 0);
      assert_metric("c_acc", r, e, g->c_acc, c->c_acc, acc_abs, 0);
      assert_metric("p_acc", r, e, g->p_acc, c->p_acc, acc_abs, 0);
      assert_metric("val_p_acc", r, e, g->val_p_acc, c->val_p_acc, acc_abs, 0);
    }
}

/* IDX: each split is one block, uploaded to the device at once. */
static void
test_tiny_run(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *data = g_build_filename(tmp, "fashion", NULL);
  fx_idx_folder(data, 40, 12, 28, 28, TRUE);
  compare_tiny_runs(data, SC_FORMAT_IDX);
  sc_test_rmtree(tmp);
}

/* STL-10: splits transposed on access, uploaded a batch at a time, with
 * an unlabeled split of their own. */
static void
test_tiny_run_stl10(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *data = g_build_filename(tmp, "stl10_binary", NULL);
  fx_stl10_folder(data, 20, 10, 16);
  compare_tiny_runs(data, SC_FORMAT_STL10);
  sc_test_rmtree(tmp);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_autoptr(GError) error = NULL;
  gpu = sc_backend_new("cuda", 0, &error);
  if (gpu == NULL) {
    /* The reason goes into the TAP plan, which meson reports as a skip. */
    g_assert_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED);
    g_print("1..0 # SKIP %s\n", error->message);
    return 0;
  }
  g_assert_true(sc_backend_is_cuda(gpu));
  g_test_message("device: %s", sc_cuda_backend_device_name(gpu));
  cpu = sc_backend_cpu_new(2, &error);
  g_assert_no_error(error);

  g_test_add_func("/cuda/memory", test_memory);
  g_test_add_func("/cuda/gather-rows", test_gather_rows);
  g_test_add_func("/cuda/elementwise", test_elementwise);
  g_test_add_func("/cuda/adam", test_adam);
  g_test_add_func("/cuda/gemm", test_gemm);
  g_test_add_func("/cuda/conv", test_conv);
  g_test_add_func("/cuda/conv-plans-per-shape", test_conv_plans_per_shape);
  g_test_add_func("/cuda/softmax-xent", test_softmax_xent);
  g_test_add_func("/cuda/ntxent", test_ntxent);
  g_test_add_func("/cuda/philox-device", test_philox_device);
  g_test_add_func("/cuda/augment", test_augment);
  g_test_add_func("/cuda/steps", test_steps);
  g_test_add_func("/cuda/tiny-run", test_tiny_run);
  g_test_add_func("/cuda/tiny-run-stl10", test_tiny_run_stl10);
  int status = g_test_run();
  sc_backend_free(gpu);
  sc_backend_free(cpu);
  return status;
}
