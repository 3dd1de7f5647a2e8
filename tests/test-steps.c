/* Training steps composed from the engine's parts (batches, augmenter,
 * models, losses, Adam) as the three runs use them:
 *   - one supervised step and one contrastive step, run twice from the same
 *     seed, give the same losses and parameters bit for bit, and another
 *     seed gives others;
 *   - evaluation carries no augmentation: two evaluations with different
 *     seeds give identical metrics, and the last partial test batch counts
 *     by its size. */
#include <math.h>
#include <string.h>

#include "adam.h"
#include "augment.h"
#include "data/batcher.h"
#include "data/readers.h"
#include "data/split.h"
#include "loss.h"
#include "model.h"
#include "test-util.h"

#define SRC 28    /* stored side, grey like Fashion-MNIST */
#define SIDE 32   /* model input side: images are resized to it */
#define WIDTH 8   /* encoder and head width */
#define CLASSES 10
#define BATCH 6

static ScBackend *
cpu(void)
{
  static ScBackend *be;
  if (be == NULL) {
    g_autoptr(GError) error = NULL;
    be = sc_backend_cpu_new(2, &error);
    g_assert_no_error(error);
  }
  return be;
}

/* n grey (SRC, SRC, 1) images with per-image blobs on noise, labels i % 10. */
static ScSplit *
synthetic_split(const char *name, size_t n, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed(seed);
  guint8 *px = g_malloc(n * SRC * SRC);
  int32_t *labels = g_new(int32_t, n);
  for (size_t i = 0; i < n; i++) {
    int cx = g_rand_int_range(rand, 4, SRC - 4), cy = g_rand_int_range(rand, 4, SRC - 4);
    for (int y = 0; y < SRC; y++)
      for (int x = 0; x < SRC; x++) {
        int blob = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 20 ? 180 : 0;
        px[(i * SRC + y) * SRC + x] = (guint8)(blob + g_rand_int_range(rand, 0, 60));
      }
    labels[i] = (int32_t)(i % CLASSES);
  }
  g_rand_free(rand);
  g_autoptr(GBytes) bytes = g_bytes_new_take(px, n * SRC * SRC);
  return sc_split_new_hwc(name, bytes, n, SRC, SRC, 1, labels);
}

static ScDataset *
synthetic_dataset(size_t n_train, size_t n_test)
{
  ScDataset *d = sc_dataset_new(SC_FORMAT_IDX, "/synthetic");
  d->train = synthetic_split("train", n_train, 1);
  d->test = synthetic_split("test", n_test, 2);
  d->n_classes = CLASSES;
  d->class_names = g_new0(char *, CLASSES + 1);
  for (int k = 0; k < CLASSES; k++)
    d->class_names[k] = g_strdup_printf("%d", k);
  return d;
}

/* An encoder and a head (the linear probe, or the projection head) in one
 * parameter arena with one Adam. */
typedef struct {
  ScNet *encoder, *head;
  ScParams *params;
  ScAdam *adam;
  int capacity;
  float *x;       /* (capacity, SIDE, SIDE, 3) augmented images */
  float *dfeat;   /* (capacity, WIDTH) gradient of the features */
  float *dout;    /* (capacity, head outputs) gradient of the head's output */
  float *loss;    /* (capacity) per-sample loss */
} Model;

static void
model_init(Model *m, gboolean contrastive, uint64_t seed, int capacity)
{
  g_autoptr(GError) error = NULL;
  m->encoder = sc_encoder_new(SIDE, SIDE, 3, WIDTH, &error);
  g_assert_no_error(error);
  m->head = contrastive ? sc_projection_head_new(WIDTH, WIDTH)
                        : sc_linear_head_new(WIDTH, CLASSES);
  ScNet *nets[] = { m->encoder, m->head };
  m->params = sc_params_new(cpu(), nets, 2, &error);
  g_assert_no_error(error);
  sc_net_init_glorot(m->encoder, seed, 0);
  sc_net_init_glorot(m->head, seed, 1);
  g_assert_true(sc_net_prepare(m->encoder, capacity, &error));
  g_assert_true(sc_net_prepare(m->head, capacity, &error));
  ScAdamConfig config;
  sc_adam_config_init_default(&config);
  m->adam = sc_adam_new(cpu(), m->params->count, &config, &error);
  g_assert_no_error(error);
  m->capacity = capacity;
  m->x = g_new(float, (size_t)capacity * SIDE * SIDE * 3);
  m->dfeat = g_new(float, (size_t)capacity * WIDTH);
  m->dout = g_new(float, (size_t)capacity * MAX(WIDTH, CLASSES));
  m->loss = g_new(float, capacity);
}

