/* The training loop: three runs, validation every epoch, checkpoints.
 *
 * Every random draw is keyed by (seed, purpose, epoch, step, index) through
 * the counter-based generator, and the batch order by (seed, epoch, stream),
 * so an epoch replays exactly and a resumed run continues where the
 * checkpoint left it: the generator's position is the (run, epoch) to do
 * next. The baseline, the probe and finetuning see the same labeled batches
 * with the same weak augmentations in a given epoch and step, so the runs
 * differ only in their models. */
#include "trainer-private.h"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* Training meters of one epoch (reference section 5.5). */
typedef struct {
  ScMean loss, acc;     /* supervised runs; pretraining: the probe's */
  ScMean c_loss, c_acc; /* pretraining */
  size_t images;        /* views and images through the encoder */
} Meters;

static void
meters_reset(Meters *m)
{
  sc_mean_reset(&m->loss);
  sc_mean_reset(&m->acc);
  sc_mean_reset(&m->c_loss);
  sc_mean_reset(&m->c_acc);
  m->images = 0;
}

static const char *const run_titles[SC_N_RUNS] = { "Baseline", "Pretraining",
                                                   "Finetuning" };

static void
emit(ScTrainer *t, const ScTrainerEvent *event)
{
  if (t->callback != NULL)
    t->callback(event, t->user_data);
}

static void
model_clear(ScTrainerModel *m)
{
  sc_adam_free(m->adam);
  sc_params_free(m->params);
  sc_net_free(m->encoder);
  sc_net_free(m->head);
  memset(m, 0, sizeof *m);
}

/* encoder may be NULL (the probe). */
static gboolean
model_init(ScTrainer *t, ScTrainerModel *m, const char *name, ScNet *encoder, ScNet *head,
           float lr, uint32_t net_id, GError **error)
{
  m->name = name;
  m->encoder = encoder;
  m->head = head;
  ScNet *nets[2] = { encoder != NULL ? encoder : head, head };
  int n_nets = encoder != NULL ? 2 : 1;
  m->params = sc_params_new(t->be, nets, n_nets, error);
  if (m->params == NULL)
    return FALSE;
  /* Every encoder starts from the same draw, so the runs differ only in
   * what they learn. */
  if (encoder != NULL)
    sc_net_init_glorot(encoder, t->config.seed, 0);
  sc_net_init_glorot(head, t->config.seed, net_id);

  ScAdamConfig ac;
  sc_adam_config_init_default(&ac);
  ac.learning_rate = lr;
  if (t->config.cosine_schedule) {
    ac.schedule = SC_LR_COSINE;
    ac.decay_steps = (int64_t)t->config.epochs * t->batches.steps;
    ac.final_fraction = 0.0f;
  }
  m->adam = sc_adam_new(t->be, m->params->count, &ac, error);
  return m->adam != NULL;
}

static gboolean
build_models(ScTrainer *t, GError **error)
{
  const ScTrainConfig *c = &t->config;
  int w = c->width;
  for (int r = 0; r < SC_N_RUNS; r++) {
    ScNet *enc = sc_encoder_new(t->in_size, t->in_size, 3, w, error);
    if (enc == NULL)
      return FALSE;
    ScNet *head = r == SC_RUN_PRETRAIN ? sc_projection_head_new(w, w)
                                       : sc_linear_head_new(w, t->n_classes);
    float lr = r == SC_RUN_PRETRAIN ? c->contrastive_learning_rate : c->learning_rate;
    /* net ids: 1 projection head, 2 classifiers (baseline and finetune alike), 3 probe */
    if (!model_init(t, &t->models[r], sc_run_name(r), enc, head, lr,
                    r == SC_RUN_PRETRAIN ? 1 : 2, error))
      return FALSE;
  }
  return model_init(t, &t->probe, "probe", NULL, sc_linear_head_new(w, t->n_classes),
                    c->learning_rate, 3, error);
}

/* The augmenter reads every batch with one shape. */
static gboolean
check_image_shapes(ScTrainer *t, GError **error)
{
  const ScSplit *train = t->data->train;
  t->src_h = sc_split_height(train);
  t->src_w = sc_split_width(train);
  t->src_c = sc_split_channels(train);
  const ScSplit *others[] = { t->data->test, t->data->unlabeled };
  for (size_t i = 0; i < G_N_ELEMENTS(others); i++) {
    const ScSplit *s = others[i];
    if (s == NULL || (sc_split_height(s) == t->src_h && sc_split_width(s) == t->src_w
                      && sc_split_channels(s) == t->src_c))
      continue;
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT,
                "%s: the %s images are %dx%dx%d but the train images %dx%dx%d; every "
                "split must have one size",
                t->data->path, sc_split_name(s), sc_split_height(s), sc_split_width(s),
                sc_split_channels(s), t->src_h, t->src_w, t->src_c);
    return FALSE;
  }
  if (t->src_c != 1 && t->src_c != 3) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT,
                "%s: images have %d channels, expected 1 (grey) or 3 (RGB)", t->data->path,
                t->src_c);
    return FALSE;
  }
  return TRUE;
}

