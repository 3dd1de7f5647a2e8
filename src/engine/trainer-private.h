/* Shared between the trainer's files; not part of the public API. */
#pragma once

#include <json-glib/json-glib.h>

#include "adam.h"
#include "data/batcher.h"
#include "data/split.h"
#include "loss.h"
#include "model.h"
#include "safetensors.h"
#include "sc-error.h"
#include "trainer.h"

G_BEGIN_DECLS

void sc_train_config_to_json(const ScTrainConfig *config, JsonBuilder *builder);
gboolean sc_train_config_from_json(JsonObject *object, ScTrainConfig *config,
                                   GError **error);

/* The per-epoch metrics by name, for CSV, JSON and checkpoints. */
typedef struct {
  const char *name;
  size_t offset; /* of the double in ScEpochMetrics */
  gboolean runs[SC_N_RUNS]; /* which runs have it */
} ScMetricField;

extern const ScMetricField sc_metric_fields[];
extern const size_t sc_n_metric_fields;

static inline double *
sc_metric_slot(ScEpochMetrics *m, const ScMetricField *f)
{
  return (double *)((char *)m + f->offset);
}

G_END_DECLS

G_BEGIN_DECLS
/* Every metric NaN, epoch set. */
void sc_epoch_metrics_init(ScEpochMetrics *m, int epoch);
void sc_trainer_history_to_json(const ScTrainer *trainer, JsonBuilder *builder);
gboolean sc_trainer_history_from_json(JsonObject *runs, GArray *history[SC_N_RUNS],
                                      GError **error);
G_END_DECLS

G_BEGIN_DECLS

/* A net pair trained by one Adam: encoder + head (classifier or projection),
 * or a head alone (the probe, whose input is another model's features). */
typedef struct {
  const char *name; /* "baseline", "pretrain", "finetune", "probe" */
  ScNet *encoder;   /* NULL for the probe */
  ScNet *head;
  ScParams *params; /* encoder first, then head */
  ScAdam *adam;
} ScTrainerModel;

struct _ScTrainer {
  ScTrainConfig config;
  ScBackend *be;
  ScDataset *data;
  ScSplitPlan *plan;
  ScBatchPlan batches;
  int n_classes;
  int in_size; /* model input side */

  ScTrainerModel models[SC_N_RUNS]; /* encoder + classifier, or + projection head */
  ScTrainerModel probe;
  int epochs_done[SC_N_RUNS];
  GArray *history[SC_N_RUNS]; /* of ScEpochMetrics */

  /* One step's buffers, sized once for the largest batch; "dev" is backend
   * memory. */
  int capacity;        /* images per forward: 2 contrastive batches or a test batch */
  int src_h, src_w, src_c; /* stored image shape, the same in every split */
  size_t image_bytes;  /* one stored image */
  size_t view_floats;  /* one model input: in_size * in_size * 3 */
  int32_t *indices;    /* (capacity) split indices of a batch */
  guint8 *host_images; /* (capacity, h, w, c) */
  guint8 *dev_images;
  float *views;        /* (capacity, S, S, 3) */
  float *dproj;        /* (capacity, width) */
  float *dfeat;        /* (capacity, width) */
  float *loss;         /* (capacity) per-sample losses */
  float *host_loss;
  float *dlogits;      /* (capacity, classes) */
  int32_t *host_labels, *dev_labels; /* (capacity) */
  int32_t *dev_indices; /* (capacity) split indices on the backend */
  /* Splits whose images are kept on the backend and gathered there: their
   * images (count, h, w, c) in backend memory, either copied (owned) or, on
   * a backend whose memory is the host's, the split's own block. */
  struct {
    const ScSplit *split;
    guint8 *images;
    gboolean owned;
  } resident[3];

  ScTrainerCallback callback;
  gpointer user_data;
  char *checkpoint_dir;

  gint cancelled;       /* atomic */
  GMutex pause_lock;    /* guards paused */
  GCond pause_cond;
  gboolean paused;
};

/* The checkpoint file inside a checkpoint folder. */
#define SC_CHECKPOINT_FILE "checkpoint.safetensors"

/* Reads a checkpoint (a file, or a folder holding SC_CHECKPOINT_FILE): checks
 * it whole and returns its configuration and the open file. */
gboolean sc_trainer_read_checkpoint_config(const char *path, ScTrainConfig *config,
                                           ScSafetensors **st, GError **error);
/* Weights, optimizer state, counters and history from a checkpoint read by
 * the function above, into a trainer built with its configuration. */
gboolean sc_trainer_restore(ScTrainer *trainer, const ScSafetensors *st, const char *path,
                            GError **error);
/* Refuses a resume whose data differs from the checkpoint's: format, split
 * sizes, image shape, classes and a hash of the first and last images of
 * each split (the check names what changed). Checkpoints without it pass. */
gboolean sc_trainer_check_data(ScTrainer *trainer, const ScSafetensors *st,
                               const char *path, GError **error);
/* Everything needed to resume, written atomically to path. */
gboolean sc_trainer_write_checkpoint(ScTrainer *trainer, const char *path, GError **error);

/* Encodes n images of split (indices) without augmentation; returns the
 * encoder's output (n, width), valid until its next forward. n must not
 * exceed the encoder's prepared capacity nor the trainer's. */
const float *sc_trainer_encode_plain(ScTrainer *trainer, ScNet *encoder,
                                     const ScSplit *split, const int32_t *indices,
                                     size_t n);
/* kNN accuracy (k = 20, cosine) of encoder features: test images against the
 * labeled training images. */
gboolean sc_trainer_knn_accuracy(ScTrainer *trainer, ScNet *encoder, double *accuracy,
                                 GError **error);

G_END_DECLS