static void
model_clear(Model *m)
{
  sc_adam_free(m->adam);
  sc_params_free(m->params);
  sc_net_free(m->encoder);
  sc_net_free(m->head);
  g_free(m->x);
  g_free(m->dfeat);
  g_free(m->dout);
  g_free(m->loss);
}

/* Augments n images of split (by index) into x at slot `first`. */
static void
augment_into(float *x, int first, const ScSplit *split, const int32_t *indices, int n,
             gboolean training, ScAugmentStrength strength, uint64_t seed,
             ScRngPurpose purpose, uint32_t step)
{
  g_autofree guint8 *images = g_malloc((size_t)n * sc_split_image_bytes(split));
  sc_split_gather(split, indices, n, images);
  ScAugmentBatch b = { .images = images, .batch = n, .src_h = SRC, .src_w = SRC, .src_c = 1,
                       .out_h = SIDE, .out_w = SIDE, .training = training,
                       .strength = strength, .seed = seed, .purpose = purpose,
                       .epoch = 0, .step = step };
  cpu()->ops->augment(cpu(), &b, x + (size_t)first * SIDE * SIDE * 3);
}

static double
mean_of(const float *v, int n)
{
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += v[i];
  return sum / n;
}

/* Weakly augmented labeled batch -> encoder -> probe -> cross-entropy ->
 * backward -> Adam. Returns the batch's mean loss. */
static double
supervised_step(Model *m, ScBatchPlan *bp, uint64_t seed, int step)
{
  int32_t idx[16]; /* at least the plan's batch size */
  int n = (int)sc_batch_plan_batch(bp, SC_STREAM_LABELED, 0, step, idx);
  const ScSplit *split = sc_batch_plan_split(bp, SC_STREAM_LABELED);
  augment_into(m->x, 0, split, idx, n, TRUE, SC_AUGMENT_WEAK, seed, SC_RNG_AUG_WEAK, step);
  int32_t labels[16];
  for (int i = 0; i < n; i++)
    labels[i] = sc_split_labels(split)[idx[i]];

  const float *feat = sc_net_forward(m->encoder, m->x, n);
  const float *logits = sc_net_forward(m->head, feat, n);
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_softmax_xent_mean(cpu(), n, CLASSES, logits, labels, labels, m->loss,
                                     m->dout, NULL, &error));
  sc_net_backward(m->head, m->dout, m->dfeat);
  sc_net_backward(m->encoder, m->dfeat, NULL);
  sc_adam_step(m->adam, m->params->params, m->params->grads);
  g_assert_true(cpu()->ops->sync(cpu(), &error));
  return mean_of(m->loss, n);
}

/* Two strong views of an unlabeled batch, stacked as (2B, ...) -> encoder ->
 * projection head -> NT-Xent (gradient of the mean) -> backward -> Adam. */