/* Images of one contrastive batch: unlabeled + labeled per step. The
 * integer division of the batch plan can make it a little larger than
 * batch_size (20000 + 100 images in batches of 525: 38 steps of 526 + 2). */
static int
contrastive_batch(const ScTrainer *t)
{
  return t->batches.unlabeled_batch + t->batches.labeled_batch;
}

static gboolean
allocate_buffers(ScTrainer *t, GError **error)
{
  /* Two views of a contrastive batch, or one test batch. */
  t->capacity = MAX(2 * contrastive_batch(t), t->config.batch_size);
  t->image_bytes = (size_t)t->src_h * t->src_w * t->src_c;
  t->view_floats = (size_t)t->in_size * t->in_size * 3;
  size_t cap = t->capacity;
  size_t width = t->config.width;
  t->indices = g_new(int32_t, cap);
  t->host_images = g_try_malloc(cap * t->image_bytes);
  t->host_loss = g_new(float, cap);
  t->host_labels = g_new(int32_t, cap);
  if (t->host_images == NULL) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "Out of memory for a batch of %zu images", cap);
    return FALSE;
  }
  ScBackend *be = t->be;
  return (t->dev_images = sc_backend_alloc(be, cap * t->image_bytes, "a batch", error))
         && (t->views = sc_backend_alloc(be, cap * t->view_floats * 4, "augmented views",
                                         error))
         && (t->dproj = sc_backend_alloc(be, cap * width * 4, "projection grads", error))
         && (t->dfeat = sc_backend_alloc(be, cap * width * 4, "feature grads", error))
         && (t->loss = sc_backend_alloc(be, cap * 4, "losses", error))
         && (t->dlogits = sc_backend_alloc(be, cap * t->n_classes * 4, "logit grads", error))
         && (t->dev_labels = sc_backend_alloc(be, cap * 4, "labels", error))
         && (t->dev_indices = sc_backend_alloc(be, cap * 4, "batch indices", error));
}

/* Images of split packed (count, h, w, c) into backend memory dst, a chunk
 * at a time through the host batch buffer (the split may be transposed on
 * access, as STL-10 is). */
static void
upload_split(ScTrainer *t, const ScSplit *split, guint8 *dst)
{
  size_t count = sc_split_count(split);
  const guint8 *block = sc_split_peek_hwc(split);
  if (block != NULL) {
    t->be->ops->upload(t->be, dst, block, count * t->image_bytes);
    return;
  }
  size_t chunk = t->capacity;
  for (size_t first = 0; first < count; first += chunk) {
    size_t n = MIN(chunk, count - first);
    for (size_t i = 0; i < n; i++)
      t->indices[i] = (int32_t)(first + i);
    sc_split_gather(split, t->indices, n, t->host_images);
    t->be->ops->upload(t->be, dst + first * t->image_bytes, t->host_images,
                       n * t->image_bytes);
  }
}

/* Keeps the data set's splits on the backend, so a batch is gathered there
 * instead of on the host and uploaded each step. A split that does not fit
 * stays on the host; so does one a host-memory backend cannot use in place
 * (copying it would only double the memory). */
static void
make_splits_resident(ScTrainer *t)
{
  ScBackend *be = t->be;
  const ScSplit *splits[3] = { t->data->train, t->data->test, t->data->unlabeled };
  if (be->ops->gather_rows == NULL)
    return;
  for (int i = 0; i < 3; i++) {
    const ScSplit *split = splits[i];
    if (split == NULL || sc_split_count(split) == 0)
      continue;
    if (be->ops->memory_is_host) {
      t->resident[i].images = (guint8 *)sc_split_peek_hwc(split);
      t->resident[i].split = t->resident[i].images != NULL ? split : NULL;
      continue;
    }
    guint8 *images = be->ops->alloc(be, sc_split_count(split) * t->image_bytes);
    if (images == NULL) {
      g_debug("%s split stays on the host: no backend memory for %zu images",
              sc_split_name(split), sc_split_count(split));
      continue;
    }
    upload_split(t, split, images);
    t->resident[i].split = split;
    t->resident[i].images = images;
    t->resident[i].owned = TRUE;
  }
}

/* Bytes a training step needs, roughly: the views (capacity, S, S, 3) and,
 * per conv layer, output, gradient and scratch of (capacity, s, s, width)
 * floats; the larger of one such step and the data. */
static double
step_bytes_estimate(const ScTrainer *t)
{
  double cap = MAX(2 * contrastive_batch(t), t->config.batch_size);
  double s = t->in_size, bytes = cap * s * s * 3 * 4;
  for (int layer = 0; layer < 4 && s >= 3; layer++) {
    s = floor((s - 3) / 2) + 1; /* 3x3, stride 2, valid */
    bytes += 3 * cap * s * s * t->config.width * 4;
  }
  return bytes;
}

/* Refuses sizes whose step cannot fit in this machine's memory, before
 * anything large is allocated (the allocations alone would succeed and
 * the machine would swap). */
