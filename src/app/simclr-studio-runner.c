/* SimclrStudioRunner: the worker thread and the coalesced hand-over. */
#include "simclr-studio-runner.h"

#include "sc-error.h"
#include "sc-results.h"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* A copied trainer event; path is owned. */
typedef struct {
  ScTrainerEvent event;
  char *path;
} QueuedEvent;

struct _SimclrStudioRunner {
  GObject parent_instance;

  /* Main thread only. */
  GThread *thread;
  ScTrainer *last_trainer; /* kept after a run for its history */
  gboolean results_written;
  GError *results_error;   /* why the last training's results are missing */
  gboolean running;
  gboolean paused;
  guint n_updates;

  /* Shared with the worker, under lock. */
  GMutex lock;
  GArray *queue;         /* QueuedEvent, in order; consecutive steps merged */
  gboolean idle_pending; /* an update is scheduled on the main loop */
  gboolean done;         /* the worker has ended */
  GError *error;         /* its result */
  GError *write_error;   /* writing its result files failed */
  gboolean wrote;        /* it wrote them */
  ScTrainer *trainer;    /* while the worker owns one */
  SimclrStudioRestored *restored; /* a resume's starting point, not yet emitted */
  gboolean cancel_requested;
  gboolean pause_requested;

  /* Worker only (set before the thread starts). */
  ScTrainConfig config;
  char *checkpoint_dir;
  gboolean resume;       /* go on from checkpoint_dir's checkpoint */
};

G_DEFINE_FINAL_TYPE(SimclrStudioRunner, simclr_studio_runner, G_TYPE_OBJECT)

