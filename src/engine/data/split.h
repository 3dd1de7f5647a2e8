/* The split plan: which images are labeled, unlabeled and test.
 *
 * 1. `subset` (0 = all) caps every split of the data set first: a seeded
 *    random choice of at most that many images from each, kept in file order.
 * 2. Labeled: a seeded, class-balanced choice from the (capped) train split:
 *    `labeled_per_class` from every class, or `labeled_total` spread evenly
 *    (classes 0.. r-1 get one more when the total does not divide by K), or
 *    every training image when both are 0 (the reference on STL-10). A class
 *    with too few images is an error naming it.
 * 3. Unlabeled: the data set's own unlabeled split (STL-10, folders with
 *    `unlabeled/`), else the training images not chosen as labeled; then a
 *    seeded random choice of at most `unlabeled_cap` of them (0 = no cap).
 * 4. Test: the (capped) test split.
 *
 * Every random choice is drawn from ScRng(seed, SC_RNG_SPLIT, 0, what, class),
 * so a seed gives the same plan on every machine. Index lists are sorted. */
#pragma once

#include "dataset.h"

G_BEGIN_DECLS

typedef struct {
  int labeled_per_class; /* > 0: this many of each class */
  int labeled_total;     /* > 0: this many in all, class-balanced */
  size_t unlabeled_cap;  /* 0: no cap */
  size_t subset;         /* 0: all; else at most this many images of each split */
  uint64_t seed;
} ScSplitConfig;

/* A list of images of one split. */
typedef struct {
  const ScSplit *split; /* borrowed from the data set */
  int32_t *indices;     /* (count) ascending indices into split */
  size_t count;
} ScSplitView;

typedef struct {
  ScSplitView labeled;   /* from the train split; has labels */
  ScSplitView unlabeled; /* from the unlabeled or the train split; count may be 0 */
  ScSplitView test;      /* from the test split; has labels */
  int n_classes;
  uint64_t seed;         /* the config's, for the batcher's shuffles */
} ScSplitPlan;

/* The plan borrows `dataset`'s splits: free the plan first. */
ScSplitPlan *sc_split_plan_new(const ScDataset *dataset, const ScSplitConfig *config,
                               GError **error);
void sc_split_plan_free(ScSplitPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScSplitPlan, sc_split_plan_free)

/* Images of each class in `view` (labels required): counts[K]. */
void sc_split_view_class_counts(const ScSplitView *view, int n_classes, size_t *counts);

G_END_DECLS
