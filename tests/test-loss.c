/* Losses: NT-Xent (both variants) and sparse softmax cross-entropy against
 * the reference numbers, double-precision implementations written from the
 * formulas, finite differences and the edge cases of reference section 5. */
#include "loss.h"
#include "sc-error.h"
#include "test-util.h"

#include <math.h>
#include <string.h>

#define NORM_EPS 1e-7

/* An alias so g_autoptr frees backends here without claiming the name
 * ScBackend's cleanup in backend.h might take one day. */
typedef ScBackend TestBackend;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestBackend, sc_backend_free)

static ScBackend *
cpu_backend(void)
{
  g_autoptr(GError) error = NULL;
  ScBackend *be = sc_backend_cpu_new(0, &error);
  g_assert_no_error(error);
  g_assert_nonnull(be);
  return be;
}

/* Runs NT-Xent through the dispatch; dp1/dp2 may be NULL. */
static int64_t
run_ntxent(ScBackend *be, ScNtxentVariant variant, int b, int d, float t, const float *p1,
           const float *p2, float *loss, float *dp1, float *dp2)
{
  g_autoptr(GError) error = NULL;
  int64_t correct = -1;
  ScNtxentArgs args = { .batch = b, .dim = d, .temperature = t, .variant = variant,
                        .p1 = p1, .p2 = p2, .loss = loss, .dp1 = dp1, .dp2 = dp2,
                        .n_correct = &correct };
  g_assert_true(sc_ntxent(be, &args, &error));
  g_assert_no_error(error);
  return correct;
}

/* z = p / max(||p||, eps), in double, (rows, d). */
static void
naive_normalize(int rows, int d, const double *p, double *z)
{
  for (int r = 0; r < rows; r++) {
    double sq = 0;
    for (int k = 0; k < d; k++)
      sq += p[r * d + k] * p[r * d + k];
    double norm = MAX(sqrt(sq), NORM_EPS);
    for (int k = 0; k < d; k++)
      z[r * d + k] = p[r * d + k] / norm;
  }
}

static double
dot(int d, const double *a, const double *b)
{
  double s = 0;
  for (int k = 0; k < d; k++)
    s += a[k] * b[k];
  return s;
}

/* The Keras example's loss straight from section 5.2, in double: returns the
 * sum over samples, fills loss (b) when not NULL. */
static double
naive_cross_view(int b, int d, double t, const double *p1, const double *p2, double *loss)
{
  g_autofree double *z1 = g_new(double, b * d);
  g_autofree double *z2 = g_new(double, b * d);
  g_autofree double *s = g_new(double, b * b);
  naive_normalize(b, d, p1, z1);
  naive_normalize(b, d, p2, z2);
  for (int i = 0; i < b; i++)
    for (int k = 0; k < b; k++)
      s[i * b + k] = dot(d, z1 + i * d, z2 + k * d) / t;

  double sum = 0;
  for (int i = 0; i < b; i++) {
    double rmax = -INFINITY, cmax = -INFINITY, rsum = 0, csum = 0;
    for (int k = 0; k < b; k++) {
      rmax = MAX(rmax, s[i * b + k]);
      cmax = MAX(cmax, s[k * b + i]);
    }
    for (int k = 0; k < b; k++) {
      rsum += exp(s[i * b + k] - rmax);
      csum += exp(s[k * b + i] - cmax);
    }
    double l12 = rmax + log(rsum) - s[i * b + i];
    double l21 = cmax + log(csum) - s[i * b + i];
    double li = 0.5 * (l12 + l21);
    if (loss != NULL)
      loss[i] = li;
    sum += li;
  }
  return sum;
}