static gboolean
check_memory(const ScTrainer *t, GError **error)
{
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0 || g_strcmp0(t->config.backend, "cpu") != 0)
    return TRUE;
  double ram = (double)pages * page, need = step_bytes_estimate(t);
  if (need <= ram)
    return TRUE;
  g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_OUT_OF_MEMORY,
              "--input-size %d with --batch-size %d and --width %d needs about %.1f GiB "
              "for a training step, more than this machine's %.1f GiB: give a smaller "
              "--input-size, --batch-size or --width",
              t->in_size, t->config.batch_size, t->config.width, need / 1073741824.0,
              ram / 1073741824.0);
  return FALSE;
}

/* A folder holds its checkpoint under a fixed name. */
static char *
checkpoint_file(const char *path)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR))
    return g_build_filename(path, SC_CHECKPOINT_FILE, NULL);
  return g_strdup(path);
}

ScTrainer *
sc_trainer_new(const ScTrainConfig *config, const char *resume_path, GError **error)
{
  g_return_val_if_fail(config != NULL, NULL);
  g_autoptr(ScSafetensors) resume = NULL;
  g_autofree char *resume_file = NULL;
  ScTrainConfig effective;
  if (resume_path != NULL) {
    /* The checkpoint's configuration wins, but for where to run. */
    resume_file = checkpoint_file(resume_path);
    if (!sc_trainer_read_checkpoint_config(resume_file, &effective, &resume, error))
      return NULL;
    g_free(effective.backend);
    effective.backend = g_strdup(config->backend);
    effective.threads = config->threads;
    if (!sc_train_config_validate(&effective, error)) {
      sc_train_config_clear(&effective);
      return NULL;
    }
  } else {
    if (!sc_train_config_validate(config, error))
      return NULL;
    sc_train_config_copy(&effective, config);
    /* The checkpoint names the data absolutely, so a resume from another
     * folder reads the same data. */
    const char *typed = config->data_path != NULL ? config->data_path : SC_DEFAULT_DATA_DIR;
    g_free(effective.data_path);
    effective.data_path = g_canonicalize_filename(typed, NULL);
  }

  ScTrainer *t = g_new0(ScTrainer, 1);
  t->config = effective;
  g_mutex_init(&t->pause_lock);
  g_cond_init(&t->pause_cond);
  for (int r = 0; r < SC_N_RUNS; r++)
    t->history[r] = g_array_new(FALSE, TRUE, sizeof(ScEpochMetrics));
  t->in_size = t->config.input_size;

  const char *path = t->config.data_path != NULL ? t->config.data_path : SC_DEFAULT_DATA_DIR;
  if (!(t->be = sc_backend_new(t->config.backend, t->config.threads, error)))
    goto fail;
  if (!(t->data = sc_dataset_open(path, t->config.format, error))) {
    /* A resume reads the data the checkpoint names: say so, and how to fix. */
    if (resume != NULL)
      g_prefix_error(error, "The checkpoint %s trained on the data in %s, which cannot be "
                     "read now; put that data back there to resume: ", resume_file, path);
    goto fail;
  }
  t->n_classes = t->data->n_classes;

  ScSplitConfig sc = { .labeled_per_class = t->config.labeled_per_class,
                       .unlabeled_cap = t->config.unlabeled_cap,
                       .subset = t->config.subset,
                       .seed = t->config.seed };
  if (!check_image_shapes(t, error) || !(t->plan = sc_split_plan_new(t->data, &sc, error))
      || !sc_batch_plan_init(&t->batches, t->plan, t->config.batch_size, error)
      || !check_memory(t, error) || !build_models(t, error) || !allocate_buffers(t, error))
    goto fail;
  make_splits_resident(t);
  if (resume != NULL && !sc_trainer_check_data(t, resume, resume_file, error))
    goto fail;
  if (resume != NULL && !sc_trainer_restore(t, resume, resume_file, error))
    goto fail;
  return t;

fail:
  sc_trainer_free(t);
  return NULL;
}

static void
backend_free(ScTrainer *t, void *ptr)
{
  if (ptr != NULL)
    t->be->ops->free(t->be, ptr);
}

void
sc_trainer_free(ScTrainer *t)
{
  if (t == NULL)
    return;
  for (int r = 0; r < SC_N_RUNS; r++) {
    model_clear(&t->models[r]);
    g_array_unref(t->history[r]);
  }
  model_clear(&t->probe);
  if (t->be != NULL) {
    backend_free(t, t->dev_images);
    backend_free(t, t->views);
    backend_free(t, t->dproj);
    backend_free(t, t->dfeat);
    backend_free(t, t->loss);
    backend_free(t, t->dlogits);
    backend_free(t, t->dev_labels);
    backend_free(t, t->dev_indices);
    for (int i = 0; i < 3; i++)
      if (t->resident[i].owned)
        backend_free(t, t->resident[i].images);
  }
  g_free(t->indices);
  g_free(t->host_images);
  g_free(t->host_loss);
  g_free(t->host_labels);
  sc_batch_plan_clear(&t->batches);
  sc_split_plan_free(t->plan);
  sc_dataset_free(t->data);
  sc_backend_free(t->be);
  sc_train_config_clear(&t->config);
  g_free(t->checkpoint_dir);
  g_mutex_clear(&t->pause_lock);
  g_cond_clear(&t->pause_cond);
  g_free(t);
}

