/* kNN accuracy of encoder features (k = 20, cosine): each test image takes
 * the majority class of its 20 most similar labeled training images, ties
 * going to the class with the larger summed similarity, then the smaller
 * class index. A measure of the representation that needs no training. */
#include "trainer-private.h"

#include <math.h>
#include <string.h>

#define KNN_K 20

/* Scales each row of (n, d) to unit length; zero rows stay zero. */
static void
normalize_rows(float *x, size_t n, int d)
{
  for (size_t i = 0; i < n; i++) {
    float *row = x + i * d;
    double ss = 0.0;
    for (int j = 0; j < d; j++)
      ss += (double)row[j] * row[j];
    float inv = ss > 0.0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (int j = 0; j < d; j++)
      row[j] *= inv;
  }
}

/* Features of a split view, normalised, into host (count, width). */
static void
encode_view(ScTrainer *t, ScNet *encoder, const ScSplitView *view, float *host)
{
  size_t chunk = (size_t)t->config.batch_size;
  size_t width = t->config.width;
  for (size_t i = 0; i < view->count; i += chunk) {
    size_t n = MIN(chunk, view->count - i);
    const float *f = sc_trainer_encode_plain(t, encoder, view->split, view->indices + i, n);
    t->be->ops->download(t->be, host + i * width, f, n * width * sizeof(float));
  }
  normalize_rows(host, view->count, (int)width);
}

/* The predicted class from one row of similarities to the labeled images. */
static int
vote(const float *sim, size_t n, const int32_t *labels, int k, int n_classes,
     double *score_sum, int *votes)
{
  float best[KNN_K];
  int32_t best_label[KNN_K];
  int have = 0;
  /* Insertion into a short sorted list (descending). */
  for (size_t j = 0; j < n; j++) {
    float s = sim[j];
    if (have == k && !(s > best[k - 1]))
      continue;
    int at = have < k ? have++ : k - 1;
    while (at > 0 && best[at - 1] < s) {
      best[at] = best[at - 1];
      best_label[at] = best_label[at - 1];
      at--;
    }
    best[at] = s;
    best_label[at] = labels[j];
  }
  memset(votes, 0, n_classes * sizeof(int));
  memset(score_sum, 0, n_classes * sizeof(double));
  for (int i = 0; i < have; i++) {
    votes[best_label[i]]++;
    score_sum[best_label[i]] += best[i];
  }
  int winner = 0;
  for (int c = 1; c < n_classes; c++)
    if (votes[c] > votes[winner]
        || (votes[c] == votes[winner] && score_sum[c] > score_sum[winner]))
      winner = c;
  return winner;
}

gboolean
sc_trainer_knn_accuracy(ScTrainer *t, ScNet *encoder, double *accuracy, GError **error)
{
  ScBackend *be = t->be;
  const ScSplitView *train = &t->plan->labeled, *test = &t->plan->test;
  const size_t width = t->config.width, nl = train->count, nt = test->count;
  const size_t chunk = (size_t)t->config.batch_size;
  const int k = (int)MIN((size_t)KNN_K, nl);

  g_autofree float *train_f = g_new(float, nl * width); /* (nl, width) */
  g_autofree float *test_f = g_new(float, MAX(nt, 1) * width); /* (nt, width) */
  g_autofree float *sim = g_new(float, chunk * nl);  /* (chunk, nl) */
  g_autofree int32_t *labels = g_new(int32_t, nl);
  encode_view(t, encoder, train, train_f);
  encode_view(t, encoder, test, test_f);
  const int32_t *train_labels = sc_split_labels(train->split);
  const int32_t *test_labels = sc_split_labels(test->split);
  for (size_t j = 0; j < nl; j++)
    labels[j] = train_labels[train->indices[j]];

  /* Similarities on the backend: (chunk, width) x (nl, width)^T. */
  float *dev_train = sc_backend_alloc(be, nl * width * sizeof(float), "kNN features", error);
  if (dev_train == NULL)
    return FALSE;
  float *dev_test = sc_backend_alloc(be, chunk * width * sizeof(float), "kNN features",
                                     error);
  float *dev_sim = dev_test != NULL
                     ? sc_backend_alloc(be, chunk * nl * sizeof(float), "kNN similarities",
                                        error)
                     : NULL;
  if (dev_sim == NULL) {
    be->ops->free(be, dev_train);
    if (dev_test != NULL)
      be->ops->free(be, dev_test);
    return FALSE;
  }
  be->ops->upload(be, dev_train, train_f, nl * width * sizeof(float));

  g_autofree double *score_sum = g_new(double, t->n_classes);
  g_autofree int *votes = g_new(int, t->n_classes);
  size_t correct = 0;
  for (size_t i = 0; i < nt; i += chunk) {
    size_t n = MIN(chunk, nt - i);
    be->ops->upload(be, dev_test, test_f + i * width, n * width * sizeof(float));
    be->ops->gemm(be, false, true, (int)n, (int)nl, (int)width, 1.0f, dev_test, (int)width,
                  dev_train, (int)width, 0.0f, dev_sim, (int)nl);
    be->ops->download(be, sim, dev_sim, n * nl * sizeof(float));
    for (size_t r = 0; r < n; r++) {
      int predicted = vote(sim + r * nl, nl, labels, k, t->n_classes, score_sum, votes);
      correct += predicted == test_labels[test->indices[i + r]];
    }
  }
  be->ops->free(be, dev_train);
  be->ops->free(be, dev_test);
  be->ops->free(be, dev_sim);
  *accuracy = nt > 0 ? (double)correct / nt : 0.0;
  return be->ops->sync(be, error);
}