/* The SimCLR paper's NT-Xent as its section 2.1 writes it: 2N views with
 * pairs (2k, 2k+1) (0-based), a 2N x 2N similarity with -inf on the
 * diagonal, l(i, j) = -log(exp(s_ij) / sum_{k != i} exp(s_ik)),
 * L = 1/(2N) sum_k [l(2k, 2k+1) + l(2k+1, 2k)]. Returns L; loss (n) gets
 * each image's (l(2k, 2k+1) + l(2k+1, 2k)) / 2. */
static double
paper_ntxent(int n, int d, double t, const double *p1, const double *p2, double *loss)
{
  const int v = 2 * n;
  g_autofree double *x = g_new(double, v * d);
  g_autofree double *z = g_new(double, v * d);
  g_autofree double *s = g_new(double, v * v);
  for (int k = 0; k < n; k++)
    for (int c = 0; c < d; c++) {
      x[(2 * k) * d + c] = p1[k * d + c];
      x[(2 * k + 1) * d + c] = p2[k * d + c];
    }
  naive_normalize(v, d, x, z);
  for (int i = 0; i < v; i++)
    for (int j = 0; j < v; j++)
      s[i * v + j] = i == j ? -INFINITY : dot(d, z + i * d, z + j * d) / t;

  double total = 0;
  for (int k = 0; k < n; k++) {
    double pair = 0;
    for (int e = 0; e < 2; e++) {
      int i = 2 * k + e, j = 2 * k + 1 - e;
      double m = -INFINITY, sum = 0;
      for (int c = 0; c < v; c++)
        m = MAX(m, s[i * v + c]);
      for (int c = 0; c < v; c++)
        sum += exp(s[i * v + c] - m); /* exp(-inf) = 0 drops the anchor */
      pair += -(s[i * v + j] - (m + log(sum)));
    }
    if (loss != NULL)
      loss[k] = pair / 2;
    total += pair;
  }
  return total / v;
}

/* Sum over samples of the naive loss of the given variant. */
static double
naive_sum(ScNtxentVariant variant, int b, int d, double t, const double *p1,
          const double *p2, double *loss)
{
  if (variant == SC_NTXENT_FULL)
    return b * paper_ntxent(b, d, t, p1, p2, loss);
  return naive_cross_view(b, d, t, p1, p2, loss);
}

static double
gauss(GRand *rng)
{
  double u = g_rand_double_range(rng, 1e-12, 1.0), w = g_rand_double(rng);
  return sqrt(-2.0 * log(u)) * cos(2.0 * G_PI * w);
}

static void
random_rows(GRand *rng, int rows, int d, float *p)
{
  for (int i = 0; i < rows * d; i++)
    p[i] = (float)gauss(rng);
}

static void
scale_row(float *p, int d, int row, double norm)
{
  double sq = 0;
  for (int k = 0; k < d; k++)
    sq += (double)p[row * d + k] * p[row * d + k];
  for (int k = 0; k < d; k++)
    p[row * d + k] = (float)(p[row * d + k] * norm / sqrt(sq));
}

static double *
to_double(const float *x, size_t n)
{
  double *y = g_new(double, n);
  for (size_t i = 0; i < n; i++)
    y[i] = x[i];
  return y;
}

/* ---- reference numbers ---- */

