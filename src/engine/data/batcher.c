/* Batches of a split plan with the reference's arithmetic (see batcher.h). */
#include "batcher.h"

#include <string.h>

#include "rng.h"
#include "sc-error.h"

/* Whether a plan of these sizes has steps, a labeled image per step and a
 * contrastive batch of at least two. */
static gboolean
sizes_work(size_t labeled, size_t unlabeled, size_t batch)
{
  size_t steps = batch > 0 ? (labeled + unlabeled) / batch : 0;
  if (steps == 0)
    return FALSE;
  size_t lb = labeled / steps, ub = unlabeled / steps;
  return lb >= 1 && lb + ub >= 2;
}

/* The batch size nearest bs that works (smaller when bs exceeds the
 * images, else larger), or 0 when none does. */
static size_t
nearest_batch(size_t nl, size_t nu, size_t bs)
{
  size_t total = nl + nu;
  if (total / bs == 0) {
    for (size_t b = MIN(bs, total); b >= 2; b--)
      if (sizes_work(nl, nu, b))
        return b;
  } else {
    for (size_t b = bs + 1; b <= total; b++)
      if (sizes_work(nl, nu, b))
        return b;
  }
  return 0;
}

int
sc_batch_plan_nearest_batch_size(const ScSplitPlan *plan, int batch_size)
{
  g_return_val_if_fail(plan != NULL, 0);
  size_t nl = plan->labeled.count, nu = plan->unlabeled.count;
  if (batch_size < 2)
    return 0;
  if (sizes_work(nl, nu, (size_t)batch_size))
    return batch_size;
  return (int)MIN(nearest_batch(nl, nu, (size_t)batch_size), (size_t)G_MAXINT);
}

/* Sizes near the asked ones that work, for the error message. */
static char *
working_sizes(size_t nl, size_t nu, size_t bs, int n_classes)
{
  GString *s = g_string_new("Sizes that work");
  const char *sep = ": ";
  size_t b = nearest_batch(nl, nu, bs);
  if (b > 0) {
    g_string_append_printf(s, "%sa batch size of %zu (the nearest that works)", sep, b);
    sep = "; or ";
  }
  /* labeled / steps >= 1 holds from about nu / (bs - 1) labeled images on. */
  size_t nl_bound = bs > 1 ? nu / (bs - 1) + 2 : 0;
  /* Labeled images are chosen per class (--labeled N per class). */
  size_t k = n_classes > 0 ? (size_t)n_classes : 1;
  for (size_t per = nl / k + 1; per * k <= MAX(nl_bound, nl + 2) + k; per++) {
    if (sizes_work(per * k, nu, bs)) {
      g_string_append_printf(s, "%s--labeled %zu per class (%zu labeled images)", sep, per,
                             per * k);
      sep = "; or ";
      break;
    }
  }
  for (size_t u = nu; u-- > 0;) {
    if (sizes_work(nl, u, bs)) {
      g_string_append_printf(s, "%sat most %zu unlabeled images", sep, u);
      sep = "; or ";
      break;
    }
  }
  if (*sep == ':')
    g_string_append(s, ": none near these (more images are needed)");
  return g_string_free(s, FALSE);
}

