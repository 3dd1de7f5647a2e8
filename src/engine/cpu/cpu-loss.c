/* Losses on the CPU: sparse softmax cross-entropy and NT-Xent (reference
 * section 5 and, for the paper's variant, section 8).
 *
 * Every log-sum-exp subtracts the row maximum first and sums in double, so
 * logits of +-100 (temperature 0.01) neither overflow nor lose the small
 * terms. be may be NULL (the tests call these directly); it is used only to
 * set the thread count and to report an allocation failure. */
#include "cpu-backend-private.h"

#include "../sc-error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

/* Keras's l2_normalize clamp: z = p / max(||p||, eps). */
#define SC_NTXENT_NORM_EPS 1e-7

/* Rows times columns above which the row loops use the OpenMP team. */
#define SC_LOSS_PARALLEL_MIN 65536

/* Row-wise softmax cross-entropy over a (rows, cols) matrix s, in place.
 * Row r's target is column (r + pos_shift) % cols; with exclude_self the
 * entry (r, r) takes no part (the paper's variant masks the anchor itself).
 * On return s holds the softmax (0 on excluded entries), row_loss[r] =
 * logsumexp - s[r][target]; returns how many rows have their first argmax on
 * the target. */
static int64_t
softmax_xent_rows(int rows, int cols, int pos_shift, bool exclude_self, float *s,
                  double *row_loss)
{
  int64_t correct = 0;
#pragma omp parallel for reduction(+ : correct) if ((int64_t)rows * cols >= SC_LOSS_PARALLEL_MIN)
  for (int r = 0; r < rows; r++) {
    float *row = s + (size_t)r * cols;
    int target = (r + pos_shift) % cols;
    int skip = exclude_self ? r : -1;

    /* The first index wins ties, as argmax does. */
    int best = -1;
    float max = -INFINITY;
    for (int k = 0; k < cols; k++) {
      if (k != skip && (best < 0 || row[k] > max)) {
        max = row[k];
        best = k;
      }
    }
    correct += best == target;

    double sum = 0.0;
    for (int k = 0; k < cols; k++)
      if (k != skip)
        sum += exp((double)row[k] - max);
    double lse = max + log(sum);
    row_loss[r] = lse - row[target];

    for (int k = 0; k < cols; k++)
      row[k] = k == skip ? 0.0f : (float)exp((double)row[k] - lse);
  }
  return correct;
}

void
sc_cpu_softmax_xent(ScBackend *be, int n, int k, const float *logits, const int32_t *labels,
                    float grad_scale, float *loss, float *dlogits, int64_t *n_correct)
{
  if (be != NULL)
    sc_cpu_backend_apply_threads(be);
  int64_t correct = 0;
#pragma omp parallel for reduction(+ : correct) if ((int64_t)n * k >= SC_LOSS_PARALLEL_MIN)
  for (int i = 0; i < n; i++) {
    const float *z = logits + (size_t)i * k; /* (k) */
    int y = labels[i];

    int best = 0;
    for (int c = 1; c < k; c++)
      if (z[c] > z[best])
        best = c;
    correct += best == y;

    double sum = 0.0;
    for (int c = 0; c < k; c++)
      sum += exp((double)z[c] - z[best]);
    double lse = z[best] + log(sum);
    if (loss != NULL)
      loss[i] = (float)(lse - z[y]);

    if (dlogits != NULL) {
      float *dz = dlogits + (size_t)i * k;
      for (int c = 0; c < k; c++) {
        double p = exp((double)z[c] - lse);
        dz[c] = (float)(grad_scale * (p - (c == y ? 1.0 : 0.0)));
      }
    }
  }
  if (n_correct != NULL)
    *n_correct = correct;
}

/* z = p / max(||p||, eps) for each of the rows (rows, dim); inv[r] keeps
 * 1 / max(||p||, eps) and clamped[r] whether the clamp was active. */
static void
normalize_rows(int rows, int dim, const float *p, float *z, double *inv, bool *clamped)
{
  for (int r = 0; r < rows; r++) {
    const float *pr = p + (size_t)r * dim;
    double sq = 0.0;
    for (int d = 0; d < dim; d++)
      sq += (double)pr[d] * pr[d];
    double norm = sqrt(sq);
    clamped[r] = !(norm > SC_NTXENT_NORM_EPS);
    inv[r] = 1.0 / (clamped[r] ? SC_NTXENT_NORM_EPS : norm);
    for (int d = 0; d < dim; d++)
      z[(size_t)r * dim + d] = (float)(pr[d] * inv[r]);
  }
}

