/* Split plans and batch plans: class balance, seeds, disjointness, caps, the
 * reference's batch arithmetic and its rejection case, per-epoch shuffles. */
#include <string.h>

#include "data/batcher.h"
#include "data/readers.h"
#include "data/split.h"
#include "sc-error.h"
#include "test-data-fixtures.h"
#include "test-util.h"

/* A split of n 1x1x1 images whose pixel is its index mod 256, labels
 * (i * 7) % k (or none when k is 0). */
static ScSplit *
tiny_split(const char *name, size_t n, int k)
{
  guint8 *px = g_malloc(MAX(n, 1));
  int32_t *labels = k > 0 ? g_new(int32_t, n) : NULL;
  for (size_t i = 0; i < n; i++) {
    px[i] = (guint8)i;
    if (labels)
      labels[i] = (int32_t)((i * 7) % k);
  }
  g_autoptr(GBytes) bytes = g_bytes_new_take(px, n);
  return sc_split_new_hwc(name, bytes, n, 1, 1, 1, labels);
}

static ScDataset *
tiny_dataset(size_t n_train, size_t n_test, size_t n_unlabeled, int k)
{
  ScDataset *d = sc_dataset_new(SC_FORMAT_FOLDER, "/tiny");
  d->train = tiny_split("train", n_train, k);
  d->test = tiny_split("test", n_test, k);
  if (n_unlabeled > 0)
    d->unlabeled = tiny_split("unlabeled", n_unlabeled, 0);
  d->n_classes = k;
  d->class_names = g_new0(char *, k + 1);
  for (int i = 0; i < k; i++)
    d->class_names[i] = g_strdup_printf("class%d", i);
  return d;
}

static void
assert_sorted_unique(const ScSplitView *v)
{
  for (size_t i = 0; i < v->count; i++) {
    g_assert_cmpint(v->indices[i], >=, 0);
    g_assert_cmpuint(v->indices[i], <, sc_split_count(v->split));
    if (i > 0)
      g_assert_cmpint(v->indices[i - 1], <, v->indices[i]);
  }
}

static void
test_per_class(void)
{
  g_autoptr(ScDataset) d = tiny_dataset(1000, 200, 0, 10);
  ScSplitConfig c = { .labeled_per_class = 7, .seed = 42 };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScSplitPlan) p = sc_split_plan_new(d, &c, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(p->labeled.count, ==, 70);
  size_t counts[10];
  sc_split_view_class_counts(&p->labeled, 10, counts);
  for (int k = 0; k < 10; k++)
    g_assert_cmpuint(counts[k], ==, 7);
  assert_sorted_unique(&p->labeled);
  assert_sorted_unique(&p->unlabeled);
  /* Unlabeled = the rest of train: disjoint, and together all of it. */
  g_assert_true(p->unlabeled.split == d->train);
  g_assert_cmpuint(p->unlabeled.count, ==, 930);
  g_autofree gboolean *seen = g_new0(gboolean, 1000);
  for (size_t i = 0; i < p->labeled.count; i++)
    seen[p->labeled.indices[i]] = TRUE;
  for (size_t i = 0; i < p->unlabeled.count; i++) {
    g_assert_false(seen[p->unlabeled.indices[i]]);
    seen[p->unlabeled.indices[i]] = TRUE;
  }
  for (int i = 0; i < 1000; i++)
    g_assert_true(seen[i]);
  g_assert_true(p->test.split == d->test);
  g_assert_cmpuint(p->test.count, ==, 200);
}

static void
test_total(void)
{
  g_autoptr(ScDataset) d = tiny_dataset(1000, 10, 0, 10);
  ScSplitConfig c = { .labeled_total = 25, .seed = 1 };
  g_autoptr(ScSplitPlan) p = sc_split_plan_new(d, &c, NULL);
  g_assert_nonnull(p);
  size_t counts[10];
  sc_split_view_class_counts(&p->labeled, 10, counts);
  for (int k = 0; k < 10; k++)
    g_assert_cmpuint(counts[k], ==, k < 5 ? 3 : 2);
  /* Both zero: every training image labeled (the reference on STL-10). */
  ScSplitConfig all = { .seed = 1 };
  g_autoptr(ScSplitPlan) q = sc_split_plan_new(d, &all, NULL);
  g_assert_cmpuint(q->labeled.count, ==, 1000);
  g_assert_cmpuint(q->unlabeled.count, ==, 0);
}

