/* simclr-train's console: a progress bar redrawn in place on a terminal,
 * plain lines otherwise, a line per epoch like the reference's log, and the
 * closing summary table. Called on the main thread only. */
#pragma once

#include <stdio.h>

#include "trainer.h"

G_BEGIN_DECLS

typedef struct _CliProgress CliProgress;

/* terminal: redraw a one-line bar with carriage returns; else print a plain
 * progress line at most every few seconds. The history already in trainer
 * (a resumed run) counts towards the runs' maxima. */
CliProgress *cli_progress_new(FILE *out, gboolean terminal, const ScTrainer *trainer);
void cli_progress_free(CliProgress *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliProgress, cli_progress_free)

void cli_progress_event(CliProgress *progress, const ScTrainerEvent *event);

/* A line of its own (the bar, if any, is cleared first). */
void cli_progress_print(CliProgress *progress, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The path of the last checkpoint written, NULL before the first. */
const char *cli_progress_last_checkpoint(const CliProgress *progress);

/* The table of maximal validation accuracy per run, and the wall time. */
void cli_progress_summary(CliProgress *progress, const ScTrainer *trainer, double wall_s);

/* "1:02:03" or "2:03". */
char *cli_format_duration(double seconds);

G_END_DECLS
