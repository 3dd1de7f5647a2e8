/* The split plan: seeded, class-balanced labeled subset; unlabeled and test
 * images (see split.h). */
#include "split.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "sc-error.h"

/* The `step` field of each choice's ScRng(seed, SC_RNG_SPLIT, 0, step, index). */
enum {
  CHOICE_SUBSET_TRAIN = 1,
  CHOICE_SUBSET_TEST,
  CHOICE_SUBSET_UNLABELED,
  CHOICE_LABELED,       /* index = class */
  CHOICE_UNLABELED_CAP,
};

static int
compare_i32(gconstpointer a, gconstpointer b)
{
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* `k` of the n entries of `from` (all when k >= n), chosen by a seeded
 * permutation and returned in ascending order; *count gets how many. */
static int32_t *
choose(const int32_t *from, size_t n, size_t k, uint64_t seed, uint32_t what, uint32_t index,
       size_t *count)
{
  k = MIN(k, n);
  int32_t *out = g_new(int32_t, MAX(k, 1));
  if (k == n) {
    memcpy(out, from, n * sizeof(int32_t));
  } else {
    g_autofree int32_t *perm = g_new(int32_t, n);
    ScRng rng;
    sc_rng_init(&rng, seed, SC_RNG_SPLIT, 0, what, index);
    sc_rng_permutation(&rng, perm, n);
    for (size_t i = 0; i < k; i++)
      out[i] = from[perm[i]];
  }
  qsort(out, k, sizeof(int32_t), compare_i32);
  *count = k;
  return out;
}

/* The split's images, capped at `subset` (0: all). */
static void
view_of_split(ScSplitView *view, const ScSplit *split, size_t subset, uint64_t seed,
              uint32_t what)
{
  size_t n = sc_split_count(split);
  g_autofree int32_t *all = g_new(int32_t, MAX(n, 1));
  for (size_t i = 0; i < n; i++)
    all[i] = (int32_t)i;
  view->split = split;
  view->indices = choose(all, n, subset > 0 ? subset : n, seed, what, 0, &view->count);
}

void
sc_split_view_class_counts(const ScSplitView *view, int n_classes, size_t *counts)
{
  g_return_if_fail(view != NULL && counts != NULL && n_classes > 0);
  const int32_t *labels = sc_split_labels(view->split);
  g_return_if_fail(labels != NULL);
  memset(counts, 0, n_classes * sizeof(size_t));
  for (size_t i = 0; i < view->count; i++)
    counts[labels[view->indices[i]]]++;
}

static gboolean
check_config(const ScDataset *d, const ScSplitConfig *c, GError **error)
{
  if (c->labeled_per_class < 0 || c->labeled_total < 0
      || (c->labeled_per_class > 0 && c->labeled_total > 0)) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Labeled images: give a count per class or a total, not both and not "
                "negative (got %d per class, %d in all)", c->labeled_per_class,
                c->labeled_total);
    return FALSE;
  }
  const ScSplit *splits[] = { d->train, d->test, d->unlabeled };
  for (size_t i = 0; i < G_N_ELEMENTS(splits); i++) {
    if (splits[i] != NULL && sc_split_count(splits[i]) > G_MAXINT32) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_UNSUPPORTED,
                  "The %s split holds %zu images, more than the %d a plan can index",
                  sc_split_name(splits[i]), sc_split_count(splits[i]), G_MAXINT32);
      return FALSE;
    }
  }
  return TRUE;
}

/* How many labeled images of each class the config asks for (want[K]). */
static gboolean
labeled_wanted(const ScDataset *d, const ScSplitConfig *c, const size_t *have, size_t *want,
               GError **error)
{
  int k_count = d->n_classes;
  for (int k = 0; k < k_count; k++) {
    if (c->labeled_per_class > 0)
      want[k] = c->labeled_per_class;
    else if (c->labeled_total > 0)
      want[k] = c->labeled_total / k_count + (k < c->labeled_total % k_count);
    else
      want[k] = have[k];
    if (want[k] > have[k]) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_INVALID_ARGUMENT,
                  "Class \"%s\" has %zu training image%s%s, fewer than the %zu labeled "
                  "ones asked for", d->class_names[k], have[k], have[k] == 1 ? "" : "s",
                  c->subset > 0 ? " after the subset cap" : "", want[k]);
      return FALSE;
    }
  }
  return TRUE;
}