static void
test_seeds(void)
{
  g_autoptr(ScDataset) d = tiny_dataset(1000, 300, 0, 10);
  ScSplitConfig c = { .labeled_per_class = 5, .unlabeled_cap = 100, .subset = 250,
                      .seed = 7 };
  g_autoptr(ScSplitPlan) a = sc_split_plan_new(d, &c, NULL);
  g_autoptr(ScSplitPlan) b = sc_split_plan_new(d, &c, NULL);
  c.seed = 8;
  g_autoptr(ScSplitPlan) other = sc_split_plan_new(d, &c, NULL);
  const ScSplitView *va[] = { &a->labeled, &a->unlabeled, &a->test };
  const ScSplitView *vb[] = { &b->labeled, &b->unlabeled, &b->test };
  const ScSplitView *vo[] = { &other->labeled, &other->unlabeled, &other->test };
  for (int s = 0; s < 3; s++) {
    g_assert_cmpmem(va[s]->indices, va[s]->count * 4, vb[s]->indices, vb[s]->count * 4);
    g_assert_cmpuint(va[s]->count, ==, vo[s]->count);
    g_assert_true(memcmp(va[s]->indices, vo[s]->indices, va[s]->count * 4) != 0);
  }
}

/* subset caps each split before choosing; the cap caps unlabeled after. */
static void
test_caps(void)
{
  g_autoptr(ScDataset) d = tiny_dataset(1000, 300, 0, 10);
  ScSplitConfig c = { .labeled_per_class = 3, .unlabeled_cap = 50, .subset = 200,
                      .seed = 3 };
  g_autoptr(ScSplitPlan) p = sc_split_plan_new(d, &c, NULL);
  g_assert_cmpuint(p->labeled.count, ==, 30);
  g_assert_cmpuint(p->unlabeled.count, ==, 50);
  g_assert_cmpuint(p->test.count, ==, 200);
  assert_sorted_unique(&p->test);
  /* Everything labeled or unlabeled comes from the same 200 training images. */
  c.unlabeled_cap = 0;
  g_autoptr(ScSplitPlan) q = sc_split_plan_new(d, &c, NULL);
  g_assert_cmpuint(q->labeled.count + q->unlabeled.count, ==, 200);

  /* With an unlabeled split (STL-10), unlabeled images come from it. */
  g_autoptr(ScDataset) s = tiny_dataset(100, 80, 1000, 10);
  ScSplitConfig cs = { .unlabeled_cap = 300, .seed = 3 };
  g_autoptr(ScSplitPlan) ps = sc_split_plan_new(s, &cs, NULL);
  g_assert_true(ps->unlabeled.split == s->unlabeled);
  g_assert_cmpuint(ps->unlabeled.count, ==, 300);
  g_assert_cmpuint(ps->labeled.count, ==, 100);
  assert_sorted_unique(&ps->unlabeled);
}

static void
test_split_errors(void)
{
  g_autoptr(ScDataset) d = tiny_dataset(100, 10, 0, 10);
  ScSplitConfig c = { .labeled_per_class = 11, .seed = 3 };
  g_autoptr(GError) e1 = NULL;
  g_assert_null(sc_split_plan_new(d, &c, &e1));
  fx_assert_error(e1, SC_ERROR_INVALID_ARGUMENT, "class0", "has 10 training images",
                  "11 labeled", NULL);
  ScSplitConfig both = { .labeled_per_class = 1, .labeled_total = 10 };
  g_autoptr(GError) e2 = NULL;
  g_assert_null(sc_split_plan_new(d, &both, &e2));
  fx_assert_error(e2, SC_ERROR_INVALID_ARGUMENT, "not both", NULL);
}

/* A plan of given counts over no real images (the batcher reads indices only). */
static ScSplitPlan *
counts_plan(size_t nl, size_t nu, size_t nt)
{
  ScSplitPlan *p = g_new0(ScSplitPlan, 1);
  ScSplitView *views[] = { &p->labeled, &p->unlabeled, &p->test };
  size_t counts[] = { nl, nu, nt };
  for (int s = 0; s < 3; s++) {
    views[s]->count = counts[s];
    views[s]->indices = g_new(int32_t, MAX(counts[s], 1));
    for (size_t i = 0; i < counts[s]; i++)
      views[s]->indices[i] = (int32_t)(i * 3 + s); /* distinct from positions */
  }
  p->n_classes = 10;
  p->seed = 99;
  return p;
}