const ScTrainConfig *
sc_trainer_get_config(const ScTrainer *t)
{
  g_return_val_if_fail(t != NULL, NULL);
  return &t->config;
}

const ScDataset *
sc_trainer_get_dataset(const ScTrainer *t)
{
  g_return_val_if_fail(t != NULL, NULL);
  return t->data;
}

const ScSplitPlan *
sc_trainer_get_split_plan(const ScTrainer *t)
{
  g_return_val_if_fail(t != NULL, NULL);
  return t->plan;
}

void
sc_trainer_set_callback(ScTrainer *t, ScTrainerCallback callback, gpointer user_data)
{
  g_return_if_fail(t != NULL);
  t->callback = callback;
  t->user_data = user_data;
}

void
sc_trainer_set_checkpoint_dir(ScTrainer *t, const char *dir)
{
  g_return_if_fail(t != NULL);
  g_free(t->checkpoint_dir);
  t->checkpoint_dir = g_strdup(dir);
}

const ScEpochMetrics *
sc_trainer_get_history(const ScTrainer *t, ScRunKind run, int *n_epochs)
{
  g_return_val_if_fail(t != NULL && run >= 0 && run < SC_N_RUNS, NULL);
  if (n_epochs != NULL)
    *n_epochs = (int)t->history[run]->len;
  return (const ScEpochMetrics *)t->history[run]->data;
}

int
sc_trainer_get_epochs_done(const ScTrainer *t, ScRunKind run)
{
  g_return_val_if_fail(t != NULL && run >= 0 && run < SC_N_RUNS, 0);
  return t->epochs_done[run];
}

int
sc_trainer_get_steps_per_epoch(const ScTrainer *t)
{
  g_return_val_if_fail(t != NULL, 0);
  return t->batches.steps;
}

/* ---- Cancel and pause: flags read between steps ---- */

void
sc_trainer_cancel(ScTrainer *t)
{
  g_return_if_fail(t != NULL);
  g_atomic_int_set(&t->cancelled, 1);
  /* Wake a paused loop so it sees the cancel. */
  g_mutex_lock(&t->pause_lock);
  g_cond_broadcast(&t->pause_cond);
  g_mutex_unlock(&t->pause_lock);
}

void
sc_trainer_set_paused(ScTrainer *t, gboolean paused)
{
  g_return_if_fail(t != NULL);
  g_mutex_lock(&t->pause_lock);
  t->paused = paused;
  g_cond_broadcast(&t->pause_cond);
  g_mutex_unlock(&t->pause_lock);
}

gboolean
sc_trainer_is_paused(ScTrainer *t)
{
  g_return_val_if_fail(t != NULL, FALSE);
  g_mutex_lock(&t->pause_lock);
  gboolean paused = t->paused;
  g_mutex_unlock(&t->pause_lock);
  return paused;
}

/* Blocks while paused; returns the microseconds spent waiting. */
static gint64
wait_while_paused(ScTrainer *t)
{
  gint64 start = g_get_monotonic_time();
  g_mutex_lock(&t->pause_lock);
  while (t->paused && !g_atomic_int_get(&t->cancelled))
    g_cond_wait(&t->pause_cond, &t->pause_lock);
  g_mutex_unlock(&t->pause_lock);
  return g_get_monotonic_time() - start;
}

/* ---- Batches ---- */

/* Gathers n images of split (at indices) into the backend batch at
 * `first`: on the backend when the split is kept there, else on the host
 * and uploaded. */
static void
gather(ScTrainer *t, const ScSplit *split, const int32_t *indices, size_t n, size_t first)
{
  ScBackend *be = t->be;
  for (int i = 0; i < 3; i++) {
    if (t->resident[i].split == split) {
      be->ops->upload(be, t->dev_indices + first, indices, n * sizeof(int32_t));
      be->ops->gather_rows(be, t->resident[i].images, t->image_bytes, t->dev_indices + first,
                           n, t->dev_images + first * t->image_bytes);
      return;
    }
  }
  guint8 *host = t->host_images + first * t->image_bytes;
  sc_split_gather(split, indices, n, host);
  be->ops->upload(be, t->dev_images + first * t->image_bytes, host, n * t->image_bytes);
}

/* Labels of n images of split into host_labels and the backend. */
static void
load_labels(ScTrainer *t, const ScSplit *split, const int32_t *indices, size_t n)
{
  const int32_t *labels = sc_split_labels(split);
  for (size_t i = 0; i < n; i++)
    t->host_labels[i] = labels[indices[i]];
  t->be->ops->upload(t->be, t->dev_labels, t->host_labels, n * sizeof(int32_t));
}

/* n images from dev_images at `first` -> out (n, S, S, 3). */
static void
augment(ScTrainer *t, size_t first, int n, const ScAugmentStrength *strength,
        uint32_t purpose, uint32_t epoch, uint32_t step, float *out)
{
  ScAugmentBatch b = {
    .images = t->dev_images + first * t->image_bytes,
    .batch = n,
    .src_h = t->src_h, .src_w = t->src_w, .src_c = t->src_c,
    .out_h = t->in_size, .out_w = t->in_size,
    .training = strength != NULL,
    .strength = strength != NULL ? *strength : (ScAugmentStrength){ 1.0f, 0.0f, 0.0f },
    .seed = t->config.seed,
    .purpose = purpose, .epoch = epoch, .step = step,
  };
  t->be->ops->augment(t->be, &b, out);
}

