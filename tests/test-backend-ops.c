/* The CPU backend's non-convolution operations against plain double loops:
 * memory, gemm (all four transposes, alpha, beta, leading dimensions),
 * bias, ReLU and Adam.
 *
 * Tolerances (|got - want| <= abs + rel * |want|):
 *   gemm: abs 1e-5 * k, rel 1e-5 (float sums of k products of values in [-1, 1])
 *   bias_add, relu: exact; bias_grad: abs 1e-6 * rows, rel 1e-6
 *   adam: abs 1e-7, rel 2e-6 over two steps (float against the same formula in double) */
#include "backend.h"
#include "sc-error.h"
#include "test-util.h"

#include <math.h>
#include <string.h>

static ScBackend *
backend_new(void)
{
  g_autoptr(GError) error = NULL;
  ScBackend *be = sc_backend_cpu_new(2, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(be->ops->name, ==, "cpu");
  return be;
}

static float *
alloc_floats(ScBackend *be, size_t n)
{
  float *p = be->ops->alloc(be, n * sizeof(float));
  g_assert_nonnull(p);
  return p;
}

static void
fill_uniform(GRand *rand, float *p, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (float)g_rand_double_range(rand, lo, hi);
}

static void
test_memory(void)
{
  ScBackend *be = backend_new();
  const size_t sizes[] = { 1, 3, 64, 1000, 1 << 20 };
  for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
    size_t n = sizes[s];
    uint8_t *host = g_malloc(n), *back = g_malloc(n);
    for (size_t i = 0; i < n; i++)
      host[i] = (uint8_t)(i * 7 + s);
    uint8_t *a = be->ops->alloc(be, n), *b = be->ops->alloc(be, n);
    g_assert_nonnull(a);
    g_assert_cmpuint((uintptr_t)a % 64, ==, 0);
    g_assert_cmpuint((uintptr_t)b % 64, ==, 0);
    be->ops->upload(be, a, host, n);
    be->ops->copy(be, b, a, n);
    be->ops->download(be, back, b, n);
    g_assert_cmpmem(back, n, host, n);
    be->ops->zero(be, b, n);
    be->ops->download(be, back, b, n);
    for (size_t i = 0; i < n; i++)
      g_assert_cmpuint(back[i], ==, 0);
    be->ops->free(be, a);
    be->ops->free(be, b);
    g_free(host);
    g_free(back);
  }
  g_assert_true(be->ops->sync(be, NULL));
  sc_backend_free(be);
}

static void
test_bad_threads(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_null(sc_backend_cpu_new(-1, &error));
  g_assert_error(error, SC_BACKEND_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "-1"));
}

/* A (rows, cols) matrix stored with leading dimension ld >= cols. */
static double
at(const float *p, int ld, int r, int c)
{
  return p[(size_t)r * ld + c];
}

static void
check_gemm(ScBackend *be, GRand *rand, bool ta, bool tb, int m, int n, int k, float alpha,
           float beta, gboolean c_is_garbage)
{
  /* Stored shapes: A is (m, k) or (k, m) when transposed; B (k, n) or (n, k).
   * Leading dimensions are wider than the rows to catch stride mistakes. */
  int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  int lda = a_cols + 3, ldb = b_cols + 5, ldc = n + 2;
  float *a = alloc_floats(be, (size_t)a_rows * lda), *b = alloc_floats(be, (size_t)b_rows * ldb);
  float *c = alloc_floats(be, (size_t)m * ldc);
  fill_uniform(rand, a, (size_t)a_rows * lda, -1, 1);
  fill_uniform(rand, b, (size_t)b_rows * ldb, -1, 1);
  fill_uniform(rand, c, (size_t)m * ldc, -1, 1);
  if (c_is_garbage) /* beta = 0 must not read C: fresh memory may hold NaN */
    for (size_t i = 0; i < (size_t)m * ldc; i++)
      c[i] = NAN;

  float *c_orig = g_memdup2(c, (size_t)m * ldc * sizeof(float));
  double *want = g_new(double, (size_t)m * n);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double sum = 0.0;
      for (int p = 0; p < k; p++)
        sum += (ta ? at(a, lda, p, i) : at(a, lda, i, p))
               * (tb ? at(b, ldb, j, p) : at(b, ldb, p, j));
      double old = c_is_garbage ? 0.0 : at(c, ldc, i, j);
      want[(size_t)i * n + j] = alpha * sum + beta * old;
    }
  be->ops->gemm(be, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  g_autofree char *what = g_strdup_printf("gemm %c%c %dx%dx%d alpha %g beta %g",
                                          ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, beta);
  for (int i = 0; i < m; i++) {
    sc_test_assert_close_f(what, c + (size_t)i * ldc, want + (size_t)i * n, n, 1e-5 * k, 1e-5);
    /* Columns past n belong to someone else: untouched, bit for bit. */
    g_assert_cmpmem(c + (size_t)i * ldc + n, (ldc - n) * sizeof(float),
                    c_orig + (size_t)i * ldc + n, (ldc - n) * sizeof(float));
  }
  g_free(want);
  g_free(c_orig);
  be->ops->free(be, a);
  be->ops->free(be, b);
  be->ops->free(be, c);
}