static void
test_reference_batches(void)
{
  g_autoptr(ScSplitPlan) p = counts_plan(5000, 100000, 8000);
  ScBatchPlan bp;
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_batch_plan_init(&bp, p, 525, &error));
  g_assert_no_error(error);
  g_assert_cmpint(bp.steps, ==, 200);
  g_assert_cmpint(bp.unlabeled_batch, ==, 500);
  g_assert_cmpint(bp.labeled_batch, ==, 25);
  g_assert_cmpint(bp.test_batches, ==, 16);
  g_autofree int32_t *out = g_new(int32_t, 525);
  g_assert_cmpuint(sc_batch_plan_batch(&bp, SC_STREAM_TEST, 0, 14, out), ==, 525);
  g_assert_cmpuint(sc_batch_plan_batch(&bp, SC_STREAM_TEST, 0, 15, out), ==, 125);
  g_assert_cmpint(out[0], ==, p->test.indices[7875]);
  g_assert_cmpint(out[124], ==, p->test.indices[7999]);
  g_assert_cmpuint(sc_batch_plan_batch(&bp, SC_STREAM_UNLABELED, 0, 199, out), ==, 500);
  g_assert_cmpuint(sc_batch_plan_batch(&bp, SC_STREAM_LABELED, 0, 0, out), ==, 25);
  sc_batch_plan_clear(&bp);
}

static void
test_rejection(void)
{
  g_autoptr(ScSplitPlan) p = counts_plan(100, 59000, 10000);
  ScBatchPlan bp;
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_batch_plan_init(&bp, p, 525, &error));
  /* 59100 / 525 = 112 steps, 100 / 112 = 0 labeled per step. Batch 586 gives
   * 100 steps; 12 labeled per class (120) give 112 steps of 1 labeled image;
   * 52924 unlabeled give 100 steps. */
  fx_assert_error(error, SC_ERROR_INVALID_ARGUMENT, "Batch size 525", "100 labeled",
                  "59000 unlabeled", "112 steps", "0 labeled images per step",
                  "batch size of 586", "--labeled 12 per class", "at most 52924 unlabeled",
                  NULL);

  g_autoptr(ScSplitPlan) small = counts_plan(10, 20, 5);
  g_autoptr(GError) e2 = NULL;
  g_assert_false(sc_batch_plan_init(&bp, small, 64, &e2));
  fx_assert_error(e2, SC_ERROR_INVALID_ARGUMENT, "no step", "batch size of 30", NULL);

  /* 3 labeled + 1 unlabeled, batch 2: 2 steps of 1 + 0 images. */
  g_autoptr(ScSplitPlan) one = counts_plan(3, 1, 5);
  g_autoptr(GError) e3 = NULL;
  g_assert_false(sc_batch_plan_init(&bp, one, 2, &e3));
  fx_assert_error(e3, SC_ERROR_INVALID_ARGUMENT, "contrastive batch of 1", "batch size of 3",
                  NULL);

  /* The suggestion on its own, as the message gives it; a working size is
   * its own answer. */
  g_assert_cmpint(sc_batch_plan_nearest_batch_size(p, 525), ==, 586);
  g_assert_cmpint(sc_batch_plan_nearest_batch_size(p, 586), ==, 586);
  g_assert_cmpint(sc_batch_plan_nearest_batch_size(small, 64), ==, 30);
  g_assert_cmpint(sc_batch_plan_nearest_batch_size(one, 2), ==, 3);
  g_assert_cmpint(sc_batch_plan_nearest_batch_size(one, 1), ==, 0);
}

/* Every epoch: batches disjoint, from the view, the remainder left out
 * differing between epochs; the cache gives the same answer in any order. */