/* Back through the normalisation: dp = inv * (g - z (z . g)); where the clamp
 * is active z = p * const, so dp = inv * g (finite even for p = 0). */
static void
normalize_rows_backward(int rows, int dim, const float *z, const double *inv,
                        const bool *clamped, const float *g, float *dp)
{
  for (int r = 0; r < rows; r++) {
    const float *zr = z + (size_t)r * dim, *gr = g + (size_t)r * dim;
    double zg = 0.0;
    if (!clamped[r])
      for (int d = 0; d < dim; d++)
        zg += (double)zr[d] * gr[d];
    for (int d = 0; d < dim; d++)
      dp[(size_t)r * dim + d] = (float)(inv[r] * (gr[d] - zr[d] * zg));
  }
}

/* Scratch of one NT-Xent call; v = number of views (B or 2B rows of S). */
typedef struct {
  float *z;      /* (2B, D) normalised views: z1 on top of z2 */
  float *s;      /* (v, v) logits, then softmax, then dS */
  float *st;     /* (B, B) cross-view: S^T, then its softmax */
  float *dz;     /* (2B, D) gradient w.r.t. z */
  double *inv;   /* (2B) 1 / max(||p||, eps) */
  double *rloss; /* (v) row losses */
  double *closs; /* (B) column losses (cross-view) */
  bool *clamped; /* (2B) */
} NtxentScratch;

static void
scratch_free(NtxentScratch *w)
{
  free(w->z);
  free(w->s);
  free(w->st);
  free(w->dz);
  free(w->inv);
  free(w->rloss);
  free(w->closs);
  free(w->clamped);
}

static gboolean
scratch_alloc(NtxentScratch *w, int b, int dim, int views)
{
  size_t bd = (size_t)2 * b * dim;
  *w = (NtxentScratch){
    .z = malloc(bd * sizeof(float)),
    .s = malloc((size_t)views * views * sizeof(float)),
    .st = malloc((size_t)b * b * sizeof(float)),
    .dz = malloc(bd * sizeof(float)),
    .inv = malloc((size_t)2 * b * sizeof(double)),
    .rloss = malloc((size_t)views * sizeof(double)),
    .closs = malloc((size_t)b * sizeof(double)),
    .clamped = malloc((size_t)2 * b * sizeof(bool)),
  };
  return w->z && w->s && w->st && w->dz && w->inv && w->rloss && w->closs && w->clamped;
}

/* The Keras example's loss: S = z1 z2^T / T (B, B), the mean of the row and
 * the column cross-entropies with targets on the diagonal. dS of the summed
 * loss is G = (P + Q) / 2 - I with P the row softmax and Q the column
 * softmax of S. */
static void
ntxent_cross_view(const ScNtxentArgs *a, NtxentScratch *w)
{
  const int b = a->batch, dim = a->dim;
  const float inv_t = 1.0f / a->temperature;
  const float *z1 = w->z, *z2 = w->z + (size_t)b * dim;

  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, b, dim, inv_t, z1, dim, z2, dim,
              0.0f, w->s, b);
  /* The column direction is the row direction of S^T; copied rather than
   * recomputed so both directions see the same rounded logits. */
  for (int i = 0; i < b; i++)
    for (int k = 0; k < b; k++)
      w->st[(size_t)k * b + i] = w->s[(size_t)i * b + k];

  int64_t correct = softmax_xent_rows(b, b, 0, false, w->s, w->rloss);
  correct += softmax_xent_rows(b, b, 0, false, w->st, w->closs);
  for (int i = 0; i < b; i++)
    a->loss[i] = (float)(0.5 * (w->rloss[i] + w->closs[i]));
  if (a->n_correct != NULL)
    *a->n_correct = correct;
  if (a->dp1 == NULL)
    return;

  /* G[i][k] = (P[i][k] + Q[i][k]) / 2 - [i == k], with Q[i][k] = st[k][i]. */
  for (int i = 0; i < b; i++)
    for (int k = 0; k < b; k++) {
      float *g = &w->s[(size_t)i * b + k];
      *g = 0.5f * (*g + w->st[(size_t)k * b + i]) - (i == k ? 1.0f : 0.0f);
    }
  /* dz1 = G z2 / T, dz2 = G^T z1 / T. */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, dim, b, inv_t, w->s, b, z2, dim,
              0.0f, w->dz, dim);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, b, dim, b, inv_t, w->s, b, z1, dim,
              0.0f, w->dz + (size_t)b * dim, dim);
}