gboolean
sc_batch_plan_init(ScBatchPlan *bp, const ScSplitPlan *plan, int batch_size, GError **error)
{
  g_return_val_if_fail(bp != NULL && plan != NULL, FALSE);
  memset(bp, 0, sizeof *bp);
  size_t nl = plan->labeled.count, nu = plan->unlabeled.count;
  if (batch_size < 2) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Batch size %d: expected at least 2 (the contrastive loss compares images "
                "within a batch)", batch_size);
    return FALSE;
  }
  if (nl == 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "No labeled images: expected at least one per step");
    return FALSE;
  }
  size_t bs = batch_size;
  size_t steps = (nl + nu) / bs;
  if (!sizes_work(nl, nu, bs)) {
    g_autofree char *what = NULL;
    if (steps == 0)
      what = g_strdup("no step (fewer images than one batch)");
    else if (nl / steps == 0)
      what = g_strdup_printf("%zu steps per epoch and 0 labeled images per step", steps);
    else
      what = g_strdup_printf("%zu steps per epoch and a contrastive batch of %zu image "
                             "(the loss needs 2)", steps, nl / steps + nu / steps);
    g_autofree char *fix = working_sizes(nl, nu, bs, plan->n_classes);
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Batch size %zu with %zu labeled and %zu unlabeled images gives %s. %s", bs, nl,
                nu, what, fix);
    return FALSE;
  }
  if (steps > G_MAXINT) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_UNSUPPORTED,
                "%zu steps per epoch, expected at most %d", steps, G_MAXINT);
    return FALSE;
  }
  bp->plan = plan;
  bp->batch_size = batch_size;
  bp->steps = (int)steps;
  bp->unlabeled_batch = (int)(nu / steps);
  bp->labeled_batch = (int)(nl / steps);
  bp->test_batches = (int)((plan->test.count + bs - 1) / bs);
  bp->order_epoch[0] = bp->order_epoch[1] = -1;
  g_debug("batches: %d steps of %d unlabeled + %d labeled, %d test batches of %d",
          bp->steps, bp->unlabeled_batch, bp->labeled_batch, bp->test_batches, batch_size);
  return TRUE;
}

void
sc_batch_plan_clear(ScBatchPlan *bp)
{
  if (bp == NULL)
    return;
  g_clear_pointer(&bp->order[0], g_free);
  g_clear_pointer(&bp->order[1], g_free);
  bp->order_epoch[0] = bp->order_epoch[1] = -1;
}

static const ScSplitView *
stream_view(const ScBatchPlan *bp, ScStream stream)
{
  switch (stream) {
  case SC_STREAM_LABELED: return &bp->plan->labeled;
  case SC_STREAM_UNLABELED: return &bp->plan->unlabeled;
  case SC_STREAM_TEST: return &bp->plan->test;
  case SC_N_STREAMS:
  default: g_return_val_if_reached(NULL);
  }
}

const ScSplit *
sc_batch_plan_split(const ScBatchPlan *bp, ScStream stream)
{
  g_return_val_if_fail(bp != NULL && bp->plan != NULL, NULL);
  const ScSplitView *v = stream_view(bp, stream);
  return v != NULL ? v->split : NULL;
}

void
sc_batch_plan_epoch_order(const ScBatchPlan *bp, ScStream stream, uint32_t epoch,
                          int32_t *perm)
{
  g_return_if_fail(bp != NULL && bp->plan != NULL && perm != NULL);
  g_return_if_fail(stream == SC_STREAM_LABELED || stream == SC_STREAM_UNLABELED);
  ScRng rng;
  sc_rng_init(&rng, bp->plan->seed, SC_RNG_SHUFFLE, epoch, (uint32_t)stream, 0);
  sc_rng_permutation(&rng, perm, stream_view(bp, stream)->count);
}

size_t
sc_batch_plan_batch(ScBatchPlan *bp, ScStream stream, uint32_t epoch, int step,
                    int32_t *out)
{
  g_return_val_if_fail(bp != NULL && bp->plan != NULL && out != NULL, 0);
  const ScSplitView *v = stream_view(bp, stream);
  g_return_val_if_fail(v != NULL, 0);
  if (stream == SC_STREAM_TEST) {
    g_return_val_if_fail(step >= 0 && step < bp->test_batches, 0);
    size_t start = (size_t)step * bp->batch_size;
    size_t n = MIN((size_t)bp->batch_size, v->count - start);
    memcpy(out, v->indices + start, n * sizeof(int32_t));
    return n;
  }
  g_return_val_if_fail(step >= 0 && step < bp->steps, 0);
  if (bp->order_epoch[stream] != (int64_t)epoch) {
    bp->order[stream] = g_renew(int32_t, bp->order[stream], MAX(v->count, 1));
    sc_batch_plan_epoch_order(bp, stream, epoch, bp->order[stream]);
    bp->order_epoch[stream] = epoch;
  }
  size_t n = stream == SC_STREAM_LABELED ? bp->labeled_batch : bp->unlabeled_batch;
  const int32_t *positions = bp->order[stream] + (size_t)step * n;
  for (size_t j = 0; j < n; j++)
    out[j] = v->indices[positions[j]];
  return n;
}
