/* The emulated cuBLAS and cuDNN (tests/emulated-cuda) against naive loops
 * and the CPU backend, and their refusals of misuse.
 *
 * Emulated device memory is host memory, so the tests fill and read it
 * directly after cudaMalloc. Tolerances (|got - want| <= abs + rel |want|):
 *   float products against double loops: abs 1e-5, rel 1e-5 (k <= 16,
 *   inputs in [-1, 1]); convolutions against the CPU backend: abs 1e-4,
 *   rel 1e-4 (sums of up to 3 x 3 x 6 x 64 products in two orders). */
#include "backend.h"
#include "emulated-cuda.h"
#include "emulated-rounding.h"

#include <cublas_v2.h>
#include <cudnn.h>
#include <math.h>
#include <string.h>

/* ---- Helpers ---- */

static void *
dev_alloc(size_t bytes)
{
  void *p = NULL;
  g_assert_cmpint(cudaMalloc(&p, bytes), ==, cudaSuccess);
  return p;
}

static void
dev_free(void *p)
{
  g_assert_cmpint(cudaFree(p), ==, cudaSuccess);
}

/* Deterministic values in [-1, 1] with all mantissa bits in use. */
static void
fill(float *p, size_t n, guint32 seed)
{
  GRand *r = g_rand_new_with_seed(seed);
  for (size_t i = 0; i < n; i++)
    p[i] = (float)g_rand_double_range(r, -1.0, 1.0);
  g_rand_free(r);
}

static void
assert_close(const char *what, const float *got, const double *want, size_t n,
             double abs_tol, double rel_tol)
{
  for (size_t i = 0; i < n; i++) {
    double err = fabs((double)got[i] - want[i]);
    if (!(err <= abs_tol + rel_tol * fabs(want[i])))
      g_error("%s[%zu]: got %.9g, want %.9g (error %.3g)", what, i, got[i], want[i], err);
  }
}

/* Messages the emulated libraries log when they refuse a call. */
static GString *captured;

static void
capture_message(const gchar *domain, GLogLevelFlags level, const gchar *message,
                gpointer data)
{
  g_string_append(captured, message);
  g_string_append_c(captured, '\n');
}

static void
capture_begin(void)
{
  g_string_truncate(captured, 0);
}

/* The refusal named its reason. */
static void
assert_captured(const char *needle)
{
  if (strstr(captured->str, needle) == NULL)
    g_error("expected a message containing \"%s\", got: \"%s\"", needle, captured->str);
}

/* ---- cuBLAS ---- */

typedef struct {
  cublasHandle_t h;
} Blas;

static void
blas_init(Blas *b)
{
  g_assert_cmpint(cublasCreate(&b->h), ==, CUBLAS_STATUS_SUCCESS);
}

static void
blas_clear(Blas *b)
{
  g_assert_cmpint(cublasDestroy(b->h), ==, CUBLAS_STATUS_SUCCESS);
}

/* Column-major element (i, j) of op(M), M stored with leading dimension ld. */
static double
op_at(const float *m, int ld, gboolean t, int i, int j)
{
  return t ? m[(size_t)i * ld + j] : m[(size_t)j * ld + i];
}

/* C = alpha op(A) op(B) + beta C in double, column-major. */
static void
naive_gemm(gboolean ta, gboolean tb, int m, int n, int k, double alpha, const float *a,
           int lda, const float *b, int ldb, double beta, const float *c, int ldc,
           double *out)
{
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      double s = 0.0;
      for (int p = 0; p < k; p++)
        s += op_at(a, lda, ta, i, p) * op_at(b, ldb, tb, p, j);
      out[(size_t)j * ldc + i] = alpha * s + (beta != 0.0 ? beta * c[(size_t)j * ldc + i] : 0);
    }
}

/* One product per transpose case: m 5, n 3, k 4 (nothing square), every
 * leading dimension 2 beyond its minimum, alpha 0.75 and beta -1.5; the
 * padding between columns must come back untouched. */