static void
check_ntxent_reference(const char *temp)
{
  g_autoptr(TestBackend) be = cpu_backend();
  size_t n1, n2, n;
  g_autofree double *p1d = sc_test_reference_array("ntxent/P1", &n1);
  g_autofree double *p2d = sc_test_reference_array("ntxent/P2", &n2);
  int b = (int)sc_test_reference_double("ntxent/B");
  int d = (int)sc_test_reference_double("ntxent/D");
  g_assert_cmpuint(n1, ==, (size_t)(b * d));
  g_assert_cmpuint(n2, ==, n1);
  float p1[12], p2[12], loss[4], fwd_loss[4], dp1[12], dp2[12];
  for (size_t i = 0; i < n1; i++) {
    p1[i] = (float)p1d[i];
    p2[i] = (float)p2d[i];
  }

  g_autofree char *base = g_strdup_printf("ntxent/by_temperature/%s", temp);
  g_autofree char *tpath = g_strconcat(base, "/temperature", NULL);
  float t = (float)sc_test_reference_double(tpath);

  int64_t correct = run_ntxent(be, SC_NTXENT_CROSS_VIEW, b, d, t, p1, p2, loss, dp1, dp2);
  int64_t fwd_correct = run_ntxent(be, SC_NTXENT_CROSS_VIEW, b, d, t, p1, p2, fwd_loss,
                                   NULL, NULL);

  g_autofree char *lpath = g_strconcat(base, "/loss_per_sample", NULL);
  g_autofree double *want_loss = sc_test_reference_array(lpath, &n);
  g_assert_cmpuint(n, ==, (size_t)b);
  sc_test_assert_close_f("loss_per_sample", loss, want_loss, n, 2e-6, 2e-6);
  /* Forward-only gives the same numbers. */
  for (int i = 0; i < b; i++)
    g_assert_cmpfloat(fwd_loss[i], ==, loss[i]);

  double sum = 0;
  for (int i = 0; i < b; i++)
    sum += loss[i];
  g_autofree char *spath = g_strconcat(base, "/loss_sum", NULL);
  g_assert_cmpfloat_with_epsilon(sum, sc_test_reference_double(spath), 1e-5);

  /* The JSON's gradients are of the mean; ours are of the sum (B times). */
  const char *names[2] = { "dloss_mean_dP1", "dloss_mean_dP2" };
  float *got[2] = { dp1, dp2 };
  for (int v = 0; v < 2; v++) {
    g_autofree char *gpath = g_strconcat(base, "/", names[v], NULL);
    g_autofree double *want = sc_test_reference_array(gpath, &n);
    g_assert_cmpuint(n, ==, n1);
    for (size_t i = 0; i < n; i++)
      want[i] *= b;
    sc_test_assert_close_f(names[v], got[v], want, n, 1e-5, 1e-5);
  }

  /* contrastive_accuracy 0.625 of 2B = 8 samples is 5. */
  g_autofree char *apath = g_strconcat(base, "/contrastive_accuracy", NULL);
  int64_t want_correct = lround(sc_test_reference_double(apath) * 2 * b);
  g_assert_cmpint(want_correct, ==, 5);
  g_assert_cmpint(correct, ==, want_correct);
  g_assert_cmpint(fwd_correct, ==, want_correct);
}

static void
test_ntxent_reference_t01(void)
{
  check_ntxent_reference("0.1");
}

static void
test_ntxent_reference_t05(void)
{
  check_ntxent_reference("0.5");
}

static void
test_xent_reference(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  size_t nz, ny, n;
  g_autofree double *zd = sc_test_reference_array("sparse_softmax_ce/logits", &nz);
  g_autofree double *yd = sc_test_reference_array("sparse_softmax_ce/labels", &ny);
  g_assert_cmpuint(ny, ==, 3);
  const int rows = (int)ny, k = (int)(nz / ny);
  float logits[12], loss[3], dlogits[12];
  int32_t labels[3];
  for (size_t i = 0; i < nz; i++)
    logits[i] = (float)zd[i];
  for (int i = 0; i < rows; i++)
    labels[i] = (int32_t)yd[i];

  g_autoptr(GError) error = NULL;
  int64_t correct = -1;
  g_assert_true(sc_softmax_xent_mean(be, rows, k, logits, labels, labels, loss, dlogits,
                                     &correct, &error));
  g_assert_no_error(error);

  g_autofree double *want_loss =
    sc_test_reference_array("sparse_softmax_ce/loss_per_sample", &n);
  sc_test_assert_close_f("loss_per_sample", loss, want_loss, n, 1e-6, 1e-6);
  double mean = (loss[0] + loss[1] + loss[2]) / 3.0;
  g_assert_cmpfloat_with_epsilon(mean, sc_test_reference_double("sparse_softmax_ce/loss_mean"),
                                 1e-6);

  g_autofree double *want_grad =
    sc_test_reference_array("sparse_softmax_ce/dloss_mean_dlogits", &n);
  g_assert_cmpuint(n, ==, nz);
  sc_test_assert_close_f("dloss_mean_dlogits", dlogits, want_grad, n, 1e-7, 1e-6);

  /* softmax = n * grad + onehot. */
  g_autofree double *want_softmax = sc_test_reference_array("sparse_softmax_ce/softmax", &n);
  float softmax[12];
  for (int i = 0; i < rows; i++)
    for (int c = 0; c < k; c++)
      softmax[i * k + c] = rows * dlogits[i * k + c] + (c == labels[i] ? 1.0f : 0.0f);
  sc_test_assert_close_f("softmax", softmax, want_softmax, n, 1e-6, 1e-6);

  /* Row 1 is all zeros: the first index (0) wins the tie and is its label. */
  g_assert_cmpint(correct, ==, 3);
}