static double
contrastive_step(Model *m, ScBatchPlan *bp, uint64_t seed, int step)
{
  int32_t idx[16]; /* at least the plan's batch size */
  int n = (int)sc_batch_plan_batch(bp, SC_STREAM_UNLABELED, 0, step, idx);
  g_assert_cmpint(2 * n, <=, m->capacity);
  const ScSplit *split = sc_batch_plan_split(bp, SC_STREAM_UNLABELED);
  augment_into(m->x, 0, split, idx, n, TRUE, SC_AUGMENT_STRONG, seed, SC_RNG_AUG_VIEW1,
               step);
  augment_into(m->x, n, split, idx, n, TRUE, SC_AUGMENT_STRONG, seed, SC_RNG_AUG_VIEW2,
               step);

  const float *feat = sc_net_forward(m->encoder, m->x, 2 * n);
  const float *proj = sc_net_forward(m->head, feat, 2 * n);
  ScNtxentArgs args = { .batch = n, .dim = WIDTH, .temperature = 0.1f,
                        .variant = SC_NTXENT_CROSS_VIEW, .p1 = proj,
                        .p2 = proj + (size_t)n * WIDTH, .loss = m->loss, .dp1 = m->dout,
                        .dp2 = m->dout + (size_t)n * WIDTH };
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_ntxent(cpu(), &args, &error));
  for (int i = 0; i < 2 * n * WIDTH; i++)
    m->dout[i] /= (float)n; /* the sum's gradient -> the mean's */
  sc_net_backward(m->head, m->dout, m->dfeat);
  sc_net_backward(m->encoder, m->dfeat, NULL);
  sc_adam_step(m->adam, m->params->params, m->params->grads);
  g_assert_true(cpu()->ops->sync(cpu(), &error));
  return mean_of(m->loss, n);
}

typedef struct {
  double loss[2];  /* steps 0 and 1 */
  float *params;   /* after both */
  size_t n_params;
} Outcome;

/* Builds everything afresh from `seed` and runs two steps of one kind. */
static Outcome
run_two_steps(gboolean contrastive, uint64_t seed)
{
  g_autoptr(ScDataset) d = synthetic_dataset(40, 10);
  ScSplitConfig sc = { .labeled_per_class = 1, .seed = seed };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScSplitPlan) plan = sc_split_plan_new(d, &sc, &error);
  g_assert_no_error(error);
  /* 10 labeled + 30 unlabeled, batch 8: 5 steps of 6 unlabeled + 2 labeled;
   * a supervised step takes the 2 labeled. */
  ScBatchPlan bp;
  g_assert_true(sc_batch_plan_init(&bp, plan, 8, &error));
  g_assert_cmpint(bp.unlabeled_batch, ==, BATCH);
  g_assert_cmpint(bp.labeled_batch, ==, 2);
  g_assert_cmpint(bp.batch_size, <=, 16);

  Model m;
  model_init(&m, contrastive, seed, 2 * BATCH);
  Outcome out;
  for (int step = 0; step < 2; step++)
    out.loss[step] = contrastive ? contrastive_step(&m, &bp, seed, step)
                                 : supervised_step(&m, &bp, seed, step);
  out.n_params = m.params->count;
  out.params = g_memdup2(m.params->params, out.n_params * sizeof(float));
  model_clear(&m);
  sc_batch_plan_clear(&bp);
  return out;
}

static void
check_determinism(gboolean contrastive)
{
  Outcome a = run_two_steps(contrastive, 7);
  Outcome b = run_two_steps(contrastive, 7);
  Outcome other = run_two_steps(contrastive, 8);
  g_test_message("%s: losses %.9g, %.9g (seed 8: %.9g)",
                 contrastive ? "contrastive" : "supervised", a.loss[0], a.loss[1],
                 other.loss[0]);
  for (int s = 0; s < 2; s++) {
    g_assert_true(isfinite(a.loss[s]));
    g_assert_cmpfloat(a.loss[s], ==, b.loss[s]);
  }
  g_assert_cmpmem(a.params, a.n_params * sizeof(float), b.params, b.n_params * sizeof(float));
  /* The first step changed the model, and the seed reaches the numbers. */
  g_assert_cmpfloat(a.loss[1], !=, a.loss[0]);
  g_assert_cmpfloat(other.loss[0], !=, a.loss[0]);
  g_free(a.params);
  g_free(b.params);
  g_free(other.params);
}

static void
test_supervised_step_deterministic(void)
{
  check_determinism(FALSE);
}

static void
test_contrastive_step_deterministic(void)
{
  check_determinism(TRUE);
}

typedef struct {
  double loss, acc, unweighted_loss;
} Metrics;