enum { SIGNAL_EVENT, SIGNAL_FINISHED, SIGNAL_RESTORED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
queued_event_clear(gpointer data)
{
  QueuedEvent *q = data;
  g_free(q->path);
}

static gboolean flush_cb(gpointer data);

static void
restored_free(SimclrStudioRestored *r)
{
  if (r == NULL)
    return;
  sc_train_config_clear(&r->config);
  for (int k = 0; k < SC_N_RUNS; k++)
    g_array_unref(r->history[k]);
  g_free(r);
}

/* Worker thread, before the run: the restored state, copied. */
static SimclrStudioRestored *
restored_new(const ScTrainer *trainer)
{
  SimclrStudioRestored *r = g_new0(SimclrStudioRestored, 1);
  sc_train_config_copy(&r->config, sc_trainer_get_config(trainer));
  for (int k = 0; k < SC_N_RUNS; k++) {
    int n = 0;
    const ScEpochMetrics *h = sc_trainer_get_history(trainer, k, &n);
    r->history[k] = g_array_sized_new(FALSE, FALSE, sizeof(ScEpochMetrics), (guint)n);
    if (n > 0)
      g_array_append_vals(r->history[k], h, (guint)n);
  }
  return r;
}

/* With lock held: one idle callback at most. */
static void
schedule_flush_locked(SimclrStudioRunner *self)
{
  if (self->idle_pending)
    return;
  self->idle_pending = TRUE;
  /* The idle holds a reference, so the runner lives until it has run and
   * its last reference is dropped on the main thread. */
  g_idle_add_full(G_PRIORITY_DEFAULT, flush_cb, g_object_ref(self), g_object_unref);
}

/* Worker thread: copy the event and wake the main loop. */
static void
trainer_cb(const ScTrainerEvent *event, gpointer user_data)
{
  SimclrStudioRunner *self = user_data;
  g_mutex_lock(&self->lock);
  GArray *q = self->queue;
  QueuedEvent *last = q->len > 0 ? &g_array_index(q, QueuedEvent, q->len - 1) : NULL;
  if (event->kind == SC_EVENT_STEP && last != NULL && last->event.kind == SC_EVENT_STEP) {
    last->event = *event; /* only the newest step matters to the UI */
  } else {
    QueuedEvent copy = { .event = *event, .path = g_strdup(event->path) };
    copy.event.path = NULL;
    g_array_append_val(q, copy);
  }
  schedule_flush_locked(self);
  g_mutex_unlock(&self->lock);
}

/* The window must stay responsive on a machine the training saturates: the
 * worker (and the compute threads it starts, which inherit it) yields the
 * CPU to the main thread. Linux sets niceness per thread. */
static void
lower_thread_priority(void)
{
#ifdef __linux__
  pid_t tid = (pid_t)syscall(SYS_gettid);
  if (setpriority(PRIO_PROCESS, (id_t)tid, 10) != 0)
    g_debug("Could not lower the training thread's priority: %s", g_strerror(errno));
  /* The BLAS library starts its compute threads when it is loaded, from the
   * main thread: lower those too (every thread but the main one). */
  g_autoptr(GDir) tasks = g_dir_open("/proc/self/task", 0, NULL);
  const char *name;
  while (tasks != NULL && (name = g_dir_read_name(tasks)) != NULL) {
    pid_t other = (pid_t)g_ascii_strtoll(name, NULL, 10);
    if (other > 0 && other != getpid() && other != tid)
      setpriority(PRIO_PROCESS, (id_t)other, 10);
  }
#endif
}

static gpointer
worker(gpointer data)
{
  SimclrStudioRunner *self = data;
  GError *error = NULL;
  lower_thread_priority();
  ScTrainer *trainer = sc_trainer_new(&self->config,
                                      self->resume ? self->checkpoint_dir : NULL, &error);
  gboolean cancelled = FALSE;
  if (trainer != NULL) {
    sc_trainer_set_callback(trainer, trainer_cb, self);
    sc_trainer_set_checkpoint_dir(trainer, self->checkpoint_dir);
    SimclrStudioRestored *restored = self->resume ? restored_new(trainer) : NULL;
    /* Publish the trainer, then apply what was asked while it was built. */
    g_mutex_lock(&self->lock);
    self->trainer = trainer;
    if (restored != NULL) {
      self->restored = restored;
      schedule_flush_locked(self);
    }
    cancelled = self->cancel_requested;
    sc_trainer_set_paused(trainer, self->pause_requested);
    g_mutex_unlock(&self->lock);
    if (cancelled)
      g_set_error(&error, SC_TRAINER_ERROR, SC_ERROR_CANCELLED,
                  "Training stopped before its first step");
    else
      sc_trainer_run(trainer, &error);
  }

  /* What simclr-train writes into --out, for a finished or stopped
   * training; the encoder only when it finished. Here, not on the main
   * thread: the charts take a while to draw. */
  GError *write_error = NULL;
  gboolean stopped = g_error_matches(error, SC_TRAINER_ERROR, SC_ERROR_CANCELLED);
  gboolean wrote = FALSE;
  if (trainer != NULL && self->checkpoint_dir != NULL && (error == NULL || stopped))
    wrote = sc_results_write(trainer, self->checkpoint_dir, error == NULL, &write_error);

  g_mutex_lock(&self->lock);
  self->trainer = NULL;
  self->done = TRUE;
  self->error = error;
  self->write_error = write_error;
  self->wrote = wrote;
  schedule_flush_locked(self);
  g_mutex_unlock(&self->lock);
  return trainer; /* freed on the main thread after join */
}

static void
finish(SimclrStudioRunner *self, GError *error)
{
  ScTrainer *trainer = g_thread_join(g_steal_pointer(&self->thread));
  g_clear_pointer(&self->last_trainer, sc_trainer_free);
  self->last_trainer = trainer;
  self->running = FALSE;
  self->paused = FALSE;
  g_signal_emit(self, signals[SIGNAL_FINISHED], 0, error);
}

/* Main thread: take what the worker queued, then emit without the lock. */
static gboolean
flush_cb(gpointer data)
{
  SimclrStudioRunner *self = data;
  g_mutex_lock(&self->lock);
  GArray *events = self->queue;
  self->queue = g_array_new(FALSE, FALSE, sizeof(QueuedEvent));
  g_array_set_clear_func(self->queue, queued_event_clear);
  SimclrStudioRestored *restored = g_steal_pointer(&self->restored);
  gboolean done = self->done;
  GError *error = done ? g_steal_pointer(&self->error) : NULL;
  if (done) {
    g_clear_error(&self->results_error);
    self->results_error = g_steal_pointer(&self->write_error);
    self->results_written = self->wrote;
  }
  self->done = FALSE;
  self->idle_pending = FALSE;
  g_mutex_unlock(&self->lock);

  self->n_updates++;
  /* The restored epochs come before the events of the run that follows. */
  if (restored != NULL)
    g_signal_emit(self, signals[SIGNAL_RESTORED], 0, restored);
  restored_free(restored);
  for (guint i = 0; i < events->len; i++) {
    QueuedEvent *q = &g_array_index(events, QueuedEvent, i);
    q->event.path = q->path;
    g_signal_emit(self, signals[SIGNAL_EVENT], 0, &q->event);
  }
  g_array_unref(events);
  if (done && self->thread != NULL)
    finish(self, error);

  g_clear_error(&error);
  return G_SOURCE_REMOVE;
}

void
simclr_studio_runner_shutdown(SimclrStudioRunner *self)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_RUNNER(self));
  if (self->thread == NULL)
    return;
  simclr_studio_runner_cancel(self);
  ScTrainer *trainer = g_thread_join(g_steal_pointer(&self->thread));
  g_clear_pointer(&self->last_trainer, sc_trainer_free);
  self->last_trainer = trainer;
  self->running = FALSE;
  self->paused = FALSE;
}

static void
simclr_studio_runner_dispose(GObject *object)
{
  simclr_studio_runner_shutdown(SIMCLR_STUDIO_RUNNER(object));
  G_OBJECT_CLASS(simclr_studio_runner_parent_class)->dispose(object);
}

static void
simclr_studio_runner_finalize(GObject *object)
{
  SimclrStudioRunner *self = SIMCLR_STUDIO_RUNNER(object);
  g_clear_pointer(&self->last_trainer, sc_trainer_free);
  g_array_unref(self->queue);
  g_clear_error(&self->error);
  g_clear_error(&self->write_error);
  g_clear_error(&self->results_error);
  restored_free(self->restored);
  sc_train_config_clear(&self->config);
  g_free(self->checkpoint_dir);
  g_mutex_clear(&self->lock);
  G_OBJECT_CLASS(simclr_studio_runner_parent_class)->finalize(object);
}