const float *
sc_trainer_encode_plain(ScTrainer *t, ScNet *encoder, const ScSplit *split,
                        const int32_t *indices, size_t n)
{
  g_return_val_if_fail(n > 0 && n <= (size_t)t->capacity, NULL);
  gather(t, split, indices, n, 0);
  augment(t, 0, (int)n, NULL, 0, 0, 0, t->views);
  return sc_net_forward(encoder, t->views, (int)n);
}

/* Sum of n per-sample losses (backend) in double; the host copy stays in
 * host_loss. */
static double
download_loss_sum(ScTrainer *t, size_t n)
{
  t->be->ops->download(t->be, t->host_loss, t->loss, n * sizeof(float));
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += t->host_loss[i];
  return sum;
}

/* Where a run is, for messages and events. */
typedef struct {
  ScRunKind run;
  uint32_t epoch; /* 1-based */
  int step;       /* 0-based */
} Position;

static const char *
non_finite_name(double value)
{
  return isnan(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

/* hint: the flag whose learning rate made the weights diverge. */
static gboolean
numeric_error(ScTrainer *t, const Position *at, const char *what, double value,
              const char *hint, GError **error)
{
  g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_NUMERIC,
              "%s stopped at epoch %u, step %d of %d: the %s is %s; the weights diverged "
              "(try a smaller %s)",
              run_titles[at->run], at->epoch, at->step + 1, t->batches.steps, what,
              non_finite_name(value), hint);
  return FALSE;
}

/* What to change when pretraining diverges: a temperature far below the
 * reference's 0.1 makes the logits huge whatever the learning rate. */
static char *
contrastive_hint(const ScTrainer *t)
{
  if (t->config.temperature < 0.01f)
    return g_strdup_printf("--contrastive-lr, or rather a larger --temperature than %g",
                           (double)t->config.temperature);
  return g_strdup("--contrastive-lr");
}

/* Whether n feature rows (backend) are all finite; for error messages only. */
static gboolean
features_finite(ScTrainer *t, const float *features, int n)
{
  size_t count = (size_t)n * t->config.width;
  g_autofree float *host = g_new(float, count);
  t->be->ops->download(t->be, host, features, count * sizeof(float));
  for (size_t i = 0; i < count; i++)
    if (!isfinite(host[i]))
      return FALSE;
  return TRUE;
}

/* Forward, loss and backward of a classifier (encoder may be NULL: the
 * features are then given) on n labeled images whose labels are loaded.
 * Returns the batch's mean loss in *mean. Leaves the gradient of the head
 * in its slice and, when the encoder is given, of the encoder too. */
static gboolean
classify_step(ScTrainer *t, ScTrainerModel *m, const float *x, int n, Meters *meters,
              const Position *at, double *mean, GError **error)
{
  ScBackend *be = t->be;
  const float *h = m->encoder != NULL ? sc_net_forward(m->encoder, x, n) : x;
  const float *logits = sc_net_forward(m->head, h, n);
  int64_t correct = 0;
  if (!sc_softmax_xent_mean(be, n, t->n_classes, logits, t->dev_labels, t->host_labels,
                            t->loss, t->dlogits, &correct, error))
    return FALSE;
  *mean = download_loss_sum(t, n) / n;
  if (!isfinite(*mean)) {
    if (m->encoder == NULL && !features_finite(t, x, n)) {
      g_autofree char *hint = contrastive_hint(t);
      return numeric_error(t, at, "probe loss (of non-finite features)", *mean, hint,
                           error);
    }
    return numeric_error(t, at, m->encoder == NULL ? "probe loss" : "loss", *mean, "--lr",
                         error);
  }
  /* No gradient leaves a head without an encoder: the probe's features are
   * constants. */
  sc_net_backward(m->head, t->dlogits, m->encoder != NULL ? t->dfeat : NULL);
  if (m->encoder != NULL)
    sc_net_backward(m->encoder, t->dfeat, NULL);
  sc_adam_step(m->adam, m->params->params, m->params->grads);
  /* Keras: the loss tracker gets the batch mean weighted by the batch size
   * (supervised runs), the probe's p_loss one step mean each. */
  sc_mean_add(&meters->loss, at->run == SC_RUN_PRETRAIN ? *mean : *mean * n,
              at->run == SC_RUN_PRETRAIN ? 1.0 : n);
  sc_mean_add(&meters->acc, (double)correct, n);
  meters->images += n;
  return TRUE;
}

/* Baseline and finetuning (section 7.1): weakly augmented labeled images
 * through encoder and classifier, one Adam step. */
static gboolean
supervised_step(ScTrainer *t, ScTrainerModel *m, const Position *at, Meters *meters,
                double *step_loss, GError **error)
{
  ScBatchPlan *bp = &t->batches;
  size_t n = sc_batch_plan_batch(bp, SC_STREAM_LABELED, at->epoch, at->step, t->indices);
  const ScSplit *split = sc_batch_plan_split(bp, SC_STREAM_LABELED);
  gather(t, split, t->indices, n, 0);
  load_labels(t, split, t->indices, n);
  augment(t, 0, (int)n, &t->config.weak, SC_RNG_AUG_WEAK, at->epoch, at->step, t->views);
  return classify_step(t, m, t->views, (int)n, meters, at, step_loss, error);
}

/* Pretraining (section 7.2): NT-Xent on two strong views of unlabeled +
 * labeled images and one contrastive Adam step, then the probe on weakly
 * augmented labeled images through the just-updated encoder. */
static gboolean
pretrain_step(ScTrainer *t, const Position *at, Meters *meters, double *step_loss,
              GError **error)
{
  ScBackend *be = t->be;
  ScBatchPlan *bp = &t->batches;
  ScTrainerModel *m = &t->models[SC_RUN_PRETRAIN];
  const int width = t->config.width;

  /* x = concat(unlabeled, labeled): (B, h, w, c) */
  size_t nu = sc_batch_plan_batch(bp, SC_STREAM_UNLABELED, at->epoch, at->step, t->indices);
  gather(t, sc_batch_plan_split(bp, SC_STREAM_UNLABELED), t->indices, nu, 0);
  size_t nl = sc_batch_plan_batch(bp, SC_STREAM_LABELED, at->epoch, at->step, t->indices);
  const ScSplit *labeled = sc_batch_plan_split(bp, SC_STREAM_LABELED);
  gather(t, labeled, t->indices, nl, nu);
  load_labels(t, labeled, t->indices, nl);
  const size_t b = nu + nl;

  /* Two independent strong views: views (2B, S, S, 3), view 1 then view 2;
   * one pass of the encoder and head over both. */
  const ScAugmentStrength *strong = &t->config.strong;
  augment(t, 0, (int)b, strong, SC_RNG_AUG_VIEW1, at->epoch, at->step, t->views);
  augment(t, 0, (int)b, strong, SC_RNG_AUG_VIEW2, at->epoch, at->step,
          t->views + b * t->view_floats);
  const float *h = sc_net_forward(m->encoder, t->views, (int)(2 * b));
  const float *p = sc_net_forward(m->head, h, (int)(2 * b)); /* (2B, width) */

  int64_t correct = 0;
  ScNtxentArgs args = {
    .batch = (int)b, .dim = width, .temperature = t->config.temperature,
    .variant = t->config.ntxent, .p1 = p, .p2 = p + b * width, .loss = t->loss,
    .dp1 = t->dproj, .dp2 = t->dproj + b * width, .n_correct = &correct,
  };
  if (!sc_ntxent(be, &args, error))
    return FALSE;
  double sum = download_loss_sum(t, b);
  if (!isfinite(sum)) {
    g_autofree char *hint = contrastive_hint(t);
    return numeric_error(t, at, "contrastive loss", sum, hint, error);
  }
  /* The gradient of the SUM of the per-sample losses (section 5.2). */
  sc_net_backward(m->head, t->dproj, t->dfeat);
  sc_net_backward(m->encoder, t->dfeat, NULL);
  sc_adam_step(m->adam, m->params->params, m->params->grads);
  sc_mean_add(&meters->c_loss, sum, (double)b);
  sc_mean_add(&meters->c_acc, (double)correct, 2.0 * b);
  meters->images += 2 * b;
  *step_loss = sum / b;

  /* The probe: the labeled part of the batch, weakly augmented, through the
   * updated encoder as constants. */
  augment(t, nu, (int)nl, &t->config.weak, SC_RNG_AUG_WEAK, at->epoch, at->step, t->views);
  const float *features = sc_net_forward(m->encoder, t->views, (int)nl);
  double probe_loss;
  return classify_step(t, &t->probe, features, (int)nl, meters, at, &probe_loss, error);
}

/* Validation on the whole test split without augmentation (section 7.4).
 * Both means are per sample, so the last, smaller batch weighs by its size
 * (the reference's val_p_loss weighs batches equally; section 10). */
static gboolean
validate(ScTrainer *t, ScNet *encoder, ScNet *head, const Position *at, double *loss,
         double *acc, GError **error)
{
  ScBatchPlan *bp = &t->batches;
  const ScSplit *split = sc_batch_plan_split(bp, SC_STREAM_TEST);
  ScMean mean_loss, mean_acc;
  sc_mean_reset(&mean_loss);
  sc_mean_reset(&mean_acc);
  for (int i = 0; i < bp->test_batches; i++) {
    size_t n = sc_batch_plan_batch(bp, SC_STREAM_TEST, 0, i, t->indices);
    load_labels(t, split, t->indices, n);
    const float *h = sc_trainer_encode_plain(t, encoder, split, t->indices, n);
    const float *logits = sc_net_forward(head, h, (int)n);
    int64_t correct = 0;
    if (!sc_softmax_xent_mean(t->be, (int)n, t->n_classes, logits, t->dev_labels,
                              t->host_labels, t->loss, NULL, &correct, error))
      return FALSE;
    sc_mean_add(&mean_loss, download_loss_sum(t, n), (double)n);
    sc_mean_add(&mean_acc, (double)correct, (double)n);
  }
  *loss = sc_mean_result(&mean_loss);
  *acc = sc_mean_result(&mean_acc);
  if (!isfinite(*loss)) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_NUMERIC,
                "%s stopped in the validation after epoch %u: the test loss is %s; the "
                "weights diverged (try a smaller %s)",
                run_titles[at->run], at->epoch, non_finite_name(*loss),
                at->run == SC_RUN_PRETRAIN ? "--contrastive-lr or --lr" : "--lr");
    return FALSE;
  }
  return t->be->ops->sync(t->be, error);
}