/* Large logits stay finite; ties go to the first index. */
static void
test_xent_stable_and_ties(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  const float logits[] = { 1000, 1000, -1000,  /* tie between 0 and 1 */
                           -1000, 0, 1000 };   /* label 0: loss 2000 */
  const int32_t labels[] = { 1, 0 };
  float loss[2], dlogits[6];
  int64_t correct = -1;
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_softmax_xent_mean(be, 2, 3, logits, labels, labels, loss, dlogits,
                                     &correct, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat_with_epsilon(loss[0], G_LN2, 1e-6);
  g_assert_cmpfloat_with_epsilon(loss[1], 2000.0, 1e-3);
  g_assert_cmpint(correct, ==, 0);
  /* grad of the mean: (softmax - onehot) / 2. */
  const double want[] = { 0.25, -0.25, 0, -0.5, 0, 0.5 };
  sc_test_assert_close_f("dlogits", dlogits, want, 6, 1e-7, 1e-6);
}

static void
test_xent_bad_labels(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  const float logits[12] = { 0 };
  float loss[3];
  const int32_t too_big[] = { 0, 1, 4 }, negative[] = { -1, 0, 0 };
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_softmax_xent_mean(be, 3, 4, logits, too_big, too_big, loss, NULL, NULL,
                                      &error));
  g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "sample 2"));
  g_assert_nonnull(strstr(error->message, "label 4"));
  g_clear_error(&error);
  g_assert_false(sc_softmax_xent_mean(be, 3, 4, logits, negative, negative, loss, NULL,
                                      NULL, &error));
  g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "sample 0"));
  g_assert_nonnull(strstr(error->message, "label -1"));
}

/* ---- edge cases: extreme temperatures, zero projections, bad arguments ---- */

static void
test_ntxent_orthogonal_cold(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  const float z1[] = { 1, 0, 0, 1 }, z2[] = { 0, 1, 1, 0 };
  float loss[2], dp1[4], dp2[4];
  /* S = [[0, 100], [100, 0]]: every positive loses by 100. */
  int64_t correct = run_ntxent(be, SC_NTXENT_CROSS_VIEW, 2, 2, 0.01f, z1, z2, loss, dp1, dp2);
  g_assert_cmpfloat_with_epsilon(loss[0], 100.0, 1e-4);
  g_assert_cmpfloat_with_epsilon(loss[1], 100.0, 1e-4);
  g_assert_cmpint(correct, ==, 0);
  for (int i = 0; i < 4; i++) {
    g_assert_true(isfinite(dp1[i]));
    g_assert_true(isfinite(dp2[i]));
  }

  /* At a huge temperature every logit is ~0: ln 2 for two candidates. */
  correct = run_ntxent(be, SC_NTXENT_CROSS_VIEW, 2, 2, 1e6f, z1, z2, loss, dp1, dp2);
  g_assert_cmpfloat_with_epsilon(loss[0], G_LN2, 1e-6);
  g_assert_cmpfloat_with_epsilon(loss[1], G_LN2, 1e-6);
}

