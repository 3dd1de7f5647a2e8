/* The three runs of the reference (section 7): the supervised baseline,
 * contrastive pretraining with an online linear probe, and finetuning of the
 * pretrained encoder. The trainer knows nothing of terminals or windows: it
 * reports through a callback with plain structs and checks cancel and pause
 * flags between steps. */
#pragma once

#include "augment.h"
#include "backend.h"
#include "data/dataset.h"
#include "data/split.h"

G_BEGIN_DECLS

typedef enum {
  SC_RUN_BASELINE,
  SC_RUN_PRETRAIN,
  SC_RUN_FINETUNE,
  SC_N_RUNS,
} ScRunKind;

/* "baseline", "pretrain", "finetune". */
const char *sc_run_name(ScRunKind run);
gboolean sc_run_parse(const char *name, ScRunKind *run);

typedef struct {
  /* Data */
  char *data_path;          /* NULL: the default data set */
  ScDataFormat format;
  int labeled_per_class;    /* labeled images per class, from the train split */
  size_t unlabeled_cap;     /* 0: no cap */
  size_t subset;            /* 0: all; else at most this many images from each split */
  int input_size;           /* model input, pixels per side */

  /* Model and optimisation */
  int width;                /* encoder and head width (the reference: 128) */
  int epochs;               /* per run */
  int batch_size;           /* contrastive batch (unlabeled + labeled), 525 */
  float temperature;        /* 0.1 */
  ScNtxentVariant ntxent;
  float learning_rate;      /* supervised runs and probe */
  float contrastive_learning_rate;
  gboolean cosine_schedule; /* else constant */
  ScAugmentStrength strong, weak;
  gboolean knn;             /* kNN accuracy (k = 20, cosine) after pretraining epochs */

  /* Which runs, where */
  gboolean runs[SC_N_RUNS];
  char *backend;            /* "cpu" or "cuda" */
  int threads;              /* 0: library default */
  uint64_t seed;
} ScTrainConfig;

/* Limits the configuration check enforces. */
#define SC_MAX_INPUT_SIZE 512     /* pixels per side */
#define SC_MIN_TEMPERATURE 1e-4   /* NT-Xent's logits overflow float below */
#define SC_MAX_THREADS 256
/* More epochs than anyone trains: a bound that keeps epoch arithmetic in
 * range. */
#define SC_MAX_EPOCHS 100000

/* The reference's values, adapted to the default data (see README). */
void sc_train_config_init_default(ScTrainConfig *config);
void sc_train_config_clear(ScTrainConfig *config);
void sc_train_config_copy(ScTrainConfig *dst, const ScTrainConfig *src);
/* Checks every field; the message names the field (as the CLI flag). */
gboolean sc_train_config_validate(const ScTrainConfig *config, GError **error);

/* One epoch's numbers of one run; NaN where a run has no such metric. */
typedef struct {
  int epoch; /* 1-based */
  double loss, acc, val_loss, val_acc;         /* baseline, finetune */
  double c_loss, c_acc, p_loss, p_acc;         /* pretrain */
  double val_p_loss, val_p_acc, knn_acc;       /* pretrain */
  double seconds;                              /* training time of the epoch */
  double images_per_s;
} ScEpochMetrics;

/* The validation accuracy a run is judged by: val_acc, or val_p_acc. */
double sc_epoch_metrics_val_acc(ScRunKind run, const ScEpochMetrics *m);
double sc_epoch_metrics_val_loss(ScRunKind run, const ScEpochMetrics *m);

typedef enum {
  SC_EVENT_RUN_STARTED,
  SC_EVENT_STEP,          /* after each training step */
  SC_EVENT_EPOCH_DONE,    /* metrics holds the epoch's numbers */
  SC_EVENT_RUN_DONE,
  SC_EVENT_CHECKPOINT,    /* a checkpoint was written to `path` */
} ScEventKind;

typedef struct {
  ScEventKind kind;
  ScRunKind run;
  int epoch, epochs;       /* 1-based epoch */
  int step, steps;         /* 1-based step within the epoch */
  double step_loss;        /* the last step's mean loss */
  double images_per_s;     /* training images (views) per second, this epoch so far */
  double eta_s;            /* seconds left in this run, < 0 until two steps are done */
  ScEpochMetrics metrics;  /* EPOCH_DONE */
  const char *path;        /* CHECKPOINT */
} ScTrainerEvent;