static void
test_gemm_transposes(void)
{
  Blas bl;
  blas_init(&bl);
  const int m = 5, n = 3, k = 4;
  for (int t = 0; t < 4; t++) {
    gboolean ta = t & 1, tb = (t >> 1) & 1;
    int a_rows = ta ? k : m, a_cols = ta ? m : k;
    int b_rows = tb ? n : k, b_cols = tb ? k : n;
    int lda = a_rows + 2, ldb = b_rows + 2, ldc = m + 2;
    float *a = dev_alloc(sizeof(float) * lda * a_cols);
    float *b = dev_alloc(sizeof(float) * ldb * b_cols);
    float *c = dev_alloc(sizeof(float) * ldc * n);
    fill(a, (size_t)lda * a_cols, 1 + t);
    fill(b, (size_t)ldb * b_cols, 11 + t);
    fill(c, (size_t)ldc * n, 21 + t);
    float *c0 = g_memdup2(c, sizeof(float) * ldc * n);
    double *want = g_new0(double, (size_t)ldc * n);
    naive_gemm(ta, tb, m, n, k, 0.75, a, lda, b, ldb, -1.5, c0, ldc, want);
    for (int j = 0; j < n; j++)
      for (int i = m; i < ldc; i++)
        want[(size_t)j * ldc + i] = c0[(size_t)j * ldc + i];

    const float alpha = 0.75f, beta = -1.5f;
    g_assert_cmpint(cublasGemmEx(bl.h, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &alpha, a,
                                 CUDA_R_32F, lda, b, CUDA_R_32F, ldb, &beta, c, CUDA_R_32F,
                                 ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                    ==, CUBLAS_STATUS_SUCCESS);
    assert_close(ta ? (tb ? "C (T, T)" : "C (T, N)") : (tb ? "C (N, T)" : "C (N, N)"), c,
                 want, (size_t)ldc * n, 1e-5, 1e-5);
    g_free(want);
    g_free(c0);
    dev_free(a);
    dev_free(b);
    dev_free(c);
  }
  blas_clear(&bl);
}

/* beta == 0: C is written without being read, so its NaNs do not show. */
static void
test_gemm_beta_zero_nan(void)
{
  Blas bl;
  blas_init(&bl);
  const int m = 4, n = 6, k = 3;
  float *a = dev_alloc(sizeof(float) * m * k);
  float *b = dev_alloc(sizeof(float) * k * n);
  float *c = dev_alloc(sizeof(float) * m * n);
  fill(a, (size_t)m * k, 5);
  fill(b, (size_t)k * n, 6);
  for (int i = 0; i < m * n; i++)
    c[i] = NAN;
  double want[24];
  naive_gemm(FALSE, FALSE, m, n, k, 2.0, a, m, b, k, 0.0, NULL, m, want);
  const float alpha = 2.0f, beta = 0.0f;
  g_assert_cmpint(cublasGemmEx(bl.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, a, CUDA_R_32F,
                               m, b, CUDA_R_32F, k, &beta, c, CUDA_R_32F, m,
                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_SUCCESS);
  assert_close("C", c, want, (size_t)m * n, 1e-5, 1e-5);
  dev_free(a);
  dev_free(b);
  dev_free(c);
  blas_clear(&bl);
}

/* A 1 x 1 x 1 product A B with B = 1 shows how A was rounded. */
static float
rounded_through_gemm(Blas *bl, float v, cublasComputeType_t compute)
{
  float *a = dev_alloc(sizeof(float)), *b = dev_alloc(sizeof(float)),
        *c = dev_alloc(sizeof(float));
  *a = v;
  *b = 1.0f;
  const float one = 1.0f, zero = 0.0f;
  g_assert_cmpint(cublasGemmEx(bl->h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, a, CUDA_R_32F,
                               1, b, CUDA_R_32F, 1, &zero, c, CUDA_R_32F, 1, compute,
                               CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_SUCCESS);
  float got = *c;
  dev_free(a);
  dev_free(b);
  dev_free(c);
  return got;
}

/* TF32 keeps 10 mantissa bits and rounds to nearest (ties away from zero);
 * bf16 keeps 7 and rounds to nearest even; COMPUTE_32F keeps all 23,
 * unless the handle's math mode allows TF32. */
static void
test_gemm_input_rounding(void)
{
  Blas bl;
  blas_init(&bl);
  const float e10 = ldexpf(1.0f, -10), e11 = ldexpf(1.0f, -11), e12 = ldexpf(1.0f, -12);
  g_assert_cmpfloat(rounded_through_gemm(&bl, 1.0f + e12, CUBLAS_COMPUTE_32F_FAST_TF32), ==,
                    1.0f);
  g_assert_cmpfloat(rounded_through_gemm(&bl, 1.0f + e11, CUBLAS_COMPUTE_32F_FAST_TF32), ==,
                    1.0f + e10);
  g_assert_cmpfloat(rounded_through_gemm(&bl, -(1.0f + e11), CUBLAS_COMPUTE_32F_FAST_TF32),
                    ==, -(1.0f + e10));
  g_assert_cmpfloat(rounded_through_gemm(&bl, 1.0f + e12, CUBLAS_COMPUTE_32F), ==,
                    1.0f + e12);
  const float e6 = ldexpf(1.0f, -6), e7 = ldexpf(1.0f, -7), e8 = ldexpf(1.0f, -8);
  g_assert_cmpfloat(rounded_through_gemm(&bl, 1.0f + e8, CUBLAS_COMPUTE_32F_FAST_16BF), ==,
                    1.0f);
  g_assert_cmpfloat(rounded_through_gemm(&bl, 1.0f + e7 + e8, CUBLAS_COMPUTE_32F_FAST_16BF),
                    ==, 1.0f + e6);

  cublasMath_t mode = CUBLAS_PEDANTIC_MATH;
  g_assert_cmpint(cublasGetMathMode(bl.h, &mode), ==, CUBLAS_STATUS_SUCCESS);
  g_assert_cmpint(mode, ==, CUBLAS_DEFAULT_MATH);
  g_assert_cmpint(cublasSetMathMode(bl.h, CUBLAS_TF32_TENSOR_OP_MATH), ==,
                  CUBLAS_STATUS_SUCCESS);
  g_assert_cmpint(cublasGetMathMode(bl.h, &mode), ==, CUBLAS_STATUS_SUCCESS);
  g_assert_cmpint(mode, ==, CUBLAS_TF32_TENSOR_OP_MATH);
  g_assert_cmpfloat(rounded_through_gemm(&bl, 1.0f + e11, CUBLAS_COMPUTE_32F), ==,
                    1.0f + e10);
  g_assert_cmpfloat(rounded_through_gemm(&bl, 1.0f + e12, CUBLAS_COMPUTE_32F_PEDANTIC), ==,
                    1.0f + e12);
  g_assert_cmpint(cublasSetMathMode(bl.h, (cublasMath_t)7), ==, CUBLAS_STATUS_INVALID_VALUE);
  blas_clear(&bl);
}

/* TF32 products of random inputs: off from float by more than float's own
 * error, and within the bound of two 2^-11 relative input errors per term. */
static void
test_gemm_tf32_error(void)
{
  Blas bl;
  blas_init(&bl);
  const int m = 8, n = 8, k = 16;
  float *a = dev_alloc(sizeof(float) * m * k), *b = dev_alloc(sizeof(float) * k * n);
  float *c = dev_alloc(sizeof(float) * m * n);
  fill(a, (size_t)m * k, 31);
  fill(b, (size_t)k * n, 32);
  double *want = g_new(double, (size_t)m * n);
  naive_gemm(FALSE, FALSE, m, n, k, 1.0, a, m, b, k, 0.0, NULL, m, want);
  const float one = 1.0f, zero = 0.0f;
  g_assert_cmpint(cublasGemmEx(bl.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, CUDA_R_32F, m,
                               b, CUDA_R_32F, k, &zero, c, CUDA_R_32F, m,
                               CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT_TENSOR_OP),
                  ==, CUBLAS_STATUS_SUCCESS);
  double max_err = 0.0;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      double abs_sum = 0.0;
      for (int p = 0; p < k; p++)
        abs_sum += fabs((double)a[(size_t)p * m + i] * b[(size_t)j * k + p]);
      double err = fabs(c[(size_t)j * m + i] - want[(size_t)j * m + i]);
      g_assert_cmpfloat(err, <=, abs_sum * (2.0 * ldexp(1.0, -11) + ldexp(1.0, -20)));
      max_err = MAX(max_err, err);
    }
  g_assert_cmpfloat(max_err, >, 1e-4); /* float alone stays near 1e-6 here */
  g_free(want);
  dev_free(a);
  dev_free(b);
  dev_free(c);
  blas_clear(&bl);
}

/* bf16 inputs (rounded to nearest even on the way in) with float and with
 * bf16 output. */
static void
test_gemm_bf16(void)
{
  Blas bl;
  blas_init(&bl);
  const int m = 3, n = 4, k = 5;
  float af[15], bf[20], ar[15], br[20];
  fill(af, 15, 41);
  fill(bf, 20, 42);
  uint16_t *a = dev_alloc(2 * 15), *b = dev_alloc(2 * 20), *c16 = dev_alloc(2 * 12);
  float *c32 = dev_alloc(4 * 12);
  for (int i = 0; i < 15; i++) {
    a[i] = sc_emu_float_to_bf16(af[i]);
    ar[i] = sc_emu_bf16_to_float(a[i]);
  }
  for (int i = 0; i < 20; i++) {
    b[i] = sc_emu_float_to_bf16(bf[i]);
    br[i] = sc_emu_bf16_to_float(b[i]);
  }
  double want[12];
  naive_gemm(FALSE, FALSE, m, n, k, 1.0, ar, m, br, k, 0.0, NULL, m, want);
  const float one = 1.0f, zero = 0.0f;
  g_assert_cmpint(cublasGemmEx(bl.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, CUDA_R_16BF,
                               m, b, CUDA_R_16BF, k, &zero, c32, CUDA_R_32F, m,
                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_SUCCESS);
  assert_close("C float", c32, want, 12, 1e-6, 1e-6);
  g_assert_cmpint(cublasGemmEx(bl.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, CUDA_R_16BF,
                               m, b, CUDA_R_16BF, k, &zero, c16, CUDA_R_16BF, m,
                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_SUCCESS);
  for (int i = 0; i < 12; i++)
    g_assert_cmpuint(c16[i], ==, sc_emu_float_to_bf16(c32[i]));
  /* bf16 inputs cannot use a TF32 compute type. */
  capture_begin();
  g_assert_cmpint(cublasGemmEx(bl.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, CUDA_R_16BF,
                               m, b, CUDA_R_16BF, k, &zero, c32, CUDA_R_32F, m,
                               CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_NOT_SUPPORTED);
  assert_captured("compute type");
  dev_free(a);
  dev_free(b);
  dev_free(c16);
  dev_free(c32);
  blas_clear(&bl);
}

static void
test_gemm_strided_batched(void)
{
  Blas bl;
  blas_init(&bl);
  const int m = 3, n = 2, k = 4, batch = 3;
  const long long sa = m * k + 1, sb = k * n, sc = m * n + 2;
  float *a = dev_alloc(sizeof(float) * sa * batch), *b = dev_alloc(sizeof(float) * sb * batch);
  float *c = dev_alloc(sizeof(float) * sc * batch);
  fill(a, (size_t)sa * batch, 51);
  fill(b, (size_t)sb * batch, 52);
  fill(c, (size_t)sc * batch, 53);
  double want[3][8];
  for (int i = 0; i < batch; i++) {
    naive_gemm(TRUE, FALSE, m, n, k, 1.0, a + sa * i, k, b + sb * i, k, 0.5, c + sc * i, m,
               want[i]);
    want[i][6] = c[sc * i + 6];
    want[i][7] = c[sc * i + 7];
  }
  const float one = 1.0f, half = 0.5f;
  g_assert_cmpint(cublasGemmStridedBatchedEx(bl.h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, a,
                                             CUDA_R_32F, k, sa, b, CUDA_R_32F, k, sb, &half,
                                             c, CUDA_R_32F, m, sc, batch, CUBLAS_COMPUTE_32F,
                                             CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_SUCCESS);
  for (int i = 0; i < batch; i++)
    assert_close("batched C", c + sc * i, want[i], 8, 1e-5, 1e-5);
  /* Batches whose outputs overlap are refused. */
  capture_begin();
  g_assert_cmpint(cublasGemmStridedBatchedEx(bl.h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, a,
                                             CUDA_R_32F, k, sa, b, CUDA_R_32F, k, sb, &half,
                                             c, CUDA_R_32F, m, 2, batch, CUBLAS_COMPUTE_32F,
                                             CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_INVALID_VALUE);
  assert_captured("overlaps");
  dev_free(a);
  dev_free(b);
  dev_free(c);
  blas_clear(&bl);
}

/* The documented INVALID_VALUE cases, and the emulator's own: operands
 * that are not device memory of their size, an output over an input. */
static void
test_gemm_refusals(void)
{
  Blas bl;
  blas_init(&bl);
  const int m = 4, n = 3, k = 2;
  float *a = dev_alloc(sizeof(float) * m * k), *b = dev_alloc(sizeof(float) * k * n);
  float *c = dev_alloc(sizeof(float) * m * n);
  fill(a, (size_t)m * k, 61);
  fill(b, (size_t)k * n, 62);
  const float one = 1.0f, zero = 0.0f;
#define GEMM(ta, tb, mm, nn, kk, A, lda, B, ldb, C, ldc)                                     \
  cublasGemmEx(bl.h, ta, tb, mm, nn, kk, &one, A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb, &zero, \
               C, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, a, m, b, k, c, m), ==,
                  CUBLAS_STATUS_SUCCESS);
  capture_begin();
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, a, m - 1, b, k, c, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE); /* lda < m for op N */
  g_assert_cmpint(GEMM(CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, a, k - 1, b, k, c, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE); /* lda < k for op T */
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, a, m, b, k - 1, c, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE); /* ldb < k for op N */
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_T, m, n, k, a, m, b, n - 1, c, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE); /* ldb < n for op T */
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, a, m, b, k, c, m - 1), ==,
                  CUBLAS_STATUS_INVALID_VALUE); /* ldc < m */
  assert_captured("lda");
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, -1, n, k, a, m, b, k, c, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE);
  g_assert_cmpint(GEMM((cublasOperation_t)7, CUBLAS_OP_N, m, n, k, a, m, b, k, c, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE);
  g_assert_cmpint(cublasGemmEx(bl.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, NULL, a, CUDA_R_32F, m,
                               b, CUDA_R_32F, k, &zero, c, CUDA_R_32F, m, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_INVALID_VALUE);
  g_assert_cmpint(cublasGemmEx(NULL, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, CUDA_R_32F, m,
                               b, CUDA_R_32F, k, &zero, c, CUDA_R_32F, m, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT),
                  ==, CUBLAS_STATUS_NOT_INITIALIZED);

  /* A host matrix; B read past its allocation (k one too large for it). */
  float host_a[8];
  fill(host_a, 8, 63);
  capture_begin();
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, host_a, m, b, k, c, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE);
  assert_captured("not device memory");
  g_assert_cmpint(GEMM(CUBLAS_OP_T, CUBLAS_OP_N, m, n, k + 1, a, k + 1, b, k + 1, c, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE);
  /* C over A: in place products are refused. */
  capture_begin();
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, m, k, k, a, m, b, k, a, m), ==,
                  CUBLAS_STATUS_INVALID_VALUE);
  assert_captured("overlaps");
  /* Side by side in one allocation, interleaved by the leading dimension,
   * is not an overlap: A in columns 0..1 of a (2m, .) matrix, C below. */
  float *big = dev_alloc(sizeof(float) * 2 * m * k);
  fill(big, (size_t)2 * m * k, 64);
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, m, k, k, big, 2 * m, b, k, big + m, 2 * m), ==,
                  CUBLAS_STATUS_SUCCESS);
  /* No work: nothing is touched, so nothing is checked but the arguments. */
  g_assert_cmpint(GEMM(CUBLAS_OP_N, CUBLAS_OP_N, 0, n, k, host_a, 1, b, k, c, 1), ==,
                  CUBLAS_STATUS_SUCCESS);
