/* Losses and metrics (reference section 5). The arithmetic runs on the
 * backend; these wrappers check arguments and report bad ones as GErrors. */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

/* NT-Xent: temperature must be finite and > 0, batch >= 2, dim >= 1. */
gboolean sc_ntxent(ScBackend *be, const ScNtxentArgs *args, GError **error);

/* Sparse softmax cross-entropy; labels are checked against [0, k). The
 * gradient is that of the batch MEAN (grad_scale 1/n), as Keras's
 * "sum_over_batch_size" reduction. labels, loss and dlogits are backend
 * memory; host_labels is the same labels on the host, for the check. */
gboolean sc_softmax_xent_mean(ScBackend *be, int n, int k, const float *logits,
                              const int32_t *labels, const int32_t *host_labels,
                              float *loss, float *dlogits, int64_t *n_correct,
                              GError **error);

/* A running mean as Keras's Mean / accuracy metrics keep it. */
typedef struct {
  double total;
  double count;
} ScMean;

static inline void
sc_mean_reset(ScMean *m)
{
  m->total = 0.0;
  m->count = 0.0;
}

static inline void
sc_mean_add(ScMean *m, double sum, double count)
{
  m->total += sum;
  m->count += count;
}

/* total / count, or 0 when nothing was added. */
static inline double
sc_mean_result(const ScMean *m)
{
  return m->count > 0.0 ? m->total / m->count : 0.0;
}

G_END_DECLS