static void
test_ntxent_zero_projections(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  const float zeros[12] = { 0 };
  float loss[4], dp1[12], dp2[12];
  for (int v = 0; v < 2; v++) {
    ScNtxentVariant variant = v == 0 ? SC_NTXENT_CROSS_VIEW : SC_NTXENT_FULL;
    run_ntxent(be, variant, 4, 3, 0.1f, zeros, zeros, loss, dp1, dp2);
    /* All logits 0: ln 4 over B candidates, ln 7 over the paper's 2B - 1. */
    double want = v == 0 ? log(4.0) : log(7.0);
    for (int i = 0; i < 4; i++)
      g_assert_cmpfloat_with_epsilon(loss[i], want, 1e-6);
    for (int i = 0; i < 12; i++) {
      g_assert_true(isfinite(dp1[i]));
      g_assert_true(isfinite(dp2[i]));
    }
  }
}

static void
expect_ntxent_error(ScBackend *be, int b, int d, float t, const char *needle)
{
  const float p[8] = { 1, 0, 0, 1, 1, 1, 0, 1 };
  float loss[4];
  g_autoptr(GError) error = NULL;
  ScNtxentArgs args = { .batch = b, .dim = d, .temperature = t, .p1 = p, .p2 = p,
                        .loss = loss };
  g_assert_false(sc_ntxent(be, &args, &error));
  g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT);
  if (strstr(error->message, needle) == NULL)
    g_error("message '%s' does not name '%s'", error->message, needle);
}

static void
test_ntxent_rejects(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  expect_ntxent_error(be, 2, 2, 0.0f, "temperature must be > 0");
  expect_ntxent_error(be, 2, 2, 0.0f, "got 0");
  expect_ntxent_error(be, 2, 2, -0.5f, "got -0.5");
  expect_ntxent_error(be, 2, 2, NAN, "temperature");
  expect_ntxent_error(be, 2, 2, INFINITY, "got inf");
  expect_ntxent_error(be, 1, 2, 0.1f, "batch must be >= 2");
  expect_ntxent_error(be, 1, 2, 0.1f, "got 1");
  expect_ntxent_error(be, 2, 0, 0.1f, "dim must be >= 1, got 0");
}

/* ---- against double implementations and finite differences ---- */

typedef struct {
  int b, d;
  float t;
  double small_norm; /* norm given to row 1 of p1 (0: leave it) */
} FdCase;