#undef GEMM
  g_assert_cmpstr(cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE), !=,
                  cublasGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED));
  dev_free(big);
  dev_free(a);
  dev_free(b);
  dev_free(c);
  blas_clear(&bl);
}

/* ---- cuDNN ---- */

/* Element offset of (n, c, h, w) in a tensor of layout f, and of filter
 * tap (k, c, r, s) (the same formula: KCRS is NCHW's, KRSC NHWC's). */
static size_t
at4(cudnnTensorFormat_t f, int C, int H, int W, int n, int c, int h, int w)
{
  if (f == CUDNN_TENSOR_NHWC)
    return (((size_t)n * H + h) * W + w) * C + c;
  return (((size_t)n * C + c) * H + h) * W + w;
}

/* One convolution of the CPU backend's (NHWC activations, HWIO weights,
 * symmetric padding) and its cuDNN descriptors in layout fmt. */
typedef struct {
  ScConvDesc d;
  ScBackend *cpu;
  float *x, *w, *dy, *bias;     /* CPU backend memory */
  float *y, *dx, *dw, *db;      /* the CPU backend's results */
  cudnnTensorFormat_t fmt;
  cudnnHandle_t h;
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  float *dev_x, *dev_w, *dev_dy; /* the operands in fmt on the device */
} Conv;

static size_t
conv_x_count(const ScConvDesc *d)
{
  return (size_t)d->batch * d->in_h * d->in_w * d->in_c;
}

static size_t
conv_y_count(const ScConvDesc *d)
{
  return (size_t)d->batch * d->out_h * d->out_w * d->out_c;
}

static size_t
conv_w_count(const ScConvDesc *d)
{
  return (size_t)d->k_h * d->k_w * d->in_c * d->out_c;
}