/* ---- Runs ---- */

static gboolean
prepare_run(ScTrainer *t, ScRunKind run, GError **error)
{
  ScTrainerModel *m = &t->models[run];
  /* Pretraining encodes both views at once; everything else one test or
   * labeled batch (the latter exceeds batch_size when every image is
   * labeled: 15 images in batches of 8 make one step of 15). */
  int b = MAX(t->config.batch_size, t->batches.labeled_batch);
  int enc_capacity = run == SC_RUN_PRETRAIN ? t->capacity : b;
  if (!sc_net_prepare(m->encoder, enc_capacity, error)
      || !sc_net_prepare(m->head, enc_capacity, error))
    return FALSE;
  if (run == SC_RUN_PRETRAIN && !sc_net_prepare(t->probe.head, b, error))
    return FALSE;
  return TRUE;
}

static void
release_run(ScTrainer *t, ScRunKind run)
{
  sc_net_release(t->models[run].encoder);
  sc_net_release(t->models[run].head);
  if (run == SC_RUN_PRETRAIN)
    sc_net_release(t->probe.head);
}

static gboolean
cancelled_error(ScTrainer *t, const Position *at, GError **error)
{
  int done = t->epochs_done[at->run];
  g_autofree char *kept = NULL;
  if (t->checkpoint_dir != NULL)
    kept = g_strdup_printf("; %s holds the checkpoint written last", t->checkpoint_dir);
  g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_CANCELLED,
              "%s cancelled at epoch %u, step %d of %d (%d epoch%s of %d done)%s",
              run_titles[at->run], at->epoch, at->step + 1, t->batches.steps, done,
              done == 1 ? "" : "s", t->config.epochs, kept != NULL ? kept : "");
  return FALSE;
}

