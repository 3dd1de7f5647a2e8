/* Batches of a split plan, with the reference's arithmetic (section 2):
 *
 *   steps           = (n_unlabeled + n_labeled) / batch_size   (integer division)
 *   unlabeled_batch = n_unlabeled / steps
 *   labeled_batch   = n_labeled / steps
 *
 * Each pretraining step takes unlabeled_batch unlabeled and labeled_batch
 * labeled images; the supervised runs take the same labeled batches, so every
 * run has `steps` steps per epoch. Reference: 100000 + 5000 images, batch 525
 * -> 200 steps of 500 + 25.
 *
 * A plan that would give 0 steps, 0 labeled images per step or a contrastive
 * batch under 2 is rejected with a message naming sizes that work (reference
 * section 10). The test split comes in plain batches of batch_size, in order,
 * the last one partial.
 *
 * Shuffling (a documented deviation from tf.data's buffer shuffle): every
 * epoch each training stream is put in the order of a full Fisher-Yates
 * permutation drawn from ScRng(seed, SC_RNG_SHUFFLE, epoch, stream, 0), and
 * batches are consecutive runs of it. When a stream's count does not divide
 * by `steps`, the images at the permutation's tail are left out of that
 * epoch: a different random set every epoch, never the same images twice in
 * one epoch. */
#pragma once

#include "split.h"

G_BEGIN_DECLS

typedef enum {
  SC_STREAM_LABELED,
  SC_STREAM_UNLABELED,
  SC_STREAM_TEST,
  SC_N_STREAMS,
} ScStream;

typedef struct {
  const ScSplitPlan *plan; /* borrowed */
  int batch_size;
  int steps;           /* training steps per epoch, every run */
  int unlabeled_batch; /* unlabeled images per step (may be 0) */
  int labeled_batch;   /* labeled images per step, >= 1 */
  int test_batches;    /* ceil(n_test / batch_size) */

  /* private: the order of the epoch last asked for, per training stream */
  int32_t *order[2];   /* (view count) positions into the stream's view */
  int64_t order_epoch[2];
} ScBatchPlan;

/* Fills `bp` for `plan` (borrowed: keep it alive). On failure `bp` needs no
 * clear. */
gboolean sc_batch_plan_init(ScBatchPlan *bp, const ScSplitPlan *plan, int batch_size,
                            GError **error);
void sc_batch_plan_clear(ScBatchPlan *bp);
/* batch_size itself when plan gives steps with it, else the nearest size
 * that does (the one sc_batch_plan_init's error suggests), or 0 if none. */
int sc_batch_plan_nearest_batch_size(const ScSplitPlan *plan, int batch_size);

/* The split a stream's indices point into. */
const ScSplit *sc_batch_plan_split(const ScBatchPlan *bp, ScStream stream);

/* The split indices of batch `step` of `stream` in `epoch` into out, which
 * holds at least batch_size entries; returns how many (labeled_batch,
 * unlabeled_batch, or for the test stream up to batch_size; epoch is ignored
 * there). Caches the epoch's order: call from one thread at a time. */
size_t sc_batch_plan_batch(ScBatchPlan *bp, ScStream stream, uint32_t epoch, int step,
                           int32_t *out);

/* The epoch's order of a training stream: a permutation of the positions
 * 0..view count-1, into perm (view count entries). */
void sc_batch_plan_epoch_order(const ScBatchPlan *bp, ScStream stream, uint32_t epoch,
                               int32_t *perm);

G_END_DECLS
