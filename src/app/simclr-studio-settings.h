/* The application's GSettings: where the schema is found, the keys, and the
 * training configuration they describe. */
#pragma once

#include <gio/gio.h>

#include "trainer.h"

G_BEGIN_DECLS

#define SC_KEY_DATA_FOLDER "data-folder"
#define SC_KEY_LAST_FOLDER "last-folder"
#define SC_KEY_EPOCHS "epochs"
#define SC_KEY_BATCH_SIZE "batch-size"
#define SC_KEY_WIDTH "width"
#define SC_KEY_INPUT_SIZE "input-size"
#define SC_KEY_TEMPERATURE "temperature"
#define SC_KEY_LEARNING_RATE "learning-rate"
#define SC_KEY_CONTRASTIVE_LEARNING_RATE "contrastive-learning-rate"
#define SC_KEY_COSINE_SCHEDULE "cosine-schedule"
#define SC_KEY_LABELED_PER_CLASS "labeled-per-class"
#define SC_KEY_UNLABELED_CAP "unlabeled-cap"
#define SC_KEY_SUBSET "subset"
#define SC_KEY_SEED "seed"
#define SC_KEY_WEAK_MIN_AREA "weak-min-area"
#define SC_KEY_WEAK_BRIGHTNESS "weak-brightness"
#define SC_KEY_WEAK_JITTER "weak-jitter"
#define SC_KEY_STRONG_MIN_AREA "strong-min-area"
#define SC_KEY_STRONG_BRIGHTNESS "strong-brightness"
#define SC_KEY_STRONG_JITTER "strong-jitter"
#define SC_KEY_RUNS "runs"
#define SC_KEY_BACKEND "backend"
#define SC_KEY_SHOW_REFERENCE "show-reference"

/* Values of SC_KEY_RUNS (the schema's enum). */
typedef enum {
  SIMCLR_STUDIO_RUNS_ALL,
  SIMCLR_STUDIO_RUNS_BASELINE,
  SIMCLR_STUDIO_RUNS_PRETRAIN,
  SIMCLR_STUDIO_RUNS_FINETUNE, /* pretraining, then finetuning */
} SimclrStudioRuns;

/* The settings of SC_APP_ID, from the installed schemas or, when running
 * from the build folder, from the schema compiled there. in_memory keeps
 * every change in memory (screenshots and checks leave the user's
 * preferences alone). Fails when the schema is nowhere to be found. */
GSettings *simclr_studio_settings_new(gboolean in_memory, GError **error);

void simclr_studio_settings_get_strengths(GSettings *settings, ScAugmentStrength *weak,
                                          ScAugmentStrength *strong);
/* The training configuration the settings describe (clear it after use). */
void simclr_studio_settings_get_config(GSettings *settings, ScTrainConfig *config);

/* A training of a few seconds on a tiny subset, for pictures and checks. */
void simclr_studio_settings_apply_quick(GSettings *settings);

G_END_DECLS
