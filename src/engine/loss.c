/* Argument checks in front of the backend's loss operations; the arithmetic
 * is in the backends (cpu/cpu-loss.c). */
#include "loss.h"

#include "sc-error.h"

#include <math.h>

gboolean
sc_ntxent(ScBackend *be, const ScNtxentArgs *args, GError **error)
{
  g_return_val_if_fail(be != NULL, FALSE);
  g_return_val_if_fail(args != NULL, FALSE);
  g_return_val_if_fail(args->p1 != NULL && args->p2 != NULL && args->loss != NULL, FALSE);
  /* Both gradients or neither: the backward pass writes both. */
  g_return_val_if_fail((args->dp1 == NULL) == (args->dp2 == NULL), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (!(isfinite(args->temperature) && args->temperature > 0.0f)) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "NT-Xent: temperature must be > 0 and finite, got %g",
                (double)args->temperature);
    return FALSE;
  }
  if (args->batch < 2) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "NT-Xent: batch must be >= 2 (each image needs another image as a "
                "negative), got %d",
                args->batch);
    return FALSE;
  }
  if (args->dim < 1) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "NT-Xent: projection dim must be >= 1, got %d", args->dim);
    return FALSE;
  }
  if (args->variant != SC_NTXENT_CROSS_VIEW && args->variant != SC_NTXENT_FULL) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "NT-Xent: unknown variant %d (expected cross-view %d or full %d)",
                (int)args->variant, SC_NTXENT_CROSS_VIEW, SC_NTXENT_FULL);
    return FALSE;
  }
  be->ops->ntxent(be, args);
  return TRUE;
}

gboolean
sc_softmax_xent_mean(ScBackend *be, int n, int k, const float *logits,
                     const int32_t *labels, const int32_t *host_labels, float *loss,
                     float *dlogits, int64_t *n_correct, GError **error)
{
  g_return_val_if_fail(be != NULL, FALSE);
  g_return_val_if_fail(logits != NULL && labels != NULL && host_labels != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (n < 1 || k < 1) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Cross-entropy: need at least one sample and one class, got %d samples "
                "of %d classes",
                n, k);
    return FALSE;
  }
  for (int i = 0; i < n; i++) {
    if (host_labels[i] < 0 || host_labels[i] >= k) {
      g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                  "Cross-entropy: sample %d has label %d, expected 0..%d (%d classes)", i,
                  (int)host_labels[i], k - 1, k);
      return FALSE;
    }
  }
  /* Keras's "sum_over_batch_size": the gradient of the batch mean. */
  be->ops->softmax_xent(be, n, k, logits, labels, 1.0f / (float)n, loss, dlogits,
                        n_correct);
  return TRUE;
}