/* Chooses the labeled images from the train view; marks them in chosen[]. */
static gboolean
choose_labeled(const ScDataset *d, const ScSplitConfig *c, const ScSplitView *train,
               ScSplitView *labeled, gboolean *chosen, GError **error)
{
  int n_classes = d->n_classes;
  g_autofree size_t *have = g_new(size_t, n_classes);
  g_autofree size_t *want = g_new(size_t, n_classes);
  sc_split_view_class_counts(train, n_classes, have);
  if (!labeled_wanted(d, c, have, want, error))
    return FALSE;

  const int32_t *labels = sc_split_labels(train->split);
  g_autofree int32_t *members = g_new(int32_t, MAX(train->count, 1));
  for (int k = 0; k < n_classes; k++) {
    size_t m = 0, taken;
    for (size_t i = 0; i < train->count; i++)
      if (labels[train->indices[i]] == k)
        members[m++] = (int32_t)i; /* positions in the train view */
    g_autofree int32_t *pick = choose(members, m, want[k], c->seed, CHOICE_LABELED, k, &taken);
    for (size_t j = 0; j < taken; j++)
      chosen[pick[j]] = TRUE;
  }
  labeled->split = train->split;
  labeled->indices = g_new(int32_t, MAX(train->count, 1));
  labeled->count = 0;
  for (size_t i = 0; i < train->count; i++)
    if (chosen[i])
      labeled->indices[labeled->count++] = train->indices[i];
  return TRUE;
}

ScSplitPlan *
sc_split_plan_new(const ScDataset *dataset, const ScSplitConfig *config, GError **error)
{
  g_return_val_if_fail(dataset != NULL && config != NULL, NULL);
  g_return_val_if_fail(dataset->train != NULL && sc_split_labels(dataset->train) != NULL,
                       NULL);
  if (!check_config(dataset, config, error))
    return NULL;
  const ScSplitConfig *c = config;
  g_autoptr(ScSplitPlan) plan = g_new0(ScSplitPlan, 1);
  plan->n_classes = dataset->n_classes;
  plan->seed = c->seed;

  ScSplitView train;
  view_of_split(&train, dataset->train, c->subset, c->seed, CHOICE_SUBSET_TRAIN);
  view_of_split(&plan->test, dataset->test, c->subset, c->seed, CHOICE_SUBSET_TEST);

  g_autofree gboolean *chosen = g_new0(gboolean, MAX(train.count, 1));
  if (!choose_labeled(dataset, c, &train, &plan->labeled, chosen, error)) {
    g_free(train.indices);
    return NULL;
  }

  /* Unlabeled: the data set's own, else the training images left over. */
  ScSplitView pool;
  if (dataset->unlabeled != NULL) {
    view_of_split(&pool, dataset->unlabeled, c->subset, c->seed, CHOICE_SUBSET_UNLABELED);
  } else {
    pool.split = dataset->train;
    pool.indices = g_new(int32_t, MAX(train.count, 1));
    pool.count = 0;
    for (size_t i = 0; i < train.count; i++)
      if (!chosen[i])
        pool.indices[pool.count++] = train.indices[i];
  }
  plan->unlabeled.split = pool.split;
  plan->unlabeled.indices = choose(pool.indices, pool.count,
                                   c->unlabeled_cap > 0 ? c->unlabeled_cap : pool.count,
                                   c->seed, CHOICE_UNLABELED_CAP, 0, &plan->unlabeled.count);
  g_free(pool.indices);
  g_free(train.indices);
  g_debug("split plan: %zu labeled, %zu unlabeled (%s split), %zu test", plan->labeled.count,
          plan->unlabeled.count, sc_split_name(pool.split), plan->test.count);
  return g_steal_pointer(&plan);
}

void
sc_split_plan_free(ScSplitPlan *plan)
{
  if (plan == NULL)
    return;
  g_free(plan->labeled.indices);
  g_free(plan->unlabeled.indices);
  g_free(plan->test.indices);
  g_free(plan);
}