static void
check_fd_case(ScBackend *be, ScNtxentVariant variant, const FdCase *c, guint32 seed)
{
  const int b = c->b, d = c->d, n = b * d;
  g_autoptr(GRand) rng = g_rand_new_with_seed(seed);
  g_autofree float *p1 = g_new(float, n), *p2 = g_new(float, n);
  random_rows(rng, b, d, p1);
  random_rows(rng, b, d, p2);
  if (c->small_norm > 0)
    scale_row(p1, d, 1, c->small_norm);

  g_autofree float *loss = g_new(float, b), *dp1 = g_new(float, n), *dp2 = g_new(float, n);
  run_ntxent(be, variant, b, d, c->t, p1, p2, loss, dp1, dp2);

  g_autofree double *x1 = to_double(p1, n), *x2 = to_double(p2, n);
  g_autofree double *want_loss = g_new(double, b);
  naive_sum(variant, b, d, c->t, x1, x2, want_loss);
  sc_test_assert_close_f("loss vs double", loss, want_loss, b, 1e-5, 1e-5);

  /* Central differences of the double sum, the step scaled to the row's
   * norm so a near-zero row is probed at its own scale. */
  double worst = 0;
  for (int v = 0; v < 2; v++) {
    double *x = v == 0 ? x1 : x2;
    const float *got = v == 0 ? dp1 : dp2;
    for (int r = 0; r < b; r++) {
      double norm = sqrt(dot(d, x + r * d, x + r * d));
      double h = 1e-5 * norm;
      double fd[64], row_max = 0;
      g_assert_cmpint(d, <=, 64);
      for (int k = 0; k < d; k++) {
        double keep = x[r * d + k];
        x[r * d + k] = keep + h;
        double up = naive_sum(variant, b, d, c->t, x1, x2, NULL);
        x[r * d + k] = keep - h;
        double down = naive_sum(variant, b, d, c->t, x1, x2, NULL);
        x[r * d + k] = keep;
        fd[k] = (up - down) / (2 * h);
        row_max = MAX(row_max, fabs(fd[k]));
      }
      for (int k = 0; k < d; k++) {
        double err = fabs(got[r * d + k] - fd[k]);
        worst = MAX(worst, err / MAX(row_max, 1e-3));
        if (err > 2e-5 * row_max + 1e-6)
          g_error("variant %d B=%d D=%d T=%g: dp%d[%d][%d] = %.9g, finite difference %.9g",
                  variant, b, d, c->t, v + 1, r, k, got[r * d + k], fd[k]);
      }
    }
  }
  g_test_message("variant %d B=%d D=%d T=%g small norm %g: worst gradient error %.2e of "
                 "the row's largest",
                 variant, b, d, c->t, c->small_norm, worst);
}

static void
test_ntxent_finite_differences(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  const FdCase cases[] = {
    { 3, 5, 0.5f, 0 },
    { 3, 5, 0.1f, 1e-3 },  /* near-zero row, above the clamp */
    { 6, 4, 0.1f, 0 },
    { 6, 4, 0.5f, 1e-8 },  /* below the clamp: z = p / 1e-7 */
    { 6, 4, 0.2f, 1e-3 },
  };
  for (int v = 0; v < 2; v++)
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
      check_fd_case(be, v == 0 ? SC_NTXENT_CROSS_VIEW : SC_NTXENT_FULL, &cases[i],
                    17 + (guint32)i);
}

/* Our FULL variant against the paper's formula, and the two variants apart. */
static void
test_ntxent_full_matches_paper(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  const int sizes[][2] = { { 2, 3 }, { 5, 8 }, { 16, 32 } };
  for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
    int b = sizes[s][0], d = sizes[s][1], n = b * d;
    g_autoptr(GRand) rng = g_rand_new_with_seed(100 + (guint32)s);
    g_autofree float *p1 = g_new(float, n), *p2 = g_new(float, n);
    random_rows(rng, b, d, p1);
    random_rows(rng, b, d, p2);
    g_autofree double *x1 = to_double(p1, n), *x2 = to_double(p2, n);
    g_autofree double *want = g_new(double, b);
    double paper_l = paper_ntxent(b, d, 0.5, x1, x2, want);

    g_autofree float *full = g_new(float, b), *cross = g_new(float, b);
    run_ntxent(be, SC_NTXENT_FULL, b, d, 0.5f, p1, p2, full, NULL, NULL);
    run_ntxent(be, SC_NTXENT_CROSS_VIEW, b, d, 0.5f, p1, p2, cross, NULL, NULL);
    sc_test_assert_close_f("full vs paper", full, want, b, 1e-5, 1e-5);
    double mean = 0, diff = 0;
    for (int i = 0; i < b; i++) {
      mean += full[i] / (double)b;
      diff = MAX(diff, fabs(full[i] - cross[i]));
    }
    g_assert_cmpfloat_with_epsilon(mean, paper_l, 1e-5);
    /* Same-view negatives change every sample's loss. */
    g_assert_cmpfloat(diff, >, 1e-2);
  }
}

/* The reference's size with unrelated random projections: about
 * ln(candidates) + s^2/2 with s^2 = 1 / (D T^2) the logits' variance. */
