/* The trainer in a worker thread; events copied to the main loop, where
 * they are printed and where signals are handled (never in a signal
 * handler: g_unix_signal_add dispatches them as ordinary sources). */
#include "cli-run.h"

#include "cli-options.h"
#include "sc-error.h"

#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

typedef struct {
  ScTrainer *trainer;
  CliProgress *progress;
  GMainLoop *loop;
  int signals;          /* received so far; main thread only */
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

/* First signal: cancel at the next step boundary. A second one stops the
 * process at once; checkpoints are written atomically, so the last one is
 * whole either way. */
static gboolean
on_signal(gpointer data)
{
  RunState *s = data;
  if (++s->signals == 1) {
    cli_progress_print(s->progress, "Interrupted: stopping after the current step "
                       "(press Ctrl-C again to stop at once)");
    sc_trainer_cancel(s->trainer);
    return G_SOURCE_CONTINUE;
  }
  cli_progress_print(s->progress, "Stopped at once; the last checkpoint is kept");
  _exit(CLI_EXIT_INTERRUPTED);
}

CliRunResult
cli_run_trainer(ScTrainer *trainer, CliProgress *progress, GError **error)
{
  RunState s = { .trainer = trainer, .progress = progress };
  s.loop = g_main_loop_new(NULL, FALSE);
  guint sigint = g_unix_signal_add(SIGINT, on_signal, &s);
  guint sigterm = g_unix_signal_add(SIGTERM, on_signal, &s);
  sc_trainer_set_callback(trainer, on_trainer_event, &s);

  GThread *thread = g_thread_new("trainer", worker, &s);
  g_main_loop_run(s.loop);
  g_thread_join(thread);

  sc_trainer_set_callback(trainer, NULL, NULL);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_main_loop_unref(s.loop);

  if (s.ok)
    return CLI_RUN_DONE;
  if (s.signals > 0 && g_error_matches(s.error, SC_TRAINER_ERROR, SC_ERROR_CANCELLED)) {
    g_clear_error(&s.error);
    return CLI_RUN_INTERRUPTED;
  }
  g_propagate_error(error, s.error);
  return CLI_RUN_FAILED;
}
