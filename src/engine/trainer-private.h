/* Shared between the trainer's files; not part of the public API. */
#pragma once

#include <json-glib/json-glib.h>

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
