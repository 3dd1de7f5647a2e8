/* Runs the trainer in a worker thread and hands its reports to the main
 * loop: the worker copies each event into a queue under a mutex (a step
 * report replaces the step report before it) and schedules at most one idle
 * callback, which emits the signals below on the main thread. No GTK call
 * and no widget is touched off the main thread. */
#pragma once

#include <glib-object.h>

#include "trainer.h"

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_RUNNER (simclr_studio_runner_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioRunner, simclr_studio_runner, SIMCLR_STUDIO, RUNNER, GObject)

/* Signals, all on the main thread:
 *   "event"    (const ScTrainerEvent *event): a trainer report; for steps,
 *              the latest one since the last update.
 *   "finished" (const GError *error): the thread has ended; error is NULL on
 *              success, SC_ERROR_CANCELLED after a stop.
 *   "restored" (const SimclrStudioRestored *restored): a resumed training
 *              has read its checkpoint; before its first "event". */

/* What a resumed training starts from: the checkpoint's configuration and
 * the epochs it has done. */
typedef struct {
  ScTrainConfig config;
  GArray *history[SC_N_RUNS]; /* ScEpochMetrics */
} SimclrStudioRestored;

SimclrStudioRunner *simclr_studio_runner_new(void);

/* Starts a training in a new thread (the trainer is built there, so opening
 * the data does not block the window). checkpoint_dir may be NULL. */
gboolean simclr_studio_runner_start(SimclrStudioRunner *self, const ScTrainConfig *config,
                                    const char *checkpoint_dir, GError **error);
/* Goes on with the training whose checkpoint is in checkpoint_dir, in a new
 * thread, writing there again; the checkpoint's configuration is used, but
 * for config's backend and threads. A checkpoint that cannot be read, or
 * whose data is gone or changed, ends in "finished" with the engine's
 * error, the folder untouched. */
gboolean simclr_studio_runner_resume(SimclrStudioRunner *self, const ScTrainConfig *config,
                                     const char *checkpoint_dir, GError **error);
/* Asks the training to stop after the current step; "finished" follows. */
void simclr_studio_runner_cancel(SimclrStudioRunner *self);
void simclr_studio_runner_set_paused(SimclrStudioRunner *self, gboolean paused);
gboolean simclr_studio_runner_get_paused(SimclrStudioRunner *self);
/* TRUE from start until "finished" has been emitted. */
gboolean simclr_studio_runner_get_running(SimclrStudioRunner *self);
/* Stops and joins the worker without the main loop and without signals
 * (the owner is going away). Blocks for the current step. */
void simclr_studio_runner_shutdown(SimclrStudioRunner *self);
/* Runs the main loop until "finished" has been emitted. */
void simclr_studio_runner_wait(SimclrStudioRunner *self);

/* The history of the last training as CSV; only while not running. */
gboolean simclr_studio_runner_write_history_csv(SimclrStudioRunner *self, const char *path,
                                                GError **error);
/* Whether the last training wrote its result files into its checkpoint
 * folder (sc_results_write), or why not; valid from "finished" on. */
gboolean simclr_studio_runner_get_results_written(SimclrStudioRunner *self);
const GError *simclr_studio_runner_get_results_error(SimclrStudioRunner *self);
/* Updates the UI received, for tests of the coalescing. */
guint simclr_studio_runner_get_n_updates(SimclrStudioRunner *self);

G_END_DECLS
