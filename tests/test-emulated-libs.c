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
  int rc = g_test_run();
  g_string_free(captured, TRUE);
  return rc;
}