/* Loss and accuracy of the model over the test stream in batches of
 * batch_size, each batch weighted by its size as Keras's Mean metric does;
 * `training` and `seed` go to the augmenter. */
static Metrics
evaluate(Model *m, ScBatchPlan *bp, gboolean training, uint64_t seed)
{
  const ScSplit *split = sc_batch_plan_split(bp, SC_STREAM_TEST);
  ScMean loss, acc;
  sc_mean_reset(&loss);
  sc_mean_reset(&acc);
  double sum_of_means = 0;
  g_autofree int32_t *idx = g_new(int32_t, bp->batch_size);
  g_autofree int32_t *labels = g_new(int32_t, bp->batch_size);
  for (int t = 0; t < bp->test_batches; t++) {
    int n = (int)sc_batch_plan_batch(bp, SC_STREAM_TEST, 0, t, idx);
    augment_into(m->x, 0, split, idx, n, training, SC_AUGMENT_STRONG, seed, SC_RNG_AUG_WEAK,
                 (uint32_t)t);
    for (int i = 0; i < n; i++)
      labels[i] = sc_split_labels(split)[idx[i]];
    const float *feat = sc_net_forward(m->encoder, m->x, n);
    const float *logits = sc_net_forward(m->head, feat, n);
    int64_t correct = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(sc_softmax_xent_mean(cpu(), n, CLASSES, logits, labels, labels, m->loss,
                                       NULL, &correct, &error));
    sc_mean_add(&loss, mean_of(m->loss, n) * n, n);
    sc_mean_add(&acc, (double)correct, n);
    sum_of_means += mean_of(m->loss, n);
  }
  return (Metrics){ sc_mean_result(&loss), sc_mean_result(&acc),
                    sum_of_means / bp->test_batches };
}

static void
test_evaluation_without_augmentation(void)
{
  g_autoptr(ScDataset) d = synthetic_dataset(20, 13);
  ScSplitConfig sc = { .seed = 3 };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScSplitPlan) plan = sc_split_plan_new(d, &sc, &error);
  g_assert_no_error(error);
  ScBatchPlan bp, whole;
  g_assert_true(sc_batch_plan_init(&bp, plan, 5, &error));
  g_assert_true(sc_batch_plan_init(&whole, plan, 13, &error));
  g_assert_cmpint(bp.test_batches, ==, 3); /* 5 + 5 + 3 */
  g_assert_cmpint(whole.test_batches, ==, 1);

  Model m;
  model_init(&m, FALSE, 11, 13);
  Metrics a = evaluate(&m, &bp, FALSE, 1);
  Metrics b = evaluate(&m, &bp, FALSE, 2);
  g_test_message("loss %.9g acc %.3f; unweighted mean of batch means %.9g", a.loss, a.acc,
                 a.unweighted_loss);
  g_assert_cmpfloat(a.loss, ==, b.loss);
  g_assert_cmpfloat(a.acc, ==, b.acc);
  /* With augmentation on, the seed would change the numbers. */
  Metrics noisy1 = evaluate(&m, &bp, TRUE, 1);
  Metrics noisy2 = evaluate(&m, &bp, TRUE, 2);
  g_assert_cmpfloat(noisy1.loss, !=, noisy2.loss);

  /* Batches of 5, 5, 3 weighted by size equal one batch of all 13, which the
   * plain mean of the three batch means does not. */
  Metrics one = evaluate(&m, &whole, FALSE, 1);
  g_assert_cmpfloat_with_epsilon(a.loss, one.loss, 1e-6 * one.loss);
  g_assert_cmpfloat(a.acc, ==, one.acc);
  g_assert_cmpfloat(fabs(a.unweighted_loss - one.loss), >, 1e-4);
  model_clear(&m);
  sc_batch_plan_clear(&bp);
  sc_batch_plan_clear(&whole);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/Steps/supervised-deterministic", test_supervised_step_deterministic);
  g_test_add_func("/Steps/contrastive-deterministic", test_contrastive_step_deterministic);
  g_test_add_func("/Steps/evaluation-without-augmentation",
                  test_evaluation_without_augmentation);
  return g_test_run();
}