static gboolean
write_checkpoint(ScTrainer *t, ScRunKind run, int epoch, GError **error)
{
  if (t->checkpoint_dir == NULL)
    return TRUE;
  if (g_mkdir_with_parents(t->checkpoint_dir, 0755) != 0) {
    int saved = errno;
    g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_IO,
                "Cannot create the checkpoint folder %s: %s", t->checkpoint_dir,
                g_strerror(saved));
    return FALSE;
  }
  g_autofree char *path = g_build_filename(t->checkpoint_dir, SC_CHECKPOINT_FILE, NULL);
  if (!sc_trainer_write_checkpoint(t, path, error))
    return FALSE;
  ScTrainerEvent ev = { .kind = SC_EVENT_CHECKPOINT, .run = run, .epoch = epoch,
                        .epochs = t->config.epochs, .path = path };
  emit(t, &ev);
  return TRUE;
}

/* The epoch's numbers after validation (and kNN). */
static gboolean
finish_epoch(ScTrainer *t, const Position *at, const Meters *meters, double seconds,
             ScEpochMetrics *em, GError **error)
{
  ScTrainerModel *m = &t->models[at->run];
  sc_epoch_metrics_init(em, (int)at->epoch);
  em->seconds = seconds;
  em->images_per_s = seconds > 0.0 ? meters->images / seconds : 0.0;
  if (at->run == SC_RUN_PRETRAIN) {
    em->c_loss = sc_mean_result(&meters->c_loss);
    em->c_acc = sc_mean_result(&meters->c_acc);
    em->p_loss = sc_mean_result(&meters->loss);
    em->p_acc = sc_mean_result(&meters->acc);
    if (!validate(t, m->encoder, t->probe.head, at, &em->val_p_loss, &em->val_p_acc, error))
      return FALSE;
    if (t->config.knn && !sc_trainer_knn_accuracy(t, m->encoder, &em->knn_acc, error))
      return FALSE;
  } else {
    em->loss = sc_mean_result(&meters->loss);
    em->acc = sc_mean_result(&meters->acc);
    if (!validate(t, m->encoder, m->head, at, &em->val_loss, &em->val_acc, error))
      return FALSE;
  }
  return TRUE;
}

/* The run's step clock for the time-left estimate. Paused time is left out,
 * and so is the run's first step, which also pays for warm-up (allocations,
 * algorithm choice) and would make the estimate too large at the start. */
typedef struct {
  gint64 since;   /* end of the run's first step, moved on by pauses */
  int steps_done; /* steps of this run done in this call */
} RunClock;

static double
run_clock_seconds_left(const RunClock *c, gint64 now, int steps_left)
{
  if (c->steps_done < 2)
    return -1.0;
  double per_step = (now - c->since) / 1e6 / (c->steps_done - 1);
  return per_step * steps_left;
}