/* NHWC host data into a device tensor of layout fmt, and back. */
static float *
tensor_to_device(const float *nhwc, cudnnTensorFormat_t fmt, int N, int C, int H, int W)
{
  float *dev = dev_alloc(sizeof(float) * N * C * H * W);
  for (int n = 0; n < N; n++)
    for (int h = 0; h < H; h++)
      for (int w = 0; w < W; w++)
        for (int c = 0; c < C; c++)
          dev[at4(fmt, C, H, W, n, c, h, w)]
            = nhwc[at4(CUDNN_TENSOR_NHWC, C, H, W, n, c, h, w)];
  return dev;
}

static void
tensor_from_device(float *nhwc, const float *dev, cudnnTensorFormat_t fmt, int N, int C,
                   int H, int W)
{
  for (int n = 0; n < N; n++)
    for (int h = 0; h < H; h++)
      for (int w = 0; w < W; w++)
        for (int c = 0; c < C; c++)
          nhwc[at4(CUDNN_TENSOR_NHWC, C, H, W, n, c, h, w)]
            = dev[at4(fmt, C, H, W, n, c, h, w)];
}

/* HWIO weights as a device filter (KCRS or KRSC), and back. */
static float *
filter_to_device(const float *hwio, cudnnTensorFormat_t fmt, const ScConvDesc *d)
{
  float *dev = dev_alloc(sizeof(float) * conv_w_count(d));
  for (int r = 0; r < d->k_h; r++)
    for (int s = 0; s < d->k_w; s++)
      for (int c = 0; c < d->in_c; c++)
        for (int k = 0; k < d->out_c; k++)
          dev[at4(fmt, d->in_c, d->k_h, d->k_w, k, c, r, s)]
            = hwio[(((size_t)r * d->k_w + s) * d->in_c + c) * d->out_c + k];
  return dev;
}

static void
filter_from_device(float *hwio, const float *dev, cudnnTensorFormat_t fmt, const ScConvDesc *d)
{
  for (int r = 0; r < d->k_h; r++)
    for (int s = 0; s < d->k_w; s++)
      for (int c = 0; c < d->in_c; c++)
        for (int k = 0; k < d->out_c; k++)
          hwio[(((size_t)r * d->k_w + s) * d->in_c + c) * d->out_c + k]
            = dev[at4(fmt, d->in_c, d->k_h, d->k_w, k, c, r, s)];
}

/* The CPU backend's convolution with the same padding on both sides (the
 * only kind cuDNN has): pad_h rows above and below, pad_w columns. The
 * descriptor is filled here and the CPU backend made directly, since the
 * engine's sc_backend_new also refers to the CUDA backend, which this
 * program does not link. */