static void
simclr_studio_runner_class_init(SimclrStudioRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->dispose = simclr_studio_runner_dispose;
  object_class->finalize = simclr_studio_runner_finalize;

  signals[SIGNAL_EVENT] = g_signal_new("event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_FINISHED] =
    g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                 NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_RESTORED] =
    g_signal_new("restored", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                 NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
simclr_studio_runner_init(SimclrStudioRunner *self)
{
  g_mutex_init(&self->lock);
  self->queue = g_array_new(FALSE, FALSE, sizeof(QueuedEvent));
  g_array_set_clear_func(self->queue, queued_event_clear);
}

SimclrStudioRunner *
simclr_studio_runner_new(void)
{
  return g_object_new(SIMCLR_STUDIO_TYPE_RUNNER, NULL);
}

static gboolean
start_worker(SimclrStudioRunner *self, const ScTrainConfig *config,
             const char *checkpoint_dir, gboolean resume, GError **error)
{
  if (self->running) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "A training is already running; stop it first");
    return FALSE;
  }
  sc_train_config_clear(&self->config);
  sc_train_config_copy(&self->config, config);
  g_free(self->checkpoint_dir);
  self->checkpoint_dir = g_strdup(checkpoint_dir);
  self->resume = resume;
  g_mutex_lock(&self->lock);
  self->cancel_requested = FALSE;
  self->pause_requested = FALSE;
  self->done = FALSE;
  self->wrote = FALSE;
  g_clear_error(&self->write_error);
  g_clear_pointer(&self->restored, restored_free);
  g_mutex_unlock(&self->lock);

  self->thread = g_thread_try_new("simclr-trainer", worker, self, error);
  if (self->thread == NULL)
    return FALSE;
  self->running = TRUE;
  self->paused = FALSE;
  self->results_written = FALSE;
  g_clear_error(&self->results_error);
  return TRUE;
}

gboolean
simclr_studio_runner_start(SimclrStudioRunner *self, const ScTrainConfig *config,
                           const char *checkpoint_dir, GError **error)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_RUNNER(self), FALSE);
  if (!self->running && !sc_train_config_validate(config, error))
    return FALSE;
  return start_worker(self, config, checkpoint_dir, FALSE, error);
}

gboolean
simclr_studio_runner_resume(SimclrStudioRunner *self, const ScTrainConfig *config,
                            const char *checkpoint_dir, GError **error)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_RUNNER(self), FALSE);
  g_return_val_if_fail(checkpoint_dir != NULL, FALSE);
  /* The checkpoint's configuration is checked when the worker reads it. */
  return start_worker(self, config, checkpoint_dir, TRUE, error);
}

void
simclr_studio_runner_cancel(SimclrStudioRunner *self)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_RUNNER(self));
  g_mutex_lock(&self->lock);
  self->cancel_requested = TRUE;
  if (self->trainer != NULL)
    sc_trainer_cancel(self->trainer);
  g_mutex_unlock(&self->lock);
  /* A paused trainer must wake up to see the cancel. */
  simclr_studio_runner_set_paused(self, FALSE);
}

void
simclr_studio_runner_set_paused(SimclrStudioRunner *self, gboolean paused)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_RUNNER(self));
  g_mutex_lock(&self->lock);
  self->pause_requested = paused;
  if (self->trainer != NULL)
    sc_trainer_set_paused(self->trainer, paused);
  g_mutex_unlock(&self->lock);
  self->paused = paused && self->running;
}

gboolean
simclr_studio_runner_get_paused(SimclrStudioRunner *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_RUNNER(self), FALSE);
  return self->paused;
}

gboolean
simclr_studio_runner_get_running(SimclrStudioRunner *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_RUNNER(self), FALSE);
  return self->running;
}

void
simclr_studio_runner_wait(SimclrStudioRunner *self)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_RUNNER(self));
  while (self->running)
    g_main_context_iteration(NULL, TRUE);
}

gboolean
simclr_studio_runner_write_history_csv(SimclrStudioRunner *self, const char *path,
                                       GError **error)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_RUNNER(self), FALSE);
  if (self->running || self->last_trainer == NULL) {
    g_set_error_literal(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT,
                        self->running ? "The history can be saved once the training has "
                                        "ended or been stopped"
                                      : "There is no history yet: train first");
    return FALSE;
  }
  return sc_trainer_write_history_csv(self->last_trainer, path, error);
}

guint
simclr_studio_runner_get_n_updates(SimclrStudioRunner *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_RUNNER(self), 0);
  return self->n_updates;
}

gboolean
simclr_studio_runner_get_results_written(SimclrStudioRunner *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_RUNNER(self), FALSE);
  return self->results_written;
}

const GError *
simclr_studio_runner_get_results_error(SimclrStudioRunner *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_RUNNER(self), NULL);
  return self->results_error;
}