/* The SimCLR paper's loss: the 2B views Z = [z1; z2] against each other,
 * S = Z Z^T / T (2B, 2B) without its diagonal, view a's positive is
 * a + B mod 2B. Image i's loss is (l(i, i + B) + l(i + B, i)) / 2, so the
 * mean over images is the paper's L. */
static void
ntxent_full(const ScNtxentArgs *a, NtxentScratch *w)
{
  const int b = a->batch, dim = a->dim, v = 2 * b;
  const float inv_t = 1.0f / a->temperature;

  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, v, v, dim, inv_t, w->z, dim, w->z,
              dim, 0.0f, w->s, v);
  int64_t correct = softmax_xent_rows(v, v, b, true, w->s, w->rloss);
  for (int i = 0; i < b; i++)
    a->loss[i] = (float)(0.5 * (w->rloss[i] + w->rloss[i + b]));
  if (a->n_correct != NULL)
    *a->n_correct = correct;
  if (a->dp1 == NULL)
    return;

  /* Summed loss = 1/2 sum_a l_a, so dS[a][k] = (P[a][k] - [k == pos(a)]) / 2.
   * S is symmetric in Z: dZ = (dS + dS^T) Z / T; H = dS + dS^T in place. */
  for (int r = 0; r < v; r++)
    w->s[(size_t)r * v + (r + b) % v] -= 1.0f;
  for (int r = 0; r < v; r++)
    for (int k = r; k < v; k++) {
      float h = 0.5f * (w->s[(size_t)r * v + k] + w->s[(size_t)k * v + r]);
      w->s[(size_t)r * v + k] = h;
      w->s[(size_t)k * v + r] = h;
    }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, v, dim, v, inv_t, w->s, v, w->z,
              dim, 0.0f, w->dz, dim);
}

void
sc_cpu_ntxent(ScBackend *be, const ScNtxentArgs *a)
{
  if (be != NULL)
    sc_cpu_backend_apply_threads(be);
  const int b = a->batch, dim = a->dim;
  const int views = a->variant == SC_NTXENT_FULL ? 2 * b : b;

  NtxentScratch w;
  if (!scratch_alloc(&w, b, dim, views)) {
    scratch_free(&w);
    /* Operations cannot fail (backend.h): poison the result, report at sync. */
    for (int i = 0; i < b; i++)
      a->loss[i] = NAN;
    if (be != NULL) {
      ScCpuBackend *cpu = sc_cpu_backend(be);
      g_mutex_lock(&cpu->lock);
      sc_cpu_backend_fail(be, g_error_new(SC_BACKEND_ERROR, SC_ERROR_OUT_OF_MEMORY,
                                          "NT-Xent: out of memory for the scratch of a "
                                          "batch of %d with %d dimensions", b, dim));
      g_mutex_unlock(&cpu->lock);
    }
    return;
  }

  /* z1 then z2 in one (2B, D) block: the paper's variant multiplies it whole. */
  normalize_rows(b, dim, a->p1, w.z, w.inv, w.clamped);
  normalize_rows(b, dim, a->p2, w.z + (size_t)b * dim, w.inv + b, w.clamped + b);

  if (a->variant == SC_NTXENT_FULL)
    ntxent_full(a, &w);
  else
    ntxent_cross_view(a, &w);

  if (a->dp1 != NULL) {
    normalize_rows_backward(b, dim, w.z, w.inv, w.clamped, w.dz, a->dp1);
    normalize_rows_backward(b, dim, w.z + (size_t)b * dim, w.inv + b, w.clamped + b,
                            w.dz + (size_t)b * dim, a->dp2);
  }
  scratch_free(&w);
}
