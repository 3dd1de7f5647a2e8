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

/* SIGINT and SIGTERM caught from creation until freed, so that no signal
 * kills the process while it writes a file. */
typedef struct _CliSignals CliSignals;
CliSignals *cli_signals_new(void);
void cli_signals_free(CliSignals *signals);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliSignals, cli_signals_free)
/* Signals received so far; 2 or more: stop at once. */
int cli_signals_count(CliSignals *signals);
/* After an interruption: 128 + the first signal's number (130 for SIGINT,
 * 143 for SIGTERM), as shells report a process killed by it. */
int cli_signals_exit_status(const CliSignals *signals);

/* Blocks until the trainer finishes, fails or is interrupted. Events reach
 * progress on the calling thread, in order. */
CliRunResult cli_run_trainer(ScTrainer *trainer, CliProgress *progress,
                             CliSignals *signals, GError **error);

G_END_DECLS