static void
conv_init(Conv *cv, int batch, int in_h, int in_w, int in_c, int out_c, int k_h, int k_w,
          int stride, int pad_h, int pad_w, cudnnTensorFormat_t fmt, guint32 seed)
{
  memset(cv, 0, sizeof(*cv));
  g_autoptr(GError) error = NULL;
  cv->d = (ScConvDesc){ .batch = batch, .in_h = in_h, .in_w = in_w, .in_c = in_c,
                        .out_h = (in_h + 2 * pad_h - k_h) / stride + 1,
                        .out_w = (in_w + 2 * pad_w - k_w) / stride + 1, .out_c = out_c,
                        .k_h = k_h, .k_w = k_w, .stride = stride, .pad_top = pad_h,
                        .pad_left = pad_w, .pad_bottom = pad_h, .pad_right = pad_w };
  const ScConvDesc *d = &cv->d;
  cv->cpu = sc_backend_cpu_new(1, &error);
  g_assert_no_error(error);
  float **bufs[8] = { &cv->x, &cv->w, &cv->dy, &cv->bias, &cv->y, &cv->dx, &cv->dw, &cv->db };
  size_t counts[8] = { conv_x_count(d), conv_w_count(d), conv_y_count(d), d->out_c,
                       conv_y_count(d), conv_x_count(d), conv_w_count(d), d->out_c };
  for (int i = 0; i < 8; i++) {
    *bufs[i] = cv->cpu->ops->alloc(cv->cpu, sizeof(float) * counts[i]);
    g_assert_nonnull(*bufs[i]);
  }
  fill(cv->x, counts[0], seed);
  fill(cv->w, counts[1], seed + 1);
  fill(cv->dy, counts[2], seed + 2);
  memset(cv->bias, 0, sizeof(float) * d->out_c);
  cv->cpu->ops->conv2d_forward(cv->cpu, d, cv->x, cv->w, cv->bias, cv->y);
  cv->cpu->ops->conv2d_backward(cv->cpu, d, cv->x, cv->w, cv->dy, cv->dx, cv->dw, cv->db);
  g_assert_true(cv->cpu->ops->sync(cv->cpu, &error));
  g_assert_no_error(error);

  cv->fmt = fmt;
  g_assert_cmpint(cudnnCreate(&cv->h), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnCreateTensorDescriptor(&cv->xd), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnCreateTensorDescriptor(&cv->yd), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnCreateFilterDescriptor(&cv->wd), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnCreateConvolutionDescriptor(&cv->cd), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetTensor4dDescriptor(cv->xd, fmt, CUDNN_DATA_FLOAT, d->batch, d->in_c,
                                             d->in_h, d->in_w),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetTensor4dDescriptor(cv->yd, fmt, CUDNN_DATA_FLOAT, d->batch,
                                             d->out_c, d->out_h, d->out_w),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetFilter4dDescriptor(cv->wd, CUDNN_DATA_FLOAT, fmt, d->out_c, d->in_c,
                                             d->k_h, d->k_w),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetConvolution2dDescriptor(cv->cd, d->pad_top, d->pad_left, d->stride,
                                                  d->stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                  CUDNN_DATA_FLOAT),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetConvolutionMathType(cv->cd, CUDNN_FMA_MATH), ==,
                  CUDNN_STATUS_SUCCESS);
  int n, c, h, w;
  g_assert_cmpint(cudnnGetConvolution2dForwardOutputDim(cv->cd, cv->xd, cv->wd, &n, &c, &h, &w),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(n, ==, d->batch);
  g_assert_cmpint(c, ==, d->out_c);
  g_assert_cmpint(h, ==, d->out_h);
  g_assert_cmpint(w, ==, d->out_w);
  cv->dev_x = tensor_to_device(cv->x, fmt, d->batch, d->in_c, d->in_h, d->in_w);
  cv->dev_dy = tensor_to_device(cv->dy, fmt, d->batch, d->out_c, d->out_h, d->out_w);
  cv->dev_w = filter_to_device(cv->w, fmt, d);
}

static void
conv_clear(Conv *cv)
{
  float *bufs[8] = { cv->x, cv->w, cv->dy, cv->bias, cv->y, cv->dx, cv->dw, cv->db };
  for (int i = 0; i < 8; i++)
    cv->cpu->ops->free(cv->cpu, bufs[i]);
  cv->cpu->ops->destroy(cv->cpu);
  dev_free(cv->dev_x);
  dev_free(cv->dev_w);
  dev_free(cv->dev_dy);
  cudnnDestroyTensorDescriptor(cv->xd);
  cudnnDestroyTensorDescriptor(cv->yd);
  cudnnDestroyFilterDescriptor(cv->wd);
  cudnnDestroyConvolutionDescriptor(cv->cd);
  cudnnDestroy(cv->h);
}

static void
to_double(const float *f, double *d, size_t n)
{
  for (size_t i = 0; i < n; i++)
    d[i] = f[i];
}

typedef enum {
  FWD,
  BWD_DATA,
  BWD_FILTER,
} Direction;

static cudnnStatus_t
workspace_need(Conv *cv, Direction dir, int algo, size_t *bytes)
{
  switch (dir) {
  case FWD:
    return cudnnGetConvolutionForwardWorkspaceSize(cv->h, cv->xd, cv->wd, cv->cd, cv->yd,
                                                   algo, bytes);
  case BWD_DATA:
    return cudnnGetConvolutionBackwardDataWorkspaceSize(cv->h, cv->wd, cv->yd, cv->cd, cv->xd,
                                                        algo, bytes);
  default:
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(cv->h, cv->xd, cv->yd, cv->cd,
                                                          cv->wd, algo, bytes);
  }
}

/* Runs one direction into out (a device buffer of the output's size). */
static cudnnStatus_t
conv_run(Conv *cv, Direction dir, int algo, void *ws, size_t ws_bytes, float alpha, float beta,
         float *out)
{
  switch (dir) {
  case FWD:
    return cudnnConvolutionForward(cv->h, &alpha, cv->xd, cv->dev_x, cv->wd, cv->dev_w, cv->cd,
                                   algo, ws, ws_bytes, &beta, cv->yd, out);
  case BWD_DATA:
    return cudnnConvolutionBackwardData(cv->h, &alpha, cv->wd, cv->dev_w, cv->yd, cv->dev_dy,
                                        cv->cd, algo, ws, ws_bytes, &beta, cv->xd, out);
  default:
    return cudnnConvolutionBackwardFilter(cv->h, &alpha, cv->xd, cv->dev_x, cv->yd,
                                          cv->dev_dy, cv->cd, algo, ws, ws_bytes, &beta,
                                          cv->wd, out);
  }
}

static size_t
out_count(const Conv *cv, Direction dir)
{
  return dir == FWD ? conv_y_count(&cv->d) : dir == BWD_DATA ? conv_x_count(&cv->d)
                                                             : conv_w_count(&cv->d);
}

/* out (device, layout fmt) back to the CPU backend's layout. */
static void
out_to_host(const Conv *cv, Direction dir, const float *out, float *host)
{
  const ScConvDesc *d = &cv->d;
  if (dir == FWD)
    tensor_from_device(host, out, cv->fmt, d->batch, d->out_c, d->out_h, d->out_w);
  else if (dir == BWD_DATA)
    tensor_from_device(host, out, cv->fmt, d->batch, d->in_c, d->in_h, d->in_w);
  else
    filter_from_device(host, out, cv->fmt, d);
}

static const float *
cpu_result(const Conv *cv, Direction dir)
{
  return dir == FWD ? cv->y : dir == BWD_DATA ? cv->dx : cv->dw;
}

static const int algo_counts[3] = { CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT };
static const char *const dir_names[3] = { "forward", "backward data", "backward filter" };

/* Every direction with every algorithm that supports the shape and needs
 * a workspace of at most 256 MiB, against the CPU backend. The output is
 * poisoned with NaN first: every element must be written. */
static void
check_all_algorithms(Conv *cv)
{
  for (int dir = FWD; dir <= BWD_FILTER; dir++) {
    size_t n = out_count(cv, dir);
    float *out = dev_alloc(sizeof(float) * n), *host = g_new(float, n);
    double *want = g_new(double, n);
    to_double(cpu_result(cv, dir), want, n);
    int ran = 0;
    for (int algo = 0; algo < algo_counts[dir]; algo++) {
      size_t need = 0;
      if (workspace_need(cv, dir, algo, &need) != CUDNN_STATUS_SUCCESS
          || need > ((size_t)256 << 20))
        continue;
      void *ws = need > 0 ? dev_alloc(need) : NULL;
      for (size_t i = 0; i < n; i++)
        out[i] = NAN;
      g_assert_cmpint(conv_run(cv, dir, algo, ws, need, 1.0f, 0.0f, out), ==,
                      CUDNN_STATUS_SUCCESS);
      out_to_host(cv, dir, out, host);
      char what[64];
      g_snprintf(what, sizeof(what), "%s algorithm %d", dir_names[dir], algo);
      assert_close(what, host, want, n, 1e-4, 1e-4);
      if (ws != NULL)
        dev_free(ws);
      ran++;
    }
    g_assert_cmpint(ran, >=, 2);
    g_free(want);
    g_free(host);
    dev_free(out);
  }
}

/* NHWC, padding 1 and stride 2 (7x7 -> 4x4); stride 1 with a 3x3 kernel
 * (Winograd and FFT run too); a non-square valid kernel; and NCHW. */
static void
test_conv_directions(void)
{
  static const struct {
    int batch, h, w, in_c, out_c, k_h, k_w, stride, pad_h, pad_w;
    cudnnTensorFormat_t fmt;
  } cases[] = {
    { 2, 7, 7, 3, 4, 3, 3, 2, 1, 1, CUDNN_TENSOR_NHWC },
    { 2, 6, 5, 6, 5, 3, 3, 1, 1, 1, CUDNN_TENSOR_NHWC },
    { 1, 7, 6, 2, 3, 3, 2, 1, 0, 0, CUDNN_TENSOR_NHWC },
    { 2, 8, 7, 3, 4, 3, 3, 2, 1, 1, CUDNN_TENSOR_NCHW }, /* a row the stride leaves out */
    { 2, 5, 5, 2, 3, 5, 5, 1, 2, 2, CUDNN_TENSOR_NCHW },
    { 1, 6, 6, 2, 2, 1, 1, 2, 0, 0, CUDNN_TENSOR_NHWC },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    Conv cv;
    conv_init(&cv, cases[i].batch, cases[i].h, cases[i].w, cases[i].in_c, cases[i].out_c,
              cases[i].k_h, cases[i].k_w, cases[i].stride, cases[i].pad_h, cases[i].pad_w,
              cases[i].fmt,
              100 + 10 * i);
    check_all_algorithms(&cv);
    conv_clear(&cv);
  }
}

/* y = alpha conv + beta y; beta == 0 does not read y (NaN stays out);
 * CUDNN_CONVOLUTION applies the filter flipped. */
static void
test_conv_alpha_beta_mode(void)
{
  Conv cv;
  conv_init(&cv, 2, 7, 7, 3, 4, 3, 3, 2, 1, 1, CUDNN_TENSOR_NHWC, 300);
  const ScConvDesc *d = &cv.d;
  size_t n = conv_y_count(d);
  float *y = dev_alloc(sizeof(float) * n), *host = g_new(float, n);
  double *want = g_new(double, n);
  fill(y, n, 301);
  float *prior = g_new(float, n);
  tensor_from_device(prior, y, cv.fmt, d->batch, d->out_c, d->out_h, d->out_w);
  for (size_t i = 0; i < n; i++)
    want[i] = 0.5 * cv.y[i] - 2.0 * prior[i];
  g_assert_cmpint(conv_run(&cv, FWD, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0, 0.5f,
                           -2.0f, y),
                  ==, CUDNN_STATUS_SUCCESS);
  tensor_from_device(host, y, cv.fmt, d->batch, d->out_c, d->out_h, d->out_w);
  assert_close("alpha 0.5, beta -2", host, want, n, 1e-4, 1e-4);

  for (size_t i = 0; i < n; i++)
    y[i] = NAN;
  to_double(cv.y, want, n);
  g_assert_cmpint(conv_run(&cv, FWD, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0, 1.0f,
                           0.0f, y),
                  ==, CUDNN_STATUS_SUCCESS);
  tensor_from_device(host, y, cv.fmt, d->batch, d->out_c, d->out_h, d->out_w);
  assert_close("beta 0 over NaN", host, want, n, 1e-4, 1e-4);

  /* The flipped filter under CUDNN_CONVOLUTION gives the same output. */
  float *flipped = g_new(float, conv_w_count(d));
  for (int r = 0; r < d->k_h; r++)
    for (int s = 0; s < d->k_w; s++)
      memcpy(flipped + ((size_t)r * d->k_w + s) * d->in_c * d->out_c,
             cv.w + ((size_t)(d->k_h - 1 - r) * d->k_w + (d->k_w - 1 - s)) * d->in_c * d->out_c,
             sizeof(float) * d->in_c * d->out_c);
  dev_free(cv.dev_w);
  cv.dev_w = filter_to_device(flipped, cv.fmt, d);
  g_assert_cmpint(cudnnSetConvolution2dDescriptor(cv.cd, d->pad_top, d->pad_left, d->stride,
                                                  d->stride, 1, 1, CUDNN_CONVOLUTION,
                                                  CUDNN_DATA_FLOAT),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetConvolutionMathType(cv.cd, CUDNN_FMA_MATH), ==,
                  CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(conv_run(&cv, FWD, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0, 1.0f,
                           0.0f, y),
                  ==, CUDNN_STATUS_SUCCESS);
  tensor_from_device(host, y, cv.fmt, d->batch, d->out_c, d->out_h, d->out_w);
  assert_close("CUDNN_CONVOLUTION, flipped filter", host, want, n, 1e-4, 1e-4);
  /* Its weight gradient comes back flipped too. */
  size_t nw = conv_w_count(d);
  float *dw = dev_alloc(sizeof(float) * nw), *dw_host = g_new(float, nw);
  double *dw_want = g_new(double, nw);
  g_assert_cmpint(conv_run(&cv, BWD_FILTER, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, NULL, 0, 1.0f,
                           0.0f, dw),
                  ==, CUDNN_STATUS_SUCCESS);
  filter_from_device(dw_host, dw, cv.fmt, d);
  for (int r = 0; r < d->k_h; r++)
    for (int s = 0; s < d->k_w; s++)
      for (size_t j = 0; j < (size_t)d->in_c * d->out_c; j++)
        dw_want[((size_t)r * d->k_w + s) * d->in_c * d->out_c + j]
          = cv.dw[((size_t)(d->k_h - 1 - r) * d->k_w + (d->k_w - 1 - s)) * d->in_c * d->out_c
                  + j];
  assert_close("CUDNN_CONVOLUTION weight gradient", dw_host, dw_want, nw, 1e-4, 1e-4);
  g_free(dw_want);
  g_free(dw_host);
  dev_free(dw);
  g_free(flipped);
  g_free(prior);
  g_free(want);
  g_free(host);
  dev_free(y);
  conv_clear(&cv);
}

/* Under the default math type a tensor-core algorithm rounds float inputs
 * to TF32: off from float32 by more than float's own error, within the
 * bound of two 2^-11 relative input errors per product. FMA math, and
 * the algorithm without tensor-core kernels, stay float32. */
static void
test_conv_tf32(void)
{
  Conv cv;
  conv_init(&cv, 2, 6, 6, 8, 4, 3, 3, 1, 1, 1, CUDNN_TENSOR_NHWC, 400);
  const ScConvDesc *d = &cv.d;
  size_t n = conv_y_count(d);
  float *fma = dev_alloc(sizeof(float) * n), *tf32 = dev_alloc(sizeof(float) * n);
  const int precomp = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  size_t need;
  g_assert_cmpint(workspace_need(&cv, FWD, precomp, &need), ==, CUDNN_STATUS_SUCCESS);
  void *ws = dev_alloc(need);
  g_assert_cmpint(conv_run(&cv, FWD, precomp, ws, need, 1.0f, 0.0f, fma), ==,
                  CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetConvolutionMathType(cv.cd, CUDNN_DEFAULT_MATH), ==,
                  CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(conv_run(&cv, FWD, precomp, ws, need, 1.0f, 0.0f, tf32), ==,
                  CUDNN_STATUS_SUCCESS);
  /* The bound: sum of |x w| over the taps times 2^-10 (+ float's error). */
  float *abs_sum = g_new0(float, n);
  for (int b = 0; b < d->batch; b++)
    for (int oh = 0; oh < d->out_h; oh++)
      for (int ow = 0; ow < d->out_w; ow++)
        for (int k = 0; k < d->out_c; k++) {
          double s = 0.0;
          for (int r = 0; r < d->k_h; r++)
            for (int t = 0; t < d->k_w; t++) {
              int ih = oh - d->pad_top + r, iw = ow - d->pad_left + t;
              if (ih < 0 || ih >= d->in_h || iw < 0 || iw >= d->in_w)
                continue;
              for (int c = 0; c < d->in_c; c++)
                s += fabs((double)cv.x[(((size_t)b * d->in_h + ih) * d->in_w + iw) * d->in_c
                                       + c]
                          * cv.w[(((size_t)r * d->k_w + t) * d->in_c + c) * d->out_c + k]);
            }
          abs_sum[(((size_t)b * d->out_h + oh) * d->out_w + ow) * d->out_c + k] = (float)s;
        }
  double max_diff = 0.0;
  for (size_t i = 0; i < n; i++) {
    double diff = fabs((double)tf32[i] - fma[i]);
    g_assert_cmpfloat(diff, <=, abs_sum[i] * (2.0 * ldexp(1.0, -11) + ldexp(1.0, -18)));
    max_diff = MAX(max_diff, diff);
  }
  g_assert_cmpfloat(max_diff, >, 1e-4);
  /* No tensor-core kernels in IMPLICIT_GEMM: float32 whatever the math. */
  g_assert_cmpint(conv_run(&cv, FWD, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0, 1.0f,
                           0.0f, tf32),
                  ==, CUDNN_STATUS_SUCCESS);
  double *want = g_new(double, n);
  to_double(fma, want, n);
  assert_close("IMPLICIT_GEMM under default math", tf32, want, n, 1e-6, 1e-6);
  g_free(want);
  g_free(abs_sum);
  dev_free(ws);
  dev_free(fma);
  dev_free(tf32);
  conv_clear(&cv);
}

/* bf16 operands: the same sums as float32 on the widened values, the
 * result rounded to nearest even. */
static void
test_conv_bf16(void)
{
  Conv cv;
  conv_init(&cv, 2, 7, 7, 3, 4, 3, 3, 2, 1, 1, CUDNN_TENSOR_NHWC, 500);
  const ScConvDesc *d = &cv.d;
  size_t nx = conv_x_count(d), nw = conv_w_count(d), ny = conv_y_count(d);
  /* Float operands rounded to bf16 values, and the same as bf16. */
  uint16_t *x16 = dev_alloc(2 * nx), *w16 = dev_alloc(2 * nw), *y16 = dev_alloc(2 * ny);
  for (size_t i = 0; i < nx; i++) {
    x16[i] = sc_emu_float_to_bf16(cv.dev_x[i]);
    cv.dev_x[i] = sc_emu_bf16_to_float(x16[i]);
  }
  for (size_t i = 0; i < nw; i++) {
    w16[i] = sc_emu_float_to_bf16(cv.dev_w[i]);
    cv.dev_w[i] = sc_emu_bf16_to_float(w16[i]);
  }
  float *y = dev_alloc(sizeof(float) * ny);
  g_assert_cmpint(conv_run(&cv, FWD, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0, 1.0f,
                           0.0f, y),
                  ==, CUDNN_STATUS_SUCCESS);
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
  g_assert_cmpint(cudnnCreateTensorDescriptor(&xd), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnCreateTensorDescriptor(&yd), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnCreateFilterDescriptor(&wd), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NHWC, CUDNN_DATA_BFLOAT16,
                                             d->batch, d->in_c, d->in_h, d->in_w),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NHWC, CUDNN_DATA_BFLOAT16,
                                             d->batch, d->out_c, d->out_h, d->out_w),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_BFLOAT16, CUDNN_TENSOR_NHWC,
                                             d->out_c, d->in_c, d->k_h, d->k_w),
                  ==, CUDNN_STATUS_SUCCESS);
  const float one = 1.0f, zero = 0.0f;
  g_assert_cmpint(cudnnConvolutionForward(cv.h, &one, xd, x16, wd, w16, cv.cd,
                                          CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0,
                                          &zero, yd, y16),
                  ==, CUDNN_STATUS_SUCCESS);
  for (size_t i = 0; i < ny; i++)
    g_assert_cmpuint(y16[i], ==, sc_emu_float_to_bf16(y[i]));
  /* A float filter with bf16 tensors: the data types disagree. */
  capture_begin();
  g_assert_cmpint(cudnnConvolutionForward(cv.h, &one, xd, x16, cv.wd, cv.dev_w, cv.cd,
                                          CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0,
                                          &zero, yd, y16),
                  ==, CUDNN_STATUS_BAD_PARAM);
  assert_captured("data types");
  cudnnDestroyTensorDescriptor(xd);
  cudnnDestroyTensorDescriptor(yd);
  cudnnDestroyFilterDescriptor(wd);
  dev_free(x16);
  dev_free(w16);
  dev_free(y16);
  dev_free(y);
  conv_clear(&cv);
}

