/* Runs a trainer in a worker thread while the main loop prints its events
 * and turns SIGINT / SIGTERM into a cancel at the next step. */
#pragma once

#include "cli-progress.h"
#include "trainer.h"

G_BEGIN_DECLS

typedef enum {
  CLI_RUN_DONE,
  CLI_RUN_FAILED,      /* *error set */
  CLI_RUN_INTERRUPTED, /* a signal cancelled it; the last checkpoint stays */
} CliRunResult;

/* Blocks until the trainer finishes, fails or is interrupted. Events reach
 * progress on the calling thread, in order. */
CliRunResult cli_run_trainer(ScTrainer *trainer, CliProgress *progress, GError **error);

G_END_DECLS
