/* The trainer in a worker thread; events copied to the main loop, where
 * they are printed and where signals are handled (never in a signal
 * handler: g_unix_signal_add dispatches them as ordinary sources). */
#include "cli-run.h"

#include "cli-options.h"
#include "sc-error.h"

#include <glib-unix.h>
#include <signal.h>

struct _CliSignals {
  guint sigint, sigterm;
  int count;            /* received so far; main thread only */
  int first;            /* the first one's number, 0 before any */
  ScTrainer *trainer;   /* while cli_run_trainer runs */
  CliProgress *progress;
};

typedef struct {
  ScTrainer *trainer;
  CliProgress *progress;
  GMainLoop *loop;
  gboolean ok;          /* written by the worker before it posts "done" */
  GError *error;
} RunState;

/* One event, owned by the main loop's idle source. */
typedef struct {
  RunState *state;
  ScTrainerEvent event;
  char *path;
} PostedEvent;

static void
posted_event_free(gpointer data)
{
  PostedEvent *p = data;
  g_free(p->path);
  g_free(p);
}

static gboolean
deliver_event(gpointer data)
{
  PostedEvent *p = data;
  p->event.path = p->path;
  cli_progress_event(p->state->progress, &p->event);
  return G_SOURCE_REMOVE;
}

/* Worker thread: copy the event; the main loop prints it. Sources of one
 * priority run in the order they were added, so events stay in order. */
static void
on_trainer_event(const ScTrainerEvent *event, gpointer user_data)
{
  PostedEvent *p = g_new0(PostedEvent, 1);
  p->state = user_data;
  p->event = *event;
  p->path = g_strdup(event->path);
  p->event.path = NULL;
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, deliver_event, p,
                             posted_event_free);
}

static gboolean
quit_loop(gpointer data)
{
  RunState *s = data;
  g_main_loop_quit(s->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
worker(gpointer data)
{
  RunState *s = data;
  s->ok = sc_trainer_run(s->trainer, &s->error);
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, quit_loop, s, NULL);
  return NULL;
}

/* First signal: cancel at the next step boundary. A second one also skips
 * the history and charts. Neither kills the process: a file being written
 * (a checkpoint, a chart) is always finished, so no temporary file stays. */
static gboolean
on_signal(CliSignals *g, int signum)
{
  if (g->first == 0)
    g->first = signum;
  if (g->trainer == NULL) {
    g->count++;
    return G_SOURCE_CONTINUE;
  }
  if (++g->count == 1) {
    /* Ctrl-C sends SIGINT; SIGTERM comes from kill or a service manager. */
    cli_progress_print(g->progress, signum == SIGINT
                       ? "Interrupted: stopping after the current step; a resume "
                         "restarts this epoch from its start (press Ctrl-C again to "
                         "stop at once)"
                       : "Interrupted by SIGTERM: stopping after the current step; a "
                         "resume restarts this epoch from its start (a second SIGTERM "
                         "or Ctrl-C stops at once)");
    sc_trainer_cancel(g->trainer);
  } else if (g->count == 2) {
    cli_progress_print(g->progress, "Stopping at once: the history and charts are not "
                       "updated; the last checkpoint is kept");
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigint(gpointer data)
{
  return on_signal(data, SIGINT);
}

static gboolean
on_sigterm(gpointer data)
{
  return on_signal(data, SIGTERM);
}

CliSignals *
cli_signals_new(void)
{
  CliSignals *g = g_new0(CliSignals, 1);
  g->sigint = g_unix_signal_add(SIGINT, on_sigint, g);
  g->sigterm = g_unix_signal_add(SIGTERM, on_sigterm, g);
  return g;
}

void
cli_signals_free(CliSignals *g)
{
  if (g == NULL)
    return;
  g_source_remove(g->sigint);
  g_source_remove(g->sigterm);
  g_free(g);
}

int
cli_signals_count(CliSignals *g)
{
  /* Signals that came while the main thread was busy are dispatched now. */
  while (g_main_context_iteration(NULL, FALSE))
    ;
  return g->count;
}

int
cli_signals_exit_status(const CliSignals *g)
{
  return g->first == SIGTERM ? CLI_EXIT_TERMINATED : CLI_EXIT_INTERRUPTED;
}

CliRunResult
cli_run_trainer(ScTrainer *trainer, CliProgress *progress, CliSignals *signals,
                GError **error)
{
  RunState s = { .trainer = trainer, .progress = progress };
  s.loop = g_main_loop_new(NULL, FALSE);
  signals->trainer = trainer;
  signals->progress = progress;
  sc_trainer_set_callback(trainer, on_trainer_event, &s);
  if (signals->count > 0)
    sc_trainer_cancel(trainer);

  GThread *thread = g_thread_new("trainer", worker, &s);
  g_main_loop_run(s.loop);
  g_thread_join(thread);

  sc_trainer_set_callback(trainer, NULL, NULL);
  signals->trainer = NULL;
  signals->progress = NULL;
  g_main_loop_unref(s.loop);

  if (s.ok)
    return CLI_RUN_DONE;
  if (signals->count > 0 && g_error_matches(s.error, SC_TRAINER_ERROR, SC_ERROR_CANCELLED)) {
    g_clear_error(&s.error);
    return CLI_RUN_INTERRUPTED;
  }
  g_propagate_error(error, s.error);
  return CLI_RUN_FAILED;
}
