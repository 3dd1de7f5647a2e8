/* A training's result files, as simclr-train writes them into --out and the
 * app into each run folder: history, the two charts and the encoder. Every
 * file is written atomically (a temporary file beside it, then a rename). */
#pragma once

#include "trainer.h"

G_BEGIN_DECLS

/* Chart files' size in pixels (SVG: the same size in points). */
#define SC_RESULTS_CHART_WIDTH_PX 800
#define SC_RESULTS_CHART_HEIGHT_PX 500

/* Run r's curve's name in every chart legend, the app's and the files': the
 * pretraining curve is its linear probe's. */
const char *sc_results_series_name(ScRunKind run);

/* history.csv, history.json, accuracy.png/.svg and loss.png/.svg in dir;
 * with_encoder: encoder.safetensors too (for a finished training). */
gboolean sc_results_write(const ScTrainer *trainer, const char *dir, gboolean with_encoder,
                          GError **error);

G_END_DECLS
