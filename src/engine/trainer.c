/* The training loop: three runs, validation every epoch, checkpoints. */
#include "trainer-private.h"

#include <math.h>
#include <string.h>

#include "adam.h"
#include "data/batcher.h"
#include "data/split.h"
#include "loss.h"
#include "model.h"
#include "safetensors.h"

#define KNN_K 20

/* Encoder and head trained together by one Adam (the probe has no encoder). */
typedef struct {
  ScNet *encoder;
  ScNet *head;
  ScParams *params;
  ScAdam *adam;
} Model;

struct _ScTrainer {
  ScTrainConfig config;
  ScBackend *be;
  ScDataset *data;
  ScSplitPlan *plan;
  ScBatchPlan batches;
  int n_classes;
  int in_size; /* model input side */

  Model models[SC_N_RUNS]; /* baseline: enc + classifier; pretrain: enc + projection */
  Model probe;
  int epochs_done[SC_N_RUNS];
  GArray *history[SC_N_RUNS];

  /* One step's buffers; "dev" is backend memory. */
  int capacity;        /* images per forward pass: 2 x batch_size views */
  size_t image_bytes;  /* one stored image */
  guint8 *host_images; /* (capacity, h, w, c) */
  guint8 *dev_images;
  float *views;        /* (capacity, S, S, 3) */
  float *dproj;        /* (capacity, width) */
  float *dfeat;        /* (capacity, width) */
  float *loss;         /* (capacity) */
  float *host_loss;
  float *dlogits;      /* (capacity, classes) */
  int32_t *host_labels, *dev_labels;

  ScTrainerCallback callback;
  gpointer user_data;
  char *checkpoint_dir;

  gint cancelled;
  GMutex pause_lock;
  GCond pause_cond;
  gboolean paused;
};

static void
emit(ScTrainer *t, const ScTrainerEvent *event)
{
  if (t->callback != NULL)
    t->callback(event, t->user_data);
}

static void
model_clear(Model *m)
{
  sc_adam_free(m->adam);
  sc_params_free(m->params);
  sc_net_free(m->encoder);
  sc_net_free(m->head);
  memset(m, 0, sizeof *m);
}

/* encoder may be NULL (the probe). */
static gboolean
model_init(ScTrainer *t, Model *m, ScNet *encoder, ScNet *head, float lr, uint32_t net_id,
           GError **error)
{
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
    if (!model_init(t, &t->models[r], enc, head, lr, r == SC_RUN_PRETRAIN ? 1 : 2, error))
      return FALSE;
  }
  return model_init(t, &t->probe, NULL, sc_linear_head_new(w, t->n_classes),
                    c->learning_rate, 3, error);
}

static gboolean
allocate_buffers(ScTrainer *t, GError **error)
{
  const ScSplit *train = t->data->train;
  t->capacity = 2 * t->config.batch_size;
  t->image_bytes = (size_t)sc_split_height(train) * sc_split_width(train)
                   * sc_split_channels(train);
  size_t cap = t->capacity;
  size_t view = (size_t)t->in_size * t->in_size * 3;
  size_t width = t->config.width;
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
         && (t->views = sc_backend_alloc(be, cap * view * 4, "augmented views", error))
         && (t->dproj = sc_backend_alloc(be, cap * width * 4, "projection grads", error))
         && (t->dfeat = sc_backend_alloc(be, cap * width * 4, "feature grads", error))
         && (t->loss = sc_backend_alloc(be, cap * 4, "losses", error))
         && (t->dlogits = sc_backend_alloc(be, cap * t->n_classes * 4, "logit grads", error))
         && (t->dev_labels = sc_backend_alloc(be, cap * 4, "labels", error));
}

static gboolean
load_checkpoint(ScTrainer *t, const char *path, GError **error);

ScTrainer *
sc_trainer_new(const ScTrainConfig *config, const char *resume_path, GError **error)
{
  g_autoptr(ScSafetensors) resume = NULL;
  ScTrainConfig effective;
  if (resume_path != NULL) {
    /* The checkpoint's configuration wins, but for where to run. */
    if (!sc_trainer_read_checkpoint_config(resume_path, &effective, &resume, error))
      return NULL;
    g_free(effective.backend);
    effective.backend = g_strdup(config->backend);
    effective.threads = config->threads;
  } else {
    if (!sc_train_config_validate(config, error))
      return NULL;
    sc_train_config_copy(&effective, config);
  }

  ScTrainer *t = g_new0(ScTrainer, 1);
  t->config = effective;
  g_mutex_init(&t->pause_lock);
  g_cond_init(&t->pause_cond);
  for (int r = 0; r < SC_N_RUNS; r++)
    t->history[r] = g_array_new(FALSE, TRUE, sizeof(ScEpochMetrics));
  t->in_size = t->config.input_size;

  const char *path = t->config.data_path != NULL ? t->config.data_path : SC_DEFAULT_DATA_DIR;
  if (!(t->be = sc_backend_new(t->config.backend, t->config.threads, error))
      || !(t->data = sc_dataset_open(path, t->config.format, error)))
    goto fail;
  t->n_classes = t->data->n_classes;

  ScSplitConfig sc = { .labeled_per_class = t->config.labeled_per_class,
                       .unlabeled_cap = t->config.unlabeled_cap,
                       .subset = t->config.subset,
                       .seed = t->config.seed };
  if (!(t->plan = sc_split_plan_new(t->data, &sc, error))
      || !sc_batch_plan_init(&t->batches, t->plan, t->config.batch_size, error)
      || !build_models(t, error) || !allocate_buffers(t, error))
    goto fail;
  if (resume != NULL && !sc_trainer_restore(t, resume, error))
    goto fail;
  return t;

fail:
  sc_trainer_free(t);
  return NULL;
}