static void
test_epoch_shuffle(void)
{
  g_autoptr(ScSplitPlan) p = counts_plan(23, 100, 7);
  ScBatchPlan bp;
  g_assert_true(sc_batch_plan_init(&bp, p, 10, NULL));
  /* 123 / 10 = 12 steps; 100 / 12 = 8 unlabeled, 23 / 12 = 1 labeled per step. */
  g_assert_cmpint(bp.steps, ==, 12);
  g_assert_cmpint(bp.unlabeled_batch, ==, 8);
  g_assert_cmpint(bp.labeled_batch, ==, 1);
  int32_t out[10];
  g_autofree int32_t *epoch0 = g_new(int32_t, 96);
  g_autofree int32_t *epoch1 = g_new(int32_t, 96);
  int32_t *epochs[2] = { epoch0, epoch1 };
  for (uint32_t e = 0; e < 2; e++) {
    gboolean seen[300] = { FALSE };
    for (int s = 0; s < bp.steps; s++) {
      g_assert_cmpuint(sc_batch_plan_batch(&bp, SC_STREAM_UNLABELED, e, s, out), ==, 8);
      for (int j = 0; j < 8; j++) {
        g_assert_cmpint(out[j] % 3, ==, 1); /* an index of the unlabeled view */
        g_assert_false(seen[out[j]]);
        seen[out[j]] = TRUE;
        epochs[e][s * 8 + j] = out[j];
      }
    }
  }
  g_assert_true(memcmp(epoch0, epoch1, 96 * 4) != 0);
  /* The 4 left out differ between epochs 0 and 1. */
  gboolean in0[300] = { FALSE }, in1[300] = { FALSE };
  for (int i = 0; i < 96; i++) {
    in0[epoch0[i]] = TRUE;
    in1[epoch1[i]] = TRUE;
  }
  g_assert_true(memcmp(in0, in1, sizeof in0) != 0);
  /* Back to epoch 0 after epoch 1: the same batches. */
  sc_batch_plan_batch(&bp, SC_STREAM_UNLABELED, 0, 3, out);
  g_assert_cmpmem(out, 8 * 4, epoch0 + 24, 8 * 4);
  /* The labeled stream has its own order. */
  int32_t perm_l[23], perm_u[100];
  sc_batch_plan_epoch_order(&bp, SC_STREAM_LABELED, 0, perm_l);
  sc_batch_plan_epoch_order(&bp, SC_STREAM_UNLABELED, 0, perm_u);
  sc_batch_plan_batch(&bp, SC_STREAM_LABELED, 0, 5, out);
  g_assert_cmpint(out[0], ==, p->labeled.indices[perm_l[5]]);
  g_assert_cmpint(epoch0[0], ==, p->unlabeled.indices[perm_u[0]]);
  /* The test stream in order, the last batch partial. */
  g_assert_cmpint(bp.test_batches, ==, 1);
  g_assert_cmpuint(sc_batch_plan_batch(&bp, SC_STREAM_TEST, 5, 0, out), ==, 7);
  g_assert_cmpmem(out, 7 * 4, p->test.indices, 7 * 4);
  sc_batch_plan_clear(&bp);
}

/* The plan over a real-format data set, end to end. */
static void
test_plan_on_idx(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_idx_folder(tmp, 200, 50, 28, 28, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_AUTO, &error);
  g_assert_no_error(error);
  ScSplitConfig c = { .labeled_per_class = 2, .seed = 5 };
  g_autoptr(ScSplitPlan) p = sc_split_plan_new(d, &c, &error);
  g_assert_no_error(error);
  ScBatchPlan bp;
  g_assert_true(sc_batch_plan_init(&bp, p, 20, &error));
  g_assert_cmpint(bp.steps, ==, 10);
  g_assert_cmpint(bp.labeled_batch, ==, 2);
  g_assert_cmpint(bp.unlabeled_batch, ==, 18);
  int32_t idx[20];
  size_t n = sc_batch_plan_batch(&bp, SC_STREAM_LABELED, 0, 0, idx);
  const ScSplit *split = sc_batch_plan_split(&bp, SC_STREAM_LABELED);
  g_autofree guint8 *images = g_malloc(n * 784);
  sc_split_gather(split, idx, n, images);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpuint(images[i * 784 + 5], ==, fx_pattern(idx[i], 0, 5, 0));
  sc_batch_plan_clear(&bp);
  sc_test_rmtree(tmp);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/Data/Plan/per-class", test_per_class);
  g_test_add_func("/Data/Plan/total", test_total);
  g_test_add_func("/Data/Plan/seeds", test_seeds);
  g_test_add_func("/Data/Plan/caps", test_caps);
  g_test_add_func("/Data/Plan/errors", test_split_errors);
  g_test_add_func("/Data/Batches/reference", test_reference_batches);
  g_test_add_func("/Data/Batches/rejection", test_rejection);
  g_test_add_func("/Data/Batches/epoch-shuffle", test_epoch_shuffle);
  g_test_add_func("/Data/Batches/on-idx", test_plan_on_idx);
  return g_test_run();
}