static void
test_ntxent_large(void)
{
  g_autoptr(TestBackend) be = cpu_backend();
  const int b = 525, d = 128, n = b * d;
  const float t = 0.1f;
  g_autoptr(GRand) rng = g_rand_new_with_seed(525);
  g_autofree float *p1 = g_new(float, n), *p2 = g_new(float, n);
  random_rows(rng, b, d, p1);
  random_rows(rng, b, d, p2);
  g_autofree double *x1 = to_double(p1, n), *x2 = to_double(p2, n);
  g_autofree float *loss = g_new(float, b), *dp1 = g_new(float, n), *dp2 = g_new(float, n);
  g_autofree double *want = g_new(double, b);
  const double spread = 0.5 / (d * (double)t * t);

  for (int v = 0; v < 2; v++) {
    ScNtxentVariant variant = v == 0 ? SC_NTXENT_CROSS_VIEW : SC_NTXENT_FULL;
    g_test_timer_start();
    int64_t correct = run_ntxent(be, variant, b, d, t, p1, p2, loss, dp1, dp2);
    double elapsed_s = g_test_timer_elapsed();

    double mean = 0;
    for (int i = 0; i < b; i++) {
      g_assert_true(isfinite(loss[i]));
      mean += loss[i] / b;
    }
    double candidates = v == 0 ? b : 2 * b - 1;
    g_test_message("variant %d: mean loss %.4f (ln %g = %.4f), %" G_GINT64_FORMAT
                   " correct, forward + backward %.2f ms",
                   v, mean, candidates, log(candidates), correct, elapsed_s * 1e3);
    g_assert_cmpfloat(fabs(mean - log(candidates)), <, 0.6);
    g_assert_cmpfloat(fabs(mean - (log(candidates) + spread)), <, 0.15);
    /* Chance level: about 1/candidates of the 2B rows. */
    g_assert_cmpint(correct, <, 20);

    naive_sum(variant, b, d, t, x1, x2, want);
    sc_test_assert_close_f("large loss vs double", loss, want, b, 1e-4, 1e-5);

    /* The loss is scale-invariant in each row, so dp_i is orthogonal to p_i. */
    for (int r = 0; r < 2 * b; r++) {
      const float *p = r < b ? p1 + r * d : p2 + (r - b) * d;
      const float *g = r < b ? dp1 + r * d : dp2 + (r - b) * d;
      double pg = 0, pp = 0, gg = 0;
      for (int k = 0; k < d; k++) {
        g_assert_true(isfinite(g[k]));
        pg += (double)p[k] * g[k];
        pp += (double)p[k] * p[k];
        gg += (double)g[k] * g[k];
      }
      g_assert_cmpfloat(fabs(pg), <=, 1e-4 * sqrt(pp * gg) + 1e-9);
    }
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/loss/ntxent/reference-t0.1", test_ntxent_reference_t01);
  g_test_add_func("/loss/ntxent/reference-t0.5", test_ntxent_reference_t05);
  g_test_add_func("/loss/ntxent/orthogonal-cold-and-hot", test_ntxent_orthogonal_cold);
  g_test_add_func("/loss/ntxent/zero-projections", test_ntxent_zero_projections);
  g_test_add_func("/loss/ntxent/rejects", test_ntxent_rejects);
  g_test_add_func("/loss/ntxent/finite-differences", test_ntxent_finite_differences);
  g_test_add_func("/loss/ntxent/full-matches-paper", test_ntxent_full_matches_paper);
  g_test_add_func("/loss/ntxent/large", test_ntxent_large);
  g_test_add_func("/loss/xent/reference", test_xent_reference);
  g_test_add_func("/loss/xent/stable-and-ties", test_xent_stable_and_ties);
  g_test_add_func("/loss/xent/bad-labels", test_xent_bad_labels);
  return g_test_run();
}
