/* What simclr-train writes into its --out folder: history, plots, the
 * exported encoder and the augmentation preview. Every file is written
 * atomically (a temporary file beside it, then a rename). */
#pragma once

#include "trainer.h"

G_BEGIN_DECLS

/* Creates dir (and its parents) unless it is a folder already; refuses a
 * path that is a file. Messages name `flag` and the path. */
gboolean cli_output_prepare_dir(const char *dir, const char *flag, GError **error);
/* Locks the folder for this process (released when it exits), so two runs
 * never write into one --out; fails naming the folder when another holds it. */
gboolean cli_output_lock_dir(const char *dir, const char *flag, GError **error);

/* The preview figure (original, weak and two strong views of 8 training
 * images, one per class where there are enough classes) as a PNG. */
gboolean cli_output_write_preview(const ScDataset *data, const ScTrainConfig *config,
                                  const char *path, GError **error);

/* history.csv, history.json, accuracy.png/.svg and loss.png/.svg in dir;
 * with_encoder: encoder.safetensors too (sc_results_write, shared with the
 * app). */
gboolean cli_output_write_results(const ScTrainer *trainer, const char *dir,
                                  gboolean with_encoder, GError **error);

G_END_DECLS