/* The query functions: every algorithm, fastest first, with workspace
 * needs that depend on the shape; the one needing none is the slowest,
 * FFT needs more than any sensible limit. Find reports only what fits
 * its workspace and leaves the output overwritten. */
static void
test_conv_algorithm_queries(void)
{
  Conv cv;
  conv_init(&cv, 2, 6, 5, 6, 5, 3, 3, 1, 1, 1, CUDNN_TENSOR_NHWC, 600);
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int n = 0;
  g_assert_cmpint(cudnnGetConvolutionForwardAlgorithm_v7(cv.h, cv.xd, cv.wd, cv.cd, cv.yd,
                                                         CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n,
                                                         perf),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(n, ==, CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  int ok = 0;
  gboolean seen_unsupported = FALSE;
  for (int i = 0; i < n; i++) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) {
      seen_unsupported = TRUE;
      continue;
    }
    g_assert_false(seen_unsupported); /* successes first */
    if (ok > 0)
      g_assert_cmpfloat(perf[i].time, >=, perf[i - 1].time);
    ok++;
  }
  g_assert_cmpint(ok, >=, 4);
  g_assert_cmpint(perf[0].algo, ==, CUDNN_CONVOLUTION_FWD_ALGO_FFT);
  g_assert_cmpuint(perf[0].memory, >, (size_t)8 << 30);
  g_assert_cmpint(perf[ok - 1].algo, ==, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
  g_assert_cmpuint(perf[ok - 1].memory, ==, 0);
  g_assert_cmpint(perf[ok - 1].mathType, ==, CUDNN_FMA_MATH);

  /* The columns' workspace grows with the image. */
  size_t small, large;
  g_assert_cmpint(workspace_need(&cv, FWD, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &small), ==,
                  CUDNN_STATUS_SUCCESS);
  Conv big;
  conv_init(&big, 2, 12, 10, 6, 5, 3, 3, 1, 1, 1, CUDNN_TENSOR_NHWC, 601);
  g_assert_cmpint(workspace_need(&big, FWD, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &large), ==,
                  CUDNN_STATUS_SUCCESS);
  g_assert_cmpuint(large, ==, 4 * small);
  conv_clear(&big);

  /* Find with 1 MiB: FFT does not fit, the output is garbage after. */
  const size_t ws_bytes = (size_t)1 << 20;
  void *ws = dev_alloc(ws_bytes);
  size_t ny = conv_y_count(&cv.d);
  float *y = dev_alloc(sizeof(float) * ny);
  for (size_t i = 0; i < ny; i++)
    y[i] = 1.0f;
  g_assert_cmpint(cudnnFindConvolutionForwardAlgorithmEx(cv.h, cv.xd, cv.dev_x, cv.wd,
                                                         cv.dev_w, cv.cd, cv.yd, y,
                                                         CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n,
                                                         perf, ws, ws_bytes),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(perf[0].status, ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(perf[0].algo, !=, CUDNN_CONVOLUTION_FWD_ALGO_FFT);
  for (int i = 0; i < n; i++)
    if (perf[i].status == CUDNN_STATUS_SUCCESS)
      g_assert_cmpuint(perf[i].memory, <=, ws_bytes);
    else if (perf[i].algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT)
      g_assert_cmpuint(perf[i].memory, >, ws_bytes);
  size_t changed = 0;
  for (size_t i = 0; i < ny; i++)
    changed += y[i] != 1.0f;
  g_assert_cmpuint(changed, >, ny / 2);

  /* Backward data and filter: the same ordering rules. */
  cudnnConvolutionBwdDataAlgoPerf_t dperf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  g_assert_cmpint(cudnnGetConvolutionBackwardDataAlgorithm_v7(
                    cv.h, cv.wd, cv.yd, cv.cd, cv.xd, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                    &n, dperf),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(n, ==, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
  g_assert_cmpint(dperf[0].status, ==, CUDNN_STATUS_SUCCESS);
  cudnnConvolutionBwdFilterAlgoPerf_t fperf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  float *dw = dev_alloc(sizeof(float) * conv_w_count(&cv.d));
  g_assert_cmpint(cudnnFindConvolutionBackwardFilterAlgorithmEx(
                    cv.h, cv.xd, cv.dev_x, cv.yd, cv.dev_dy, cv.cd, cv.wd, dw,
                    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, fperf, ws, ws_bytes),
                  ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(fperf[0].status, ==, CUDNN_STATUS_SUCCESS);
  for (int i = 0; i < n; i++)
    if (fperf[i].algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD)
      g_assert_cmpint(fperf[i].status, !=, CUDNN_STATUS_SUCCESS);
  dev_free(dw);
  dev_free(y);
  dev_free(ws);
  g_assert_cmpuint(cudnnGetVersion(), ==, CUDNN_VERSION);
  g_assert_cmpstr(cudnnGetErrorString(CUDNN_STATUS_BAD_PARAM), ==, "CUDNN_STATUS_BAD_PARAM");
  conv_clear(&cv);
}

/* Documented errors and the emulator's own refusals, each with a reason. */
static void
test_conv_refusals(void)
{
  Conv cv;
  conv_init(&cv, 2, 7, 7, 3, 4, 3, 3, 2, 1, 1, CUDNN_TENSOR_NHWC, 700);
  const ScConvDesc *d = &cv.d;
  float *y = dev_alloc(sizeof(float) * conv_y_count(d));
  const int gemm = CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
  size_t need;
  g_assert_cmpint(workspace_need(&cv, FWD, gemm, &need), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpuint(need, >, 0);
  void *ws = dev_alloc(need);

  /* A workspace one byte short, a host workspace, none at all. */
  capture_begin();
  g_assert_cmpint(conv_run(&cv, FWD, gemm, ws, need - 1, 1.0f, 0.0f, y), ==,
                  CUDNN_STATUS_BAD_PARAM);
  assert_captured("workspace of");
  void *host_ws = g_malloc(need);
  capture_begin();
  g_assert_cmpint(conv_run(&cv, FWD, gemm, host_ws, need, 1.0f, 0.0f, y), ==,
                  CUDNN_STATUS_BAD_PARAM);
  assert_captured("workspace is not device memory");
  g_free(host_ws);
  g_assert_cmpint(conv_run(&cv, FWD, gemm, NULL, 0, 1.0f, 0.0f, y), ==,
                  CUDNN_STATUS_BAD_PARAM);
  g_assert_cmpint(conv_run(&cv, FWD, gemm, ws, need, 1.0f, 0.0f, y), ==,
                  CUDNN_STATUS_SUCCESS);

  /* An output too small for its descriptor; an output over an input. */
  float *short_y = dev_alloc(sizeof(float) * (conv_y_count(d) - 1));
  capture_begin();
  g_assert_cmpint(conv_run(&cv, FWD, gemm, ws, need, 1.0f, 0.0f, short_y), ==,
                  CUDNN_STATUS_BAD_PARAM);
  assert_captured("y is not device memory");
  dev_free(short_y);
  float *dx = dev_alloc(sizeof(float) * conv_x_count(d));
  capture_begin();
  g_assert_cmpint(conv_run(&cv, FWD, gemm, ws, need, 1.0f, 0.0f, cv.dev_x), ==,
                  CUDNN_STATUS_BAD_PARAM); /* y inside x's allocation */
  assert_captured("overlaps");

  /* Winograd needs stride 1; algorithm 42 does not exist. */
  g_assert_cmpint(conv_run(&cv, FWD, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, ws, need, 1.0f, 0.0f,
                           y),
                  ==, CUDNN_STATUS_NOT_SUPPORTED);
  g_assert_cmpint(workspace_need(&cv, FWD, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, &need), ==,
                  CUDNN_STATUS_NOT_SUPPORTED);
  g_assert_cmpint(conv_run(&cv, FWD, 42, ws, need, 1.0f, 0.0f, y), ==, CUDNN_STATUS_BAD_PARAM);

  /* Channels of the input and the filter disagree. */
  cudnnFilterDescriptor_t wd5;
  g_assert_cmpint(cudnnCreateFilterDescriptor(&wd5), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetFilter4dDescriptor(wd5, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC,
                                             d->out_c, d->in_c + 1, d->k_h, d->k_w),
                  ==, CUDNN_STATUS_SUCCESS);
  int n, c, h, w;
  capture_begin();
  g_assert_cmpint(cudnnGetConvolution2dForwardOutputDim(cv.cd, cv.xd, wd5, &n, &c, &h, &w), ==,
                  CUDNN_STATUS_BAD_PARAM);
  assert_captured("channels");
  const float one = 1.0f, zero = 0.0f;
  g_assert_cmpint(cudnnConvolutionForward(cv.h, &one, cv.xd, cv.dev_x, wd5, cv.dev_w, cv.cd,
                                          CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0,
                                          &zero, cv.yd, y),
                  ==, CUDNN_STATUS_BAD_PARAM);
  cudnnDestroyFilterDescriptor(wd5);

  /* An output of the wrong size: forward NOT_SUPPORTED, backward data
   * BAD_PARAM, as documented. */
  cudnnTensorDescriptor_t yd_big;
  g_assert_cmpint(cudnnCreateTensorDescriptor(&yd_big), ==, CUDNN_STATUS_SUCCESS);
  g_assert_cmpint(cudnnSetTensor4dDescriptor(yd_big, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
                                             d->batch, d->out_c, d->out_h + 1, d->out_w),
                  ==, CUDNN_STATUS_SUCCESS);
  float *y_big = dev_alloc(sizeof(float) * d->batch * d->out_c * (d->out_h + 1) * d->out_w);
  capture_begin();
  g_assert_cmpint(cudnnConvolutionForward(cv.h, &one, cv.xd, cv.dev_x, cv.wd, cv.dev_w, cv.cd,
                                          CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0,
                                          &zero, yd_big, y_big),
                  ==, CUDNN_STATUS_NOT_SUPPORTED);
  assert_captured("the convolution gives");
  g_assert_cmpint(cudnnConvolutionBackwardData(cv.h, &one, cv.wd, cv.dev_w, yd_big, y_big,
                                               cv.cd, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, NULL,
                                               0, &zero, cv.xd, dx),
                  ==, CUDNN_STATUS_BAD_PARAM);
  cudnnDestroyTensorDescriptor(yd_big);
  dev_free(y_big);

  /* Descriptor values. */
  g_assert_cmpint(cudnnSetConvolution2dDescriptor(cv.cd, -1, 0, 1, 1, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                  ==, CUDNN_STATUS_BAD_PARAM);
  g_assert_cmpint(cudnnSetConvolution2dDescriptor(cv.cd, 0, 0, 0, 1, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                  ==, CUDNN_STATUS_BAD_PARAM);
  g_assert_cmpint(cudnnSetTensor4dDescriptor(cv.xd, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 0, 1,
                                             1, 1),
                  ==, CUDNN_STATUS_BAD_PARAM);
  g_assert_cmpint(cudnnSetConvolutionMathType(cv.cd, (cudnnMathType_t)9), ==,
                  CUDNN_STATUS_BAD_PARAM);
  dev_free(dx);
  dev_free(ws);
  dev_free(y);
  conv_clear(&cv);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  captured = g_string_new(NULL);
  g_log_set_handler(NULL, G_LOG_LEVEL_MESSAGE, capture_message, NULL);
  g_test_add_func("/emulated-libs/cublas/transposes", test_gemm_transposes);
  g_test_add_func("/emulated-libs/cublas/beta-zero-nan", test_gemm_beta_zero_nan);
  g_test_add_func("/emulated-libs/cublas/input-rounding", test_gemm_input_rounding);
  g_test_add_func("/emulated-libs/cublas/tf32-error", test_gemm_tf32_error);
  g_test_add_func("/emulated-libs/cublas/bf16", test_gemm_bf16);
  g_test_add_func("/emulated-libs/cublas/strided-batched", test_gemm_strided_batched);
  g_test_add_func("/emulated-libs/cublas/refusals", test_gemm_refusals);
  g_test_add_func("/emulated-libs/cudnn/directions", test_conv_directions);
  g_test_add_func("/emulated-libs/cudnn/alpha-beta-mode", test_conv_alpha_beta_mode);
  g_test_add_func("/emulated-libs/cudnn/tf32", test_conv_tf32);
  g_test_add_func("/emulated-libs/cudnn/bf16", test_conv_bf16);
  g_test_add_func("/emulated-libs/cudnn/algorithm-queries", test_conv_algorithm_queries);
  g_test_add_func("/emulated-libs/cudnn/refusals", test_conv_refusals);
  int rc = g_test_run();
  g_string_free(captured, TRUE);
  return rc;
}