static void
test_gemm(void)
{
  ScBackend *be = backend_new();
  GRand *rand = g_rand_new_with_seed(11);
  for (int t = 0; t < 4; t++) {
    bool ta = t & 1, tb = t & 2;
    check_gemm(be, rand, ta, tb, 5, 7, 9, 0.7f, -1.3f, FALSE);
    check_gemm(be, rand, ta, tb, 1, 1, 1, 2.0f, 0.5f, FALSE);
    check_gemm(be, rand, ta, tb, 130, 67, 300, 1.0f, 0.0f, TRUE);
    check_gemm(be, rand, ta, tb, 33, 129, 17, -0.25f, 1.0f, FALSE);
  }
  g_rand_free(rand);
  sc_backend_free(be);
}

static void
test_bias(void)
{
  ScBackend *be = backend_new();
  GRand *rand = g_rand_new_with_seed(12);
  const int shapes[][2] = { { 1, 1 }, { 37, 13 }, { 1050, 128 }, { 3000, 10 } };
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    int rows = shapes[s][0], cols = shapes[s][1];
    size_t n = (size_t)rows * cols;
    float *y = alloc_floats(be, n), *bias = alloc_floats(be, cols);
    float *orig = g_new(float, n), *db = alloc_floats(be, cols);
    fill_uniform(rand, y, n, -1, 1);
    fill_uniform(rand, bias, cols, -1, 1);
    memcpy(orig, y, n * sizeof(float));
    be->ops->bias_add(be, rows, cols, y, bias);
    for (size_t i = 0; i < n; i++)
      g_assert_cmpfloat(y[i], ==, orig[i] + bias[i % cols]);

    /* The column sums of orig, in double. */
    double *want = g_new0(double, cols);
    for (size_t i = 0; i < n; i++)
      want[i % cols] += orig[i];
    db[0] = NAN; /* overwritten, not accumulated */
    be->ops->bias_grad(be, rows, cols, orig, db);
    sc_test_assert_close_f("bias_grad", db, want, cols, 1e-6 * rows, 1e-6);
    g_free(want);
    g_free(orig);
    be->ops->free(be, y);
    be->ops->free(be, bias);
    be->ops->free(be, db);
  }
  g_rand_free(rand);
  sc_backend_free(be);
}

static void
test_relu(void)
{
  ScBackend *be = backend_new();
  GRand *rand = g_rand_new_with_seed(13);
  /* Small runs on one thread, the large one through OpenMP. */
  const size_t sizes[] = { 1, 17, 1000, 300001 };
  for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
    size_t n = sizes[s];
    float *x = alloc_floats(be, n), *y = alloc_floats(be, n), *dy = alloc_floats(be, n);
    float *dx = alloc_floats(be, n), *copy = g_new(float, n);
    fill_uniform(rand, x, n, -1, 1);
    fill_uniform(rand, dy, n, -1, 1);
    if (n > 4) {
      x[1] = 0.0f; /* ReLU'(0) = 0, as TensorFlow takes it */
      x[2] = -0.0f;
      x[3] = 1e-30f;
    }
    be->ops->relu_forward(be, n, x, y);
    for (size_t i = 0; i < n; i++) {
      g_assert_cmpfloat(y[i], ==, x[i] > 0 ? x[i] : 0.0f);
      g_assert_false(signbit(y[i]));
    }
    be->ops->relu_backward(be, n, y, dy, dx);
    for (size_t i = 0; i < n; i++)
      g_assert_cmpfloat(dx[i], ==, x[i] > 0 ? dy[i] : 0.0f);

    /* In place: y == x and dx == dy give the same values. */
    memcpy(copy, x, n * sizeof(float));
    be->ops->relu_forward(be, n, copy, copy);
    g_assert_cmpmem(copy, n * sizeof(float), y, n * sizeof(float));
    be->ops->relu_backward(be, n, y, dy, dy);
    g_assert_cmpmem(dy, n * sizeof(float), dx, n * sizeof(float));
    float *bufs[] = { x, y, dy, dx };
    for (int i = 0; i < 4; i++)
      be->ops->free(be, bufs[i]);
    g_free(copy);
  }
  g_rand_free(rand);
  sc_backend_free(be);
}