static gboolean
run_epoch(ScTrainer *t, ScRunKind run, uint32_t epoch, RunClock *clock, GError **error)
{
  const int steps = t->batches.steps, epochs = t->config.epochs;
  Meters meters;
  meters_reset(&meters);
  gint64 epoch_start = g_get_monotonic_time(), paused = 0;
  Position at = { run, epoch, 0 };

  for (at.step = 0; at.step < steps; at.step++) {
    gint64 waited = wait_while_paused(t);
    paused += waited;
    clock->since += waited;
    if (g_atomic_int_get(&t->cancelled))
      return cancelled_error(t, &at, error);
    double step_loss = NAN;
    gboolean ok = run == SC_RUN_PRETRAIN
                    ? pretrain_step(t, &at, &meters, &step_loss, error)
                    : supervised_step(t, &t->models[run], &at, &meters, &step_loss, error);
    if (!ok)
      return FALSE;
    gint64 now = g_get_monotonic_time();
    if (++clock->steps_done == 1)
      clock->since = now;
    double epoch_s = (now - epoch_start - paused) / 1e6;
    int left = (epochs - (int)epoch) * steps + (steps - at.step - 1);
    ScTrainerEvent ev = {
      .kind = SC_EVENT_STEP, .run = run, .epoch = (int)epoch, .epochs = epochs,
      .step = at.step + 1, .steps = steps, .step_loss = step_loss,
      .images_per_s = epoch_s > 0.0 ? meters.images / epoch_s : 0.0,
      .eta_s = run_clock_seconds_left(clock, now, left),
    };
    emit(t, &ev);
  }
  if (g_atomic_int_get(&t->cancelled))
    return cancelled_error(t, &at, error);
  at.step = steps - 1;
  double seconds = (g_get_monotonic_time() - epoch_start - paused) / 1e6;

  ScEpochMetrics em;
  if (!finish_epoch(t, &at, &meters, seconds, &em, error))
    return FALSE;
  g_array_append_val(t->history[run], em);
  t->epochs_done[run] = (int)epoch;
  ScTrainerEvent ev = { .kind = SC_EVENT_EPOCH_DONE, .run = run, .epoch = (int)epoch,
                        .epochs = epochs, .step = steps, .steps = steps, .metrics = em };
  emit(t, &ev);
  return write_checkpoint(t, run, (int)epoch, error);
}

/* Finetuning starts from the pretrained encoder with its own fresh
 * classifier and Adam (section 7.3); the encoder is first in both arenas. */
static void
start_finetune(ScTrainer *t)
{
  ScTrainerModel *ft = &t->models[SC_RUN_FINETUNE];
  const ScTrainerModel *pt = &t->models[SC_RUN_PRETRAIN];
  g_assert(ft->encoder->param_count == pt->encoder->param_count);
  g_debug("finetuning starts from the encoder pretrained for %d epochs",
          t->epochs_done[SC_RUN_PRETRAIN]);
  t->be->ops->copy(t->be, ft->params->params, pt->params->params,
                   ft->encoder->param_count * sizeof(float));
}

static gboolean
run_one(ScTrainer *t, ScRunKind run, GError **error)
{
  if (!prepare_run(t, run, error))
    return FALSE;
  if (run == SC_RUN_FINETUNE && t->epochs_done[run] == 0)
    start_finetune(t);
  g_debug("%s: epochs %d..%d of %d steps (%d unlabeled + %d labeled images per step)",
          sc_run_name(run), t->epochs_done[run] + 1, t->config.epochs, t->batches.steps,
          run == SC_RUN_PRETRAIN ? t->batches.unlabeled_batch : 0, t->batches.labeled_batch);
  ScTrainerEvent ev = { .kind = SC_EVENT_RUN_STARTED, .run = run, .eta_s = -1.0,
                        .epoch = t->epochs_done[run] + 1, .epochs = t->config.epochs,
                        .steps = t->batches.steps };
  emit(t, &ev);
  RunClock clock = { 0, 0 };
  gboolean ok = TRUE;
  for (int e = t->epochs_done[run] + 1; ok && e <= t->config.epochs; e++)
    ok = run_epoch(t, run, (uint32_t)e, &clock, error);
  release_run(t, run);
  if (!ok)
    return FALSE;
  ev.kind = SC_EVENT_RUN_DONE;
  ev.epoch = t->config.epochs;
  emit(t, &ev);
  return TRUE;
}

gboolean
sc_trainer_run(ScTrainer *t, GError **error)
{
  g_return_val_if_fail(t != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  for (int r = 0; r < SC_N_RUNS; r++) {
    if (!t->config.runs[r] || t->epochs_done[r] >= t->config.epochs)
      continue;
    if (r == SC_RUN_FINETUNE && t->epochs_done[SC_RUN_PRETRAIN] < t->config.epochs) {
      /* Only reachable when pretraining is not selected (the configuration
       * check refuses that) or was cut short. */
      g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT,
                  "Finetuning needs the pretrained encoder, but pretraining has %d of %d "
                  "epochs done",
                  t->epochs_done[SC_RUN_PRETRAIN], t->config.epochs);
      return FALSE;
    }
    if (!run_one(t, r, error))
      return FALSE;
  }
  return TRUE;
}