typedef void (*ScTrainerCallback)(const ScTrainerEvent *event, gpointer user_data);

typedef struct _ScTrainer ScTrainer;

/* Opens the data, builds the models, and, with resume_path (a checkpoint
 * file, or a folder holding checkpoint.safetensors), restores the state of a
 * checkpoint (whose configuration then wins over config's, but for backend
 * and threads). A damaged checkpoint is refused with an error naming it. */
ScTrainer *sc_trainer_new(const ScTrainConfig *config, const char *resume_path,
                          GError **error);
void sc_trainer_free(ScTrainer *trainer);
const ScTrainConfig *sc_trainer_get_config(const ScTrainer *trainer);
const ScDataset *sc_trainer_get_dataset(const ScTrainer *trainer);
/* The labeled, unlabeled and test images the runs use. */
const ScSplitPlan *sc_trainer_get_split_plan(const ScTrainer *trainer);

void sc_trainer_set_callback(ScTrainer *trainer, ScTrainerCallback callback,
                             gpointer user_data);
/* Folder for checkpoints (checkpoint.safetensors after every epoch) and the
 * exported encoder; NULL: none are written. */
void sc_trainer_set_checkpoint_dir(ScTrainer *trainer, const char *dir);

/* Runs what is left of the selected runs, in the order baseline, pretrain,
 * finetune; finetuning starts from the pretrained encoder (of this call or
 * of the restored checkpoint) and is refused while pretraining is not done.
 * Fails with SC_ERROR_CANCELLED when cancelled (the last checkpoint stays),
 * SC_ERROR_NUMERIC on NaN or Inf (the message names run, epoch and step).
 * After a failure the weights in memory are those of a partial epoch: to go
 * on, make a new trainer from the checkpoint. */
gboolean sc_trainer_run(ScTrainer *trainer, GError **error);

/* Thread-safe: from any thread, while sc_trainer_run is running. A cancel
 * is final (it also ends a pause); sc_trainer_run then returns at the next
 * step boundary. */
void sc_trainer_cancel(ScTrainer *trainer);
void sc_trainer_set_paused(ScTrainer *trainer, gboolean paused);
gboolean sc_trainer_is_paused(ScTrainer *trainer);

/* Epochs of a run done so far (restored ones included), and the training
 * steps in each epoch (the same for every run). */
int sc_trainer_get_epochs_done(const ScTrainer *trainer, ScRunKind run);
int sc_trainer_get_steps_per_epoch(const ScTrainer *trainer);

/* History: completed epochs of a run (array of ScEpochMetrics). Read it from
 * the trainer's thread (the callback) or once sc_trainer_run has returned;
 * other threads get each epoch's numbers copied in SC_EVENT_EPOCH_DONE. */
const ScEpochMetrics *sc_trainer_get_history(const ScTrainer *trainer, ScRunKind run,
                                             int *n_epochs);
/* Best validation accuracy of a run over its epochs; NaN if none. */
double sc_trainer_max_val_acc(const ScTrainer *trainer, ScRunKind run);

/* History files: CSV (one row per run and epoch) and JSON, written atomically. */
gboolean sc_trainer_write_history_csv(const ScTrainer *trainer, const char *path,
                                      GError **error);
gboolean sc_trainer_write_history_json(const ScTrainer *trainer, const char *path,
                                       GError **error);
/* Reads a history.json written by the function above: the training's
 * configuration into *config (initialised here; clear it after, also on
 * failure) and each run's epochs into history[run] (arrays of
 * ScEpochMetrics, emptied first). The error names the file and what in it
 * is wrong. */
gboolean sc_trainer_read_history_json(const char *path, ScTrainConfig *config,
                                      GArray *history[SC_N_RUNS], GError **error);
/* The encoder's weights alone, as safetensors (tensors
 * "encoder.<layer>.kernel" in HWIO or (in, out) and "encoder.<layer>.bias"):
 * the pretrained encoder once pretraining has an epoch done, else the
 * finetuned, else the baseline's. Fails when no run has an epoch done. */
gboolean sc_trainer_export_encoder(const ScTrainer *trainer, const char *path,
                                   GError **error);

G_END_DECLS