static void
test_adam(void)
{
  ScBackend *be = backend_new();
  GRand *rand = g_rand_new_with_seed(14);
  const size_t sizes[] = { 5, 100003 };
  const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-7f;
  for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
    size_t n = sizes[s];
    float *p = alloc_floats(be, n), *g = alloc_floats(be, n);
    float *m = alloc_floats(be, n), *v = alloc_floats(be, n);
    double *pd = g_new(double, n), *md = g_new0(double, n), *vd = g_new0(double, n);
    fill_uniform(rand, p, n, -1, 1);
    for (size_t i = 0; i < n; i++)
      pd[i] = p[i];
    float *p_first = g_memdup2(p, n * sizeof(float));
    be->ops->zero(be, m, n * sizeof(float));
    be->ops->zero(be, v, n * sizeof(float));
    for (int step = 1; step <= 2; step++) {
      fill_uniform(rand, g, n, -2, 2);
      if (step == 2)
        g[0] = 0.0f; /* a zero gradient still moves p through the moments */
      /* Keras's bias-corrected step size, 1e-3 * sqrt(1 - b2^t) / (1 - b1^t). */
      double lr_t = 1e-3 * sqrt(1 - pow(beta2, step)) / (1 - pow(beta1, step));
      be->ops->adam_update(be, n, p, g, m, v, (float)lr_t, beta1, beta2, eps);
      for (size_t i = 0; i < n; i++) {
        double gi = g[i];
        md[i] += (1 - (double)beta1) * (gi - md[i]);
        vd[i] += (1 - (double)beta2) * (gi * gi - vd[i]);
        pd[i] -= lr_t * md[i] / (sqrt(vd[i]) + eps);
      }
      if (step == 1) {
        /* Adam's first step moves each parameter by lr: m / sqrt(v) = sign(g),
         * once g is large enough that epsilon does not matter. */
        for (size_t i = 0; i < n; i++)
          if (fabsf(g[i]) > 0.01f)
            g_assert_cmpfloat_with_epsilon(p_first[i] - p[i], copysign(1e-3, g[i]), 1e-6);
      }
      sc_test_assert_close_f("adam m", m, md, n, 1e-7, 2e-6);
      sc_test_assert_close_f("adam v", v, vd, n, 1e-7, 2e-6);
      sc_test_assert_close_f("adam params", p, pd, n, 1e-7, 2e-6);
    }
    be->ops->free(be, p);
    be->ops->free(be, g);
    be->ops->free(be, m);
    be->ops->free(be, v);
    g_free(p_first);
    g_free(pd);
    g_free(md);
    g_free(vd);
  }
  g_rand_free(rand);
  sc_backend_free(be);
}

/* Backend names: the CUDA ones are known even where this build or machine
 * cannot give them, and then say why. */
static void
test_backend_names(void)
{
  const char *valid[] = { "cpu", "cuda", "cuda-fp32", "cuda-tf32", "cuda-bf16" };
  for (size_t i = 0; i < G_N_ELEMENTS(valid); i++)
    g_assert_true(sc_backend_name_valid(valid[i]));
  const char *invalid[] = { "", "CUDA", "cuda-", "cuda-fp16", "gpu", "cpu-bf16" };
  for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
    g_assert_false(sc_backend_name_valid(invalid[i]));
    g_autoptr(GError) error = NULL;
    g_assert_null(sc_backend_new(invalid[i], 0, &error));
    g_assert_error(error, SC_BACKEND_ERROR, SC_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "cuda-bf16"));
  }
  g_autoptr(GError) error = NULL;
  ScBackend *be = sc_backend_new("cuda-bf16", 0, &error);
  if (be == NULL)
    g_assert_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED);
  sc_backend_free(be);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/BackendOps/memory", test_memory);
  g_test_add_func("/BackendOps/names", test_backend_names);
  g_test_add_func("/BackendOps/bad-threads", test_bad_threads);
  g_test_add_func("/BackendOps/gemm", test_gemm);
  g_test_add_func("/BackendOps/bias", test_bias);
  g_test_add_func("/BackendOps/relu", test_relu);
  g_test_add_func("/BackendOps/adam", test_adam);
  return g_test_run();
}
