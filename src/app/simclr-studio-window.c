/* SimclrStudioWindow: wires the panels to the settings and the runner, and
 * shows training reports as they arrive on the main loop. */
#include "config.h"

#include "simclr-studio-window-private.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "data/batcher.h"
#include "sc-error.h"
#include "sc-results.h"
#include "simclr-studio-run-folders.h"
#include "simclr-studio-settings.h"

G_DEFINE_FINAL_TYPE(SimclrStudioWindow, simclr_studio_window, ADW_TYPE_APPLICATION_WINDOW)

enum { SIGNAL_TRAINING_EVENT, SIGNAL_TRAINING_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_LOADING, N_PROPS };
static GParamSpec *properties[N_PROPS];

#define STALL_METER_PERIOD_MS 10
/* A no-break space: a wrapped log line breaks between fields, not in them. */
#define NBSP "\xc2\xa0"

static const char *const run_titles[SC_N_RUNS] = { "Baseline", "Pretraining", "Finetuning" };
/* The Keras example's maximal validation accuracies (its keras.io run on
 * STL-10, reference section 7.4): baseline, linear probe, finetuning. */
static const double example_max_acc[SC_N_RUNS] = { 0.6005, 0.5624, 0.6699 };
static const char *const example_names[SC_N_RUNS] = {
  "STL-10 example: baseline", "STL-10 example: probe", "STL-10 example: finetune"
};

/* Per-epoch numbers shown in the log when a run has them. */
static const struct {
  const char *name;
  size_t offset;
  gboolean percent;
} log_fields[] = {
  { "loss", G_STRUCT_OFFSET(ScEpochMetrics, loss), FALSE },
  { "acc", G_STRUCT_OFFSET(ScEpochMetrics, acc), TRUE },
  { "c_loss", G_STRUCT_OFFSET(ScEpochMetrics, c_loss), FALSE },
  { "c_acc", G_STRUCT_OFFSET(ScEpochMetrics, c_acc), TRUE },
  { "p_loss", G_STRUCT_OFFSET(ScEpochMetrics, p_loss), FALSE },
  { "p_acc", G_STRUCT_OFFSET(ScEpochMetrics, p_acc), TRUE },
  { "val_loss", G_STRUCT_OFFSET(ScEpochMetrics, val_loss), FALSE },
  { "val_acc", G_STRUCT_OFFSET(ScEpochMetrics, val_acc), TRUE },
  { "val_p_loss", G_STRUCT_OFFSET(ScEpochMetrics, val_p_loss), FALSE },
  { "val_p_acc", G_STRUCT_OFFSET(ScEpochMetrics, val_p_acc), TRUE },
  { "knn_acc", G_STRUCT_OFFSET(ScEpochMetrics, knn_acc), TRUE },
};

void
simclr_studio_window_toast(SimclrStudioWindow *self, const char *message)
{
  AdwToast *toast = adw_toast_new(message);
  adw_toast_set_timeout(toast, 6);
  adw_toast_overlay_add_toast(self->toast_overlay, toast);
}

static void
error_details_cb(AdwToast *toast, SimclrStudioWindow *self)
{
  const char *title = g_object_get_data(G_OBJECT(toast), "sc-error-title");
  const char *message = g_object_get_data(G_OBJECT(toast), "sc-error-message");
  GtkWidget *dialog = adw_message_dialog_new(GTK_WINDOW(self), title, message);
  adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", "_Close");
  gtk_window_present(GTK_WINDOW(dialog));
  self->error_dialog = GTK_WINDOW(dialog);
  g_object_add_weak_pointer(G_OBJECT(dialog), (gpointer *)&self->error_dialog);
}

/* A toast cuts a long message to one line: it says what failed, and its
 * Details button shows the whole message. */
void
simclr_studio_window_show_error(SimclrStudioWindow *self, const char *title,
                                const char *message)
{
  AdwToast *toast = adw_toast_new(title);
  adw_toast_set_timeout(toast, 10);
  adw_toast_set_button_label(toast, "_Details");
  g_object_set_data_full(G_OBJECT(toast), "sc-error-title", g_strdup(title), g_free);
  g_object_set_data_full(G_OBJECT(toast), "sc-error-message", g_strdup(message), g_free);
  g_signal_connect_object(toast, "button-clicked", G_CALLBACK(error_details_cb), self, 0);
  g_clear_object(&self->last_error_toast);
  self->last_error_toast = g_object_ref(toast);
  adw_toast_overlay_add_toast(self->toast_overlay, toast);
}

static void
log_line(SimclrStudioWindow *self, const char *line)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer(self->log_view);
  GtkTextIter end;
  gtk_text_buffer_get_end_iter(buffer, &end);
  if (gtk_text_buffer_get_char_count(buffer) > 0)
    gtk_text_buffer_insert(buffer, &end, "\n", 1);
  gtk_text_buffer_insert(buffer, &end, line, -1);
}

/* The log follows its newest line unless the reader scrolled up. The
 * scroll happens when the text view has measured the new lines (its
 * adjustment grows), not at insertion, when the height is not known yet. */
static void
log_upper_cb(SimclrStudioWindow *self, GParamSpec *pspec, GtkAdjustment *adj)
{
  if (self->log_follows)
    gtk_adjustment_set_value(adj, gtk_adjustment_get_upper(adj)
                                    - gtk_adjustment_get_page_size(adj));
}

/* Back at the bottom: follow again. (Not the reverse here: the view moves
 * the value itself while it measures new lines.) */
static void
log_value_cb(SimclrStudioWindow *self, GtkAdjustment *adj)
{
  if (gtk_adjustment_get_value(adj) + gtk_adjustment_get_page_size(adj)
      >= gtk_adjustment_get_upper(adj) - 1.0)
    self->log_follows = TRUE;
}

/* The reader scrolls up: stop following. */
static gboolean
log_scroll_cb(SimclrStudioWindow *self, double dx, double dy)
{
  if (dy < 0)
    self->log_follows = FALSE;
  return GDK_EVENT_PROPAGATE;
}

static void
log_clear(SimclrStudioWindow *self)
{
  gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->log_view), "", 0);
}

static gboolean
log_to_end(gpointer data)
{
  SimclrStudioWindow *self = data;
  self->log_end_idle = 0;
  GtkAdjustment *adj = gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(self->log_view));
  if (self->log_follows && adj != NULL)
    gtk_adjustment_set_value(adj, gtk_adjustment_get_upper(adj)
                                    - gtk_adjustment_get_page_size(adj));
  return G_SOURCE_REMOVE;
}

static void log_printf(SimclrStudioWindow *self, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
log_printf(SimclrStudioWindow *self, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *line = g_strdup_vprintf(format, args);
  va_end(args);
  log_line(self, line);
}

/* ---- Charts ---- */

/* Series r is run r's curve in every chart; runs the training shown does
 * not have get no legend entry (before any training, all have one). */
static void
add_run_series(SimclrStudioWindow *self, ScChart *chart)
{
  gboolean any = FALSE;
  for (int r = 0; r < SC_N_RUNS; r++)
    any = any || self->runs[r];
  for (int r = 0; r < SC_N_RUNS; r++) {
    double red, green, blue;
    sc_chart_palette(r, &red, &green, &blue);
    sc_chart_add_series(chart, !any || self->runs[r] ? sc_results_series_name(r) : NULL, red,
                        green, blue);
  }
}

static void
append_epoch(SimclrStudioWindow *self, ScChart *acc, ScChart *loss, ScRunKind run,
             const ScEpochMetrics *m)
{
  sc_chart_append(acc, run, m->epoch, sc_epoch_metrics_val_acc(run, m));
  sc_chart_append(loss, run, m->epoch, sc_epoch_metrics_val_loss(run, m));
}

/* Series r of each chart is run r's curve (see add_run_series); the
 * accuracy chart may add the example's results as dashed lines after them. */
static void
rebuild_charts(SimclrStudioWindow *self)
{
  ScChart *acc = sc_chart_new("Validation accuracy", "epoch", "accuracy");
  ScChart *loss = sc_chart_new("Validation loss", "epoch", "loss");
  sc_chart_set_percent(acc, TRUE);
  sc_chart_set_y_from_zero(acc, TRUE);
  sc_chart_set_y_from_zero(loss, TRUE);
  sc_chart_set_x_extent(acc, self->epochs);
  sc_chart_set_x_extent(loss, self->epochs);
  add_run_series(self, acc);
  add_run_series(self, loss);

  if (gtk_check_button_get_active(self->reference_check)) {
    for (int r = 0; r < SC_N_RUNS; r++) {
      double red, green, blue;
      sc_chart_palette(r, &red, &green, &blue);
      guint s = sc_chart_add_series(acc, example_names[r], red, green, blue);
      sc_chart_set_series_style(acc, s, SC_LINE_DASHED);
      double x[2] = { 1, MAX(self->epochs, 1) };
      double y[2] = { example_max_acc[r], example_max_acc[r] };
      sc_chart_set_series_points(acc, s, x, y, self->epochs > 1 ? 2 : 1);
    }
  }

  for (int r = 0; r < SC_N_RUNS; r++)
    for (guint i = 0; i < self->history[r]->len; i++)
      append_epoch(self, acc, loss, r, &g_array_index(self->history[r], ScEpochMetrics, i));
  simclr_studio_chart_view_set_chart(self->accuracy_chart, acc);
  simclr_studio_chart_view_set_chart(self->loss_chart, loss);
}

/* ---- Progress and reports ---- */

static char *
duration_text(double seconds)
{
  if (!isfinite(seconds) || seconds < 0)
    return g_strdup("–");
  int s = (int)lround(seconds);
  if (s < 60)
    return g_strdup_printf("%d s", s);
  if (s < 3600)
    return g_strdup_printf("%d min %02d s", s / 60, s % 60);
  return g_strdup_printf("%d h %02d min", s / 3600, s / 60 % 60);
}

static int
run_ordinal(SimclrStudioWindow *self, ScRunKind run)
{
  int k = 0;
  for (int r = 0; r <= (int)run; r++)
    k += self->runs[r] ? 1 : 0;
  return k;
}

static void
show_step(SimclrStudioWindow *self, const ScTrainerEvent *e)
{
  double per_run = (double)MAX(e->epochs, 1) * MAX(e->steps, 1);
  double in_run = (double)(e->epoch - 1) * MAX(e->steps, 1) + e->step;
  double fraction = (self->runs_done * per_run + in_run) / (MAX(self->n_runs, 1) * per_run);
  gtk_progress_bar_set_fraction(self->progress_bar, CLAMP(fraction, 0.0, 1.0));

  g_autofree char *eta = duration_text(e->eta_s);
  g_autofree char *text = g_strdup_printf(
    "%s (run %d of %d) · epoch %d/%d · step %d/%d · %.0f images/s · %s left in this run%s",
    run_titles[e->run], run_ordinal(self, e->run), self->n_runs, e->epoch, e->epochs,
    e->step, e->steps, e->images_per_s, eta,
    simclr_studio_runner_get_paused(self->runner) ? " · paused" : "");
  gtk_progress_bar_set_text(self->progress_bar, text);
}

static void
log_epoch(SimclrStudioWindow *self, ScRunKind run, int epochs, const ScEpochMetrics *m)
{
  g_autoptr(GString) line = g_string_new(NULL);
  g_string_append_printf(line, "%-10s epoch %*d/%d", sc_run_name(run),
                         epochs >= 100 ? 3 : 2, m->epoch, epochs);
  for (size_t i = 0; i < G_N_ELEMENTS(log_fields); i++) {
    double v = G_STRUCT_MEMBER(double, m, log_fields[i].offset);
    if (isnan(v))
      continue;
    if (log_fields[i].percent)
      g_string_append_printf(line, "  %s" NBSP "%.2f%%", log_fields[i].name, 100.0 * v);
    else
      g_string_append_printf(line, "  %s" NBSP "%.4f", log_fields[i].name, v);
  }
  g_string_append_printf(line, "  (%.1f" NBSP "s," NBSP "%.0f" NBSP "images/s)", m->seconds,
                         m->images_per_s);
  log_line(self, line->str);
}

static double
best_val_acc(SimclrStudioWindow *self, ScRunKind run)
{
  double best = NAN;
  for (guint i = 0; i < self->history[run]->len; i++) {
    double v = sc_epoch_metrics_val_acc(run, &g_array_index(self->history[run],
                                                            ScEpochMetrics, i));
    if (isfinite(v) && !(v <= best))
      best = v;
  }
  return best;
}

static void
runner_event_cb(SimclrStudioWindow *self, const ScTrainerEvent *e)
{
  g_debug("event %d run %d epoch %d step %d", e->kind, e->run, e->epoch, e->step);
  switch (e->kind) {
  case SC_EVENT_RUN_STARTED:
    log_printf(self, "%s: %d epochs of %d steps", run_titles[e->run], e->epochs, e->steps);
    if (e->epochs != self->epochs) {
      self->epochs = e->epochs;
      rebuild_charts(self);
    }
    show_step(self, e);
    break;
  case SC_EVENT_STEP:
    show_step(self, e);
    break;
  case SC_EVENT_EPOCH_DONE: {
    g_array_append_val(self->history[e->run], e->metrics);
    append_epoch(self, simclr_studio_chart_view_get_chart(self->accuracy_chart),
                 simclr_studio_chart_view_get_chart(self->loss_chart), e->run, &e->metrics);
    simclr_studio_chart_view_changed(self->accuracy_chart);
    simclr_studio_chart_view_changed(self->loss_chart);
    log_epoch(self, e->run, e->epochs, &e->metrics);
    break;
  }
  case SC_EVENT_RUN_DONE:
    self->runs_done++;
    log_printf(self, "%s: best validation accuracy %.2f%%", run_titles[e->run],
               100.0 * best_val_acc(self, e->run));
    break;
  case SC_EVENT_CHECKPOINT: {
    if (self->checkpoint_path == NULL)
      log_printf(self, "Checkpoints in %s", self->checkpoint_dir);
    g_free(self->checkpoint_path);
    self->checkpoint_path = g_strdup(e->path);
    /* Short enough for a 1024 px window; the run is in the progress bar. */
    g_autofree char *status = g_strdup_printf("Epoch %d saved", e->epoch);
    gtk_label_set_text(self->status_label, status);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->status_label), e->path);
    break;
  }
  }
  g_signal_emit(self, signals[SIGNAL_TRAINING_EVENT], 0, e);
}

/* The settings are copied when a training starts; while it runs they are
 * locked. Not with gtk_widget_set_sensitive: restyling the whole column
 * stalled the main loop for 35-60 ms on a 2-core machine. */
static void
lock_settings(SimclrStudioWindow *self, gboolean locked)
{
  gtk_widget_set_can_target(self->settings_box, !locked);
  gtk_widget_set_can_focus(self->settings_box, !locked);
  gtk_widget_set_opacity(self->settings_box, locked ? 0.5 : 1.0);
}

/* Lets other windows and processes prune the run folder again. */
static void
release_run_folder(SimclrStudioWindow *self)
{
  if (self->run_lock_fd >= 0)
    close(self->run_lock_fd);
  self->run_lock_fd = -1;
}

/* The run folder Continue offers: looked up again whenever a training ends
 * or the runs root changes, so it survives a restart of the app. */
static void
refresh_resumable(SimclrStudioWindow *self)
{
  g_free(self->resumable_dir);
  self->resumable_dir = simclr_studio_run_folder_find_resumable(self->runs_root);
}

/* The first selected run with epochs left, and the epoch it goes on from. */
static gboolean
next_epoch(SimclrStudioWindow *self, ScRunKind *run, int *epoch)
{
  for (int r = 0; r < SC_N_RUNS; r++) {
    if (self->runs[r] && (int)self->history[r]->len < self->epochs) {
      *run = r;
      *epoch = (int)self->history[r]->len + 1;
      return TRUE;
    }
  }
  return FALSE;
}

/* After a stop: the app's way to go on first, then the command line's. */
static void
log_how_to_continue(SimclrStudioWindow *self)
{
  ScRunKind run;
  int epoch;
  if (g_strcmp0(self->resumable_dir, self->checkpoint_dir) == 0
      && next_epoch(self, &run, &epoch))
    log_printf(self, "Continue (Ctrl+Shift+Enter or the button) goes on from epoch %d of "
               "%s.", epoch, sc_run_name(run));
  log_printf(self, "The last checkpoint is in %s; `simclr-train --resume %s` continues the "
             "training from a terminal.", self->checkpoint_dir, self->checkpoint_dir);
}

static void
runner_finished_cb(SimclrStudioWindow *self, const GError *error)
{
  self->max_stall_ms = simclr_studio_stall_meter_get_max_ms(self->stall_meter);
  g_clear_pointer(&self->stall_meter, simclr_studio_stall_meter_free);
  double seconds = (g_get_monotonic_time() - self->started_usec) / 1e6;
  g_autofree char *took = duration_text(seconds);
  gboolean completed = error == NULL;
  gboolean stopped = g_error_matches(error, SC_TRAINER_ERROR, SC_ERROR_CANCELLED);
  /* The worker has ended: nothing writes into the run folder any more. */
  release_run_folder(self);
  g_clear_pointer(&self->results_scan, g_free); /* its results are new */
  refresh_resumable(self);

  if (completed) {
    gtk_progress_bar_set_fraction(self->progress_bar, 1.0);
    g_autofree char *text = g_strdup_printf("Done in %s", took);
    gtk_progress_bar_set_text(self->progress_bar, text);
    log_printf(self, "Done in %s.", took);
  } else if (stopped) {
    gtk_progress_bar_set_text(self->progress_bar, "Stopped");
    log_printf(self, "Stopped after %s.", took);
    if (self->checkpoint_path != NULL)
      log_how_to_continue(self);
  } else {
    /* A checkpoint that cannot be resumed (its data gone or changed) fails
     * before the first step: the engine's message says why. */
    const char *title = self->resuming && self->n_runs == 0
                          ? "Could not continue the training" : "Training failed";
    gtk_progress_bar_set_text(self->progress_bar, "Failed");
    log_printf(self, "%s: %s", title, error->message);
    if (self->checkpoint_path != NULL)
      log_printf(self, "The last checkpoint is in %s.", self->checkpoint_dir);
    simclr_studio_window_show_error(self, title, error->message);
  }
  g_debug("Longest main-loop stall during the training: %.1f ms", self->max_stall_ms);
  const GError *results_error = simclr_studio_runner_get_results_error(self->runner);
  if (simclr_studio_runner_get_results_written(self->runner))
    log_printf(self, "History, charts%s in %s.", completed ? " and encoder" : "",
               self->checkpoint_dir);
  else if (results_error != NULL)
    log_printf(self, "Could not write the history and charts: %s", results_error->message);
  /* A training that failed or stopped before writing anything leaves no
   * empty run folder (rmdir removes only an empty one). */
  if (!completed && !self->resuming && self->checkpoint_dir != NULL
      && g_rmdir(self->checkpoint_dir) == 0) {
    g_clear_pointer(&self->checkpoint_dir, g_free);
    refresh_resumable(self);
  }
  gtk_label_set_text(self->status_label, self->checkpoint_path ? "Checkpoint kept" : "");
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->status_label), self->checkpoint_path);

  lock_settings(self, FALSE);
  gtk_widget_set_sensitive(GTK_WIDGET(self->runs_dropdown), TRUE);
  simclr_studio_window_actions_update(self);
  g_signal_emit(self, signals[SIGNAL_TRAINING_FINISHED], 0, completed);

  if (self->closing)
    gtk_window_destroy(GTK_WINDOW(self));
}

/* ---- Training ---- */

static void show_newest_results(SimclrStudioWindow *self, gboolean show_page);

/* A data folder as compared: "" or NULL (how the settings and history files
 * store the default data set) is the default's folder; absolute, with no
 * "." or "..", no doubled or trailing "/", and symbolic links resolved when
 * it exists. */
static char *
data_folder_key(const char *path)
{
  g_autofree char *canonical =
    g_canonicalize_filename(path != NULL && *path != '\0' ? path : SC_DEFAULT_DATA_DIR, NULL);
  /* A data set reached through a symbolic link is the same data set. */
  char *resolved = realpath(canonical, NULL);
  if (resolved == NULL)
    return g_steal_pointer(&canonical);
  char *key = g_strdup(resolved); /* g_free-able */
  free(resolved);
  return key;
}

static char *
selected_data_key(SimclrStudioWindow *self)
{
  g_autofree char *folder = g_settings_get_string(self->settings, SC_KEY_DATA_FOLDER);
  return data_folder_key(folder);
}

void
simclr_studio_window_set_runs_root(SimclrStudioWindow *self, const char *root, guint keep)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_WINDOW(self));
  g_return_if_fail(root != NULL);
  self->runs_kept = keep;
  if (g_strcmp0(root, self->runs_root) == 0)
    return; /* looked at already */
  g_free(self->runs_root);
  self->runs_root = g_strdup(root);
  refresh_resumable(self);
  show_newest_results(self, TRUE);
  simclr_studio_window_actions_update(self);
}

gboolean
simclr_studio_window_start_training(SimclrStudioWindow *self, GError **error)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), FALSE);
  if (simclr_studio_runner_get_running(self->runner)) {
    g_set_error_literal(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT,
                        "A training is already running");
    return FALSE;
  }
  /* A value typed but not confirmed is what the user sees: train with it,
   * whether Train was clicked (the field lost focus) or Ctrl+Enter pressed. */
  simclr_studio_params_panel_commit(self->params_panel);
  ScTrainConfig config;
  simclr_studio_settings_get_config(self->settings, &config);
  /* The folder stays locked while the worker writes into it, so that no
   * other instance prunes it before its first checkpoint. */
  int lock_fd = -1;
  g_autofree char *dir = simclr_studio_run_folder_new(self->runs_root, self->runs_kept,
                                                      &lock_fd, error);
  gboolean ok = dir != NULL
                && simclr_studio_runner_start(self->runner, &config, dir, error);
  if (!ok && lock_fd >= 0)
    close(lock_fd);
  if (!ok && dir != NULL)
    g_rmdir(dir); /* nothing was written: no empty folder left behind */
  if (ok) {
    release_run_folder(self);
    self->run_lock_fd = lock_fd;
    self->n_runs = 0;
    for (int r = 0; r < SC_N_RUNS; r++) {
      self->runs[r] = config.runs[r];
      self->n_runs += config.runs[r] ? 1 : 0;
      g_array_set_size(self->history[r], 0);
    }
    self->runs_done = 0;
    self->epochs = config.epochs;
    self->resuming = FALSE;
    self->startup_results = FALSE;
    self->curves_read = FALSE;
    g_free(self->curves_data);
    self->curves_data = data_folder_key(config.data_path);
    self->started_usec = g_get_monotonic_time();
    g_clear_pointer(&self->checkpoint_path, g_free);
    g_free(self->checkpoint_dir);
    self->checkpoint_dir = g_strdup(dir);
    g_clear_pointer(&self->stall_meter, simclr_studio_stall_meter_free);
    self->stall_meter = simclr_studio_stall_meter_new(STALL_METER_PERIOD_MS);
    rebuild_charts(self);
    gtk_progress_bar_set_fraction(self->progress_bar, 0.0);
    gtk_progress_bar_set_text(self->progress_bar, "Opening the data and building the models…");
    log_clear(self);
    /* The run folder is named once a checkpoint is in it. */
    log_printf(self, "Training on %s with the %s backend",
               config.data_path ? config.data_path : SC_DEFAULT_DATA_DIR, config.backend);
    lock_settings(self, TRUE);
    gtk_widget_set_sensitive(GTK_WIDGET(self->runs_dropdown), FALSE);
    gtk_stack_set_visible_child_name(self->view_stack, "training");
    simclr_studio_window_actions_update(self);
  }
  sc_train_config_clear(&config);
  return ok;
}

/* The checkpoint's state, from the worker: the runs and epochs it trains
 * and the curves of the epochs it has done, shown before it goes on. */
static void
runner_restored_cb(SimclrStudioWindow *self, const SimclrStudioRestored *restored)
{
  const ScTrainConfig *c = &restored->config;
  g_free(self->curves_data);
  self->curves_data = data_folder_key(c->data_path);
  self->n_runs = 0;
  self->runs_done = 0;
  self->epochs = c->epochs;
  for (int r = 0; r < SC_N_RUNS; r++) {
    self->runs[r] = c->runs[r];
    self->n_runs += c->runs[r] ? 1 : 0;
    GArray *h = restored->history[r];
    g_array_set_size(self->history[r], 0);
    g_array_append_vals(self->history[r], h->data, h->len);
    if (c->runs[r] && (int)h->len >= c->epochs)
      self->runs_done++;
  }
  log_printf(self, "The checkpoint's configuration is used, not the settings panel's "
             "(which keeps yours): %s, %d epochs, batch size %d, width %d, seed %" G_GUINT64_FORMAT
             ", the %s backend.", c->data_path ? c->data_path : SC_DEFAULT_DATA_DIR,
             c->epochs, c->batch_size, c->width, (guint64)c->seed, c->backend);
  for (int r = 0; r < SC_N_RUNS; r++)
    for (guint i = 0; i < self->history[r]->len; i++)
      log_epoch(self, r, c->epochs, &g_array_index(self->history[r], ScEpochMetrics, i));
  rebuild_charts(self);
  ScRunKind run;
  int epoch;
  if (next_epoch(self, &run, &epoch))
    log_printf(self, "Going on from epoch %d of %s.", epoch, sc_run_name(run));
}

gboolean
simclr_studio_window_continue_training(SimclrStudioWindow *self, GError **error)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), FALSE);
  if (simclr_studio_runner_get_running(self->runner)) {
    g_set_error_literal(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT,
                        "A training is already running");
    return FALSE;
  }
  refresh_resumable(self);
  if (self->resumable_dir == NULL) {
    g_set_error_literal(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT,
                        "There is no stopped training to continue");
    simclr_studio_window_actions_update(self);
    return FALSE;
  }
  g_autofree char *dir = g_strdup(self->resumable_dir);
  /* Where to run comes from the settings; everything else from the
   * checkpoint. */
  ScTrainConfig config;
  simclr_studio_settings_get_config(self->settings, &config);
  int lock_fd = simclr_studio_run_folder_lock(dir, error);
  gboolean ok = lock_fd >= 0 && simclr_studio_runner_resume(self->runner, &config, dir, error);
  sc_train_config_clear(&config);
  if (!ok) {
    if (lock_fd >= 0)
      close(lock_fd);
    return FALSE;
  }
  release_run_folder(self);
  self->run_lock_fd = lock_fd;
  /* Known once the worker has read the checkpoint ("restored"). */
  self->n_runs = 0;
  for (int r = 0; r < SC_N_RUNS; r++) {
    self->runs[r] = FALSE;
    g_array_set_size(self->history[r], 0);
  }
  self->runs_done = 0;
  self->resuming = TRUE;
  self->startup_results = FALSE;
  self->curves_read = FALSE;
  self->started_usec = g_get_monotonic_time();
  g_free(self->checkpoint_dir);
  self->checkpoint_dir = g_strdup(dir);
  g_free(self->checkpoint_path);
  self->checkpoint_path = g_build_filename(dir, "checkpoint.safetensors", NULL);
  g_clear_pointer(&self->stall_meter, simclr_studio_stall_meter_free);
  self->stall_meter = simclr_studio_stall_meter_new(STALL_METER_PERIOD_MS);
  rebuild_charts(self);
  gtk_progress_bar_set_fraction(self->progress_bar, 0.0);
  gtk_progress_bar_set_text(self->progress_bar, "Reading the checkpoint and its data…");
  log_clear(self);
  log_printf(self, "Continuing the stopped training in %s", dir);
  lock_settings(self, TRUE);
  gtk_widget_set_sensitive(GTK_WIDGET(self->runs_dropdown), FALSE);
  gtk_stack_set_visible_child_name(self->view_stack, "training");
  simclr_studio_window_actions_update(self);
  return TRUE;
}

const char *
simclr_studio_window_get_resumable_dir(SimclrStudioWindow *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), NULL);
  return self->resumable_dir;
}

gboolean
simclr_studio_window_get_training(SimclrStudioWindow *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), FALSE);
  return simclr_studio_runner_get_running(self->runner);
}

gboolean
simclr_studio_window_get_loading(SimclrStudioWindow *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), FALSE);
  return simclr_studio_data_panel_get_loading(self->data_panel);
}

const char *
simclr_studio_window_get_checkpoint_path(SimclrStudioWindow *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), NULL);
  return self->checkpoint_path;
}

double
simclr_studio_window_get_max_stall_ms(SimclrStudioWindow *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), 0.0);
  return self->max_stall_ms;
}

/* ---- Results folders ---- */

/* Empties the training page: curves, progress and status. Returns whether
 * it showed anything. */
static gboolean
reset_training_page(SimclrStudioWindow *self)
{
  gboolean shown = FALSE;
  for (int r = 0; r < SC_N_RUNS; r++) {
    shown = shown || self->history[r]->len > 0;
    g_array_set_size(self->history[r], 0);
  }
  shown = shown || self->checkpoint_dir != NULL;
  g_clear_pointer(&self->curves_data, g_free);
  self->startup_results = FALSE;
  self->curves_read = FALSE;
  if (!shown)
    return FALSE;
  g_clear_pointer(&self->checkpoint_path, g_free);
  g_clear_pointer(&self->checkpoint_dir, g_free);
  gtk_progress_bar_set_fraction(self->progress_bar, 0.0);
  gtk_progress_bar_set_text(self->progress_bar, "");
  gtk_label_set_text(self->status_label, "");
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->status_label), NULL);
  return TRUE;
}

/* The log's account of results read from FOLDER: each epoch, then whether
 * the training finished or where it stopped, its settings and each run's
 * best. */
static void
log_results(SimclrStudioWindow *self, const char *folder, const ScTrainConfig *config)
{
  /* The epochs first, the summary last: the log shows its end. */
  for (int r = 0; r < SC_N_RUNS; r++)
    for (guint i = 0; i < self->history[r]->len; i++)
      log_epoch(self, r, self->epochs, &g_array_index(self->history[r], ScEpochMetrics, i));
  ScRunKind run;
  int epoch;
  if (next_epoch(self, &run, &epoch))
    log_printf(self, "Results of %s: the training was stopped before epoch %d of %d of "
               "%s.", folder, epoch, self->epochs, sc_run_name(run));
  else
    log_printf(self, "Results of %s: the training finished (%d epochs per run).", folder,
               self->epochs);
  /* The settings panel shows the next training's settings, not these. */
  g_autofree char *cap = config->unlabeled_cap > 0
                           ? g_strdup_printf("at most %zu", config->unlabeled_cap)
                           : g_strdup("all");
  g_autofree char *subset = config->subset > 0
                              ? g_strdup_printf("at most %zu images per split", config->subset)
                              : g_strdup("all images");
  g_autoptr(GString) runs = g_string_new(NULL);
  for (int r = 0; r < SC_N_RUNS; r++)
    if (config->runs[r])
      g_string_append_printf(runs, "%s%s", runs->len > 0 ? ", " : "", sc_run_name(r));
  log_printf(self, "Trained with: runs %s; %d labeled images per class, %s unlabeled, %s, "
             "input %d px, width %d, batch %d, %d epochs, temperature %g, learning rates %g "
             "and %g (contrastive), seed %" G_GUINT64_FORMAT ".",
             runs->str, config->labeled_per_class, cap, subset,
             config->input_size, config->width, config->batch_size, config->epochs,
             (double)config->temperature, (double)config->learning_rate,
             (double)config->contrastive_learning_rate, config->seed);
  for (int r = 0; r < SC_N_RUNS; r++)
    if (self->history[r]->len > 0)
      log_printf(self, "%s: best validation accuracy %.2f%%", run_titles[r],
                 100.0 * best_val_acc(self, r));
}

/* Shows the curves of CONFIG's training, read from FOLDER, as those of a
 * training just done, and opens their data set (DATA, a data_folder_key)
 * if another one is selected; show_page: switch to the Training page. */
static void
show_read_results(SimclrStudioWindow *self, const char *folder, const ScTrainConfig *config,
                  GArray *history[SC_N_RUNS], const char *data, gboolean show_page)
{
  self->n_runs = 0;
  self->runs_done = 0;
  self->epochs = config->epochs;
  int done = 0;
  for (int r = 0; r < SC_N_RUNS; r++) {
    self->runs[r] = config->runs[r];
    self->n_runs += config->runs[r] ? 1 : 0;
    g_array_set_size(self->history[r], 0);
    g_array_append_vals(self->history[r], history[r]->data, history[r]->len);
    done += config->runs[r] ? MIN((int)history[r]->len, config->epochs) : 0;
    if (config->runs[r] && (int)history[r]->len >= config->epochs)
      self->runs_done++;
  }
  /* Before the data folder changes: the curves are of that data. */
  g_free(self->curves_data);
  self->curves_data = g_strdup(data);
  g_free(self->checkpoint_dir);
  self->checkpoint_dir = g_strdup(folder);
  g_clear_pointer(&self->checkpoint_path, g_free);
  self->curves_read = TRUE;
  rebuild_charts(self);

  g_autofree char *name = g_path_get_basename(folder);
  g_autofree char *text = g_strdup_printf("Results of %s", name);
  gtk_progress_bar_set_fraction(self->progress_bar,
                                (double)done / MAX((double)self->n_runs * self->epochs, 1.0));
  gtk_progress_bar_set_text(self->progress_bar, text);
  gtk_label_set_text(self->status_label, "");
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->status_label), folder);
  /* The log, like the curves, is of these results only. */
  log_clear(self);
  log_results(self, folder, config);
  /* Many lines at once: the view measures them in idle time, at a higher
   * priority than this, so the log shows its end (the summary) after. */
  self->log_follows = TRUE;
  if (self->log_end_idle == 0)
    self->log_end_idle = g_idle_add_full(G_PRIORITY_LOW, log_to_end, self, NULL);

  g_autofree char *selected = selected_data_key(self);
  if (!g_str_equal(selected, data)) {
    gboolean is_default = g_str_equal(data, SC_DEFAULT_DATA_DIR);
    log_printf(self, "Opening the data set of these results: %s", data);
    g_settings_set_string(self->settings, SC_KEY_DATA_FOLDER, is_default ? "" : data);
  }
  /* Not when the user is choosing a data set: the preview stays. */
  if (show_page)
    gtk_stack_set_visible_child_name(self->view_stack, "training");
  simclr_studio_window_actions_update(self);
}

/* Reads FOLDER's history.json and shows it (show_page as for
 * show_read_results); at_startup only when it has an epoch and is of the
 * data set selected (FALSE without an error else). */
static gboolean
load_results(SimclrStudioWindow *self, const char *folder, gboolean at_startup,
             gboolean show_page, GError **error)
{
  g_autofree char *path = g_build_filename(folder, "history.json", NULL);
  ScTrainConfig config;
  GArray *history[SC_N_RUNS];
  for (int r = 0; r < SC_N_RUNS; r++)
    history[r] = g_array_new(FALSE, FALSE, sizeof(ScEpochMetrics));
  gboolean shown = sc_trainer_read_history_json(path, &config, history, error);
  g_autofree char *data = data_folder_key(config.data_path);
  g_autofree char *selected = selected_data_key(self);
  guint n_epochs = 0;
  for (int r = 0; r < SC_N_RUNS; r++)
    n_epochs += history[r]->len;
  if (shown && at_startup && (n_epochs == 0 || !g_str_equal(data, selected))) {
    g_debug("%s: not shown at startup (%u epochs, data %s, selected %s)", path, n_epochs,
            data, selected);
    shown = FALSE;
  }
  if (shown)
    show_read_results(self, folder, &config, history, data, show_page);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_array_unref(history[r]);
  sc_train_config_clear(&config);
  return shown;
}

/* At startup, when the runs root changes and when another data set opens:
 * the newest results of the runs root for the data set selected, so that
 * the curves of its last training are there again. Curves of a training in
 * this window, or of results asked for, stay. */
static void
show_newest_results(SimclrStudioWindow *self, gboolean show_page)
{
  if (self->settings == NULL || simclr_studio_runner_get_running(self->runner))
    return;
  gboolean shown = FALSE;
  for (int r = 0; r < SC_N_RUNS; r++)
    shown = shown || self->history[r]->len > 0;
  gboolean replaced = self->startup_results;
  if (!replaced && (shown || self->checkpoint_dir != NULL))
    return;
  /* A look that found nothing to show finds nothing again for the same
   * runs root and data set until a training ends: not repeated (nor its
   * failure said twice). */
  g_autofree char *selected = selected_data_key(self);
  g_autofree char *scan = g_strconcat(self->runs_root, "\n", selected, NULL);
  if (g_strcmp0(scan, self->results_scan) == 0)
    return;
  g_free(self->results_scan);
  self->results_scan = g_steal_pointer(&scan);
  if (replaced)
    reset_training_page(self);
  /* The newest results of the data set selected, maybe under newer ones of
   * other data. */
  g_autoptr(GPtrArray) folders = simclr_studio_run_folder_list_results(self->runs_root);
  g_autoptr(GError) newest_error = NULL; /* why the newest folder cannot be shown */
  for (guint i = 0; i < folders->len; i++) {
    g_autoptr(GError) local = NULL;
    if (load_results(self, folders->pdata[i], TRUE, show_page, &local)) {
      self->startup_results = TRUE;
      g_clear_pointer(&self->results_scan, g_free);
      /* Older results stand in for unreadable newer ones: say so. */
      if (newest_error != NULL)
        log_printf(self, "The newest results could not be read: %s", newest_error->message);
      return;
    }
    if (local != NULL && i == 0)
      newest_error = g_steal_pointer(&local);
  }
  /* When none can be shown, the newest one's failure says why, once. */
  const char *failed = folders->len > 0 ? folders->pdata[0] : NULL;
  g_autoptr(GError) error = newest_error != NULL
                                && g_strcmp0(failed, self->results_error) != 0
                              ? g_steal_pointer(&newest_error)
                              : NULL;
  if (replaced) {
    /* The log described the results just taken away. */
    rebuild_charts(self);
    log_clear(self);
  }
  if (error != NULL) {
    g_free(self->results_error);
    self->results_error = g_strdup(failed);
    simclr_studio_window_show_error(self, "Could not show the last results", error->message);
  }
}

gboolean
simclr_studio_window_show_results(SimclrStudioWindow *self, const char *folder,
                                  GError **out_error)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), FALSE);
  g_return_val_if_fail(folder != NULL, FALSE);
  g_autoptr(GError) error = NULL;
  if (simclr_studio_runner_get_running(self->runner))
    g_set_error(&error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "A training is running: the results of %s can be shown once it has ended",
                folder);
  else if (load_results(self, folder, FALSE, TRUE, &error))
    self->startup_results = FALSE;
  else if (reset_training_page(self)) {
    /* The curves shown before are not these results: no mix-up. */
    rebuild_charts(self);
    log_clear(self);
  }
  if (error != NULL) {
    log_printf(self, "Could not show the results of %s: %s", folder, error->message);
    simclr_studio_window_show_error(self, "Could not show the results", error->message);
  }
  gboolean shown = error == NULL;
  if (error != NULL)
    g_propagate_error(out_error, g_steal_pointer(&error));
  return shown;
}

/* ---- Wiring ---- */

/* The curves, progress and status of the last training belong to the data
 * it trained on: another data set starts from an empty page. */
static void
clear_training_page(SimclrStudioWindow *self, const char *data_name)
{
  if (!reset_training_page(self))
    return;
  log_printf(self, "Data set changed to %s: the curves of the previous data were cleared.",
             data_name != NULL ? data_name : "none");
}

/* The Keras reference lines are results on STL-10: shown by default on
 * STL-10 only; once the user ticks or clears the box, that choice holds. */
static void
show_reference_default(SimclrStudioWindow *self)
{
  const ScDataset *d = simclr_studio_data_panel_get_dataset(self->data_panel);
  g_autoptr(GVariant) chosen = g_settings_get_user_value(self->settings, SC_KEY_SHOW_REFERENCE);
  gboolean show = chosen != NULL ? g_variant_get_boolean(chosen)
                                 : d != NULL && d->format == SC_FORMAT_STL10;
  self->setting_reference = TRUE;
  gtk_check_button_set_active(self->reference_check, show);
  self->setting_reference = FALSE;
  rebuild_charts(self);
}

/* Before Train: whether the data set, split as the settings say, gives a
 * step at the batch size set; if not, the batcher's message names the
 * nearest size that works, shown beside the field. */
static void
check_batch_size(SimclrStudioWindow *self)
{
  /* While another data set opens, the hint of the one it replaces would be
   * stale: none until the new one is there. */
  const ScDataset *d = simclr_studio_data_panel_get_loading(self->data_panel)
                         ? NULL
                         : simclr_studio_data_panel_get_dataset(self->data_panel);
  int suggestion = 0;
  g_autoptr(GError) error = NULL;
  ScSplitConfig split = {
    .labeled_per_class = g_settings_get_int(self->settings, SC_KEY_LABELED_PER_CLASS),
    .unlabeled_cap = (size_t)g_settings_get_int(self->settings, SC_KEY_UNLABELED_CAP),
    .subset = (size_t)g_settings_get_int(self->settings, SC_KEY_SUBSET),
    .seed = (uint64_t)g_settings_get_int(self->settings, SC_KEY_SEED),
  };
  /* A plan that cannot be made says why when the training starts. */
  g_autoptr(ScSplitPlan) plan = d != NULL ? sc_split_plan_new(d, &split, NULL) : NULL;
  ScBatchPlan batches;
  int batch_size = g_settings_get_int(self->settings, SC_KEY_BATCH_SIZE);
  if (plan != NULL && !sc_batch_plan_init(&batches, plan, batch_size, &error))
    suggestion = sc_batch_plan_nearest_batch_size(plan, batch_size);
  else if (plan != NULL)
    sc_batch_plan_clear(&batches);
  simclr_studio_params_panel_set_batch_suggestion(self->params_panel, MAX(suggestion, 0),
                                                  error != NULL ? error->message : NULL);
}

static void
dataset_changed_cb(SimclrStudioWindow *self)
{
  const ScDataset *d = simclr_studio_data_panel_get_dataset(self->data_panel);
  simclr_studio_preview_panel_set_dataset(self->preview_panel, d);
  g_autofree char *name = d != NULL ? g_path_get_basename(d->path) : NULL;
  adw_window_title_set_subtitle(self->window_title, name != NULL ? name : "no data set");
  /* Also called when the data set first opens: curves of that data stay. */
  g_autofree char *selected = selected_data_key(self);
  if (!simclr_studio_runner_get_running(self->runner)
      && g_strcmp0(self->curves_data, selected) != 0) {
    clear_training_page(self, name);
    /* The last results of the data now open, if the runs root has some. */
    show_newest_results(self, FALSE);
  }
  show_reference_default(self);
  check_batch_size(self);
  simclr_studio_window_actions_update(self);
}

static void
loading_changed_cb(SimclrStudioWindow *self)
{
  check_batch_size(self);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_LOADING]);
  simclr_studio_window_actions_update(self);
}

static void
runs_selected_cb(SimclrStudioWindow *self)
{
  g_settings_set_enum(self->settings, SC_KEY_RUNS,
                      (int)gtk_drop_down_get_selected(self->runs_dropdown));
}

static void
runs_setting_cb(SimclrStudioWindow *self)
{
  gtk_drop_down_set_selected(self->runs_dropdown,
                             (guint)g_settings_get_enum(self->settings, SC_KEY_RUNS));
}

static void
reference_toggled_cb(SimclrStudioWindow *self)
{
  if (!self->setting_reference)
    g_settings_set_boolean(self->settings, SC_KEY_SHOW_REFERENCE,
                           gtk_check_button_get_active(self->reference_check));
  rebuild_charts(self);
}

/* The glossary's c_acc entry, for the batch size set: the model picks the
 * other view of an image among a batch's views, so chance is 1 in B. */
static void
show_contrastive_chance(SimclrStudioWindow *self)
{
  int batch = g_settings_get_int(self->settings, SC_KEY_BATCH_SIZE);
  g_autofree char *text = g_markup_printf_escaped(
    "<b>Contrastive accuracy</b> (c_acc in the log). Each image of a batch is augmented "
    "twice. For every view, the model must find the other view of the same image among "
    "the views of the batch. c_acc is how often it does; with the batch size set now "
    "(%d images), guessing gets %.2g%%. It rises as the encoder learns what stays the "
    "same under cropping and colour changes.", batch, 100.0 / MAX(batch, 1));
  gtk_label_set_markup(self->contrastive_label, text);
}

static void
epochs_changed_cb(SimclrStudioWindow *self)
{
  if (simclr_studio_runner_get_running(self->runner))
    return;
  self->epochs = g_settings_get_int(self->settings, SC_KEY_EPOCHS);
  rebuild_charts(self);
}

/* Stop after the current step, let the window go at once, and destroy it
 * when the worker has ended (the application stays until then). */
static void
close_after_training(SimclrStudioWindow *self)
{
  if (self->closing)
    return;
  self->closing = TRUE;
  simclr_studio_runner_cancel(self->runner);
  gtk_widget_set_visible(GTK_WIDGET(self), FALSE);
}

static gboolean
close_idle_cb(gpointer data)
{
  gtk_window_close(GTK_WINDOW(data));
  return G_SOURCE_REMOVE;
}

static void
quit_response_cb(SimclrStudioWindow *self, const char *response)
{
  if (!g_str_equal(response, "quit"))
    return;
  /* The training may have ended while the question was open: close once
   * the dialog has finished answering (closing destroys it). */
  if (simclr_studio_runner_get_running(self->runner))
    close_after_training(self);
  else
    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, close_idle_cb, g_object_ref(self),
                    g_object_unref);
}

static void
ask_before_quitting(SimclrStudioWindow *self)
{
  if (self->quit_dialog != NULL) {
    gtk_window_present(self->quit_dialog);
    return;
  }
  g_autofree char *body =
    self->checkpoint_path != NULL
      ? g_strdup_printf("The training stops after the current step. Its last checkpoint "
                        "is kept in %s; Continue goes on from there, also after a restart.",
                        self->checkpoint_dir)
      : g_strdup_printf("The training stops after the current step. It has saved no "
                        "checkpoint yet: the epoch under way in %s is lost.",
                        self->checkpoint_dir);
  GtkWidget *dialog =
    adw_message_dialog_new(GTK_WINDOW(self), "Stop the training and quit?", body);
  AdwMessageDialog *message = ADW_MESSAGE_DIALOG(dialog);
  adw_message_dialog_add_responses(message, "cancel", "_Cancel", "quit", "_Quit", NULL);
  adw_message_dialog_set_response_appearance(message, "quit", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response(message, "cancel");
  adw_message_dialog_set_close_response(message, "cancel");
  g_signal_connect_object(dialog, "response", G_CALLBACK(quit_response_cb), self,
                          G_CONNECT_SWAPPED);
  self->quit_dialog = GTK_WINDOW(dialog);
  g_object_add_weak_pointer(G_OBJECT(dialog), (gpointer *)&self->quit_dialog);
  gtk_window_present(GTK_WINDOW(dialog));
}

static gboolean
simclr_studio_window_close_request(GtkWindow *window)
{
  SimclrStudioWindow *self = SIMCLR_STUDIO_WINDOW(window);
  if (!simclr_studio_runner_get_running(self->runner))
    return GTK_WINDOW_CLASS(simclr_studio_window_parent_class)->close_request(window);
  if (!self->closing)
    ask_before_quitting(self);
  return TRUE;
}

GtkWindow *
simclr_studio_window_get_quit_dialog(SimclrStudioWindow *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_WINDOW(self), NULL);
  return self->quit_dialog;
}

static void
simclr_studio_window_dispose(GObject *object)
{
  SimclrStudioWindow *self = SIMCLR_STUDIO_WINDOW(object);
  g_clear_handle_id(&self->log_end_idle, g_source_remove);
  if (self->runner != NULL) {
    g_signal_handlers_disconnect_by_data(self->runner, self);
    simclr_studio_runner_shutdown(self->runner);
    g_clear_object(&self->runner);
  }
  release_run_folder(self);
  g_clear_pointer(&self->stall_meter, simclr_studio_stall_meter_free);
  if (self->export_chooser != NULL)
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->export_chooser));
  g_clear_object(&self->export_chooser);
  g_clear_object(&self->settings);
  g_clear_object(&self->last_error_toast);
  if (self->error_dialog != NULL)
    gtk_window_destroy(self->error_dialog);
  if (self->quit_dialog != NULL)
    gtk_window_destroy(self->quit_dialog);
  gtk_widget_dispose_template(GTK_WIDGET(self), SIMCLR_STUDIO_TYPE_WINDOW);
  G_OBJECT_CLASS(simclr_studio_window_parent_class)->dispose(object);
}

static void
simclr_studio_window_finalize(GObject *object)
{
  SimclrStudioWindow *self = SIMCLR_STUDIO_WINDOW(object);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_array_unref(self->history[r]);
  g_free(self->checkpoint_path);
  g_free(self->checkpoint_dir);
  g_free(self->results_error);
  g_free(self->results_scan);
  g_free(self->curves_data);
  g_free(self->runs_root);
  g_free(self->resumable_dir);
  G_OBJECT_CLASS(simclr_studio_window_parent_class)->finalize(object);
}

static void
simclr_studio_window_get_property(GObject *object, guint prop_id, GValue *value,
                                  GParamSpec *pspec)
{
  SimclrStudioWindow *self = SIMCLR_STUDIO_WINDOW(object);
  switch (prop_id) {
  case PROP_LOADING:
    g_value_set_boolean(value, simclr_studio_window_get_loading(self));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
simclr_studio_window_class_init(SimclrStudioWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS(klass);
  object_class->get_property = simclr_studio_window_get_property;
  object_class->dispose = simclr_studio_window_dispose;
  object_class->finalize = simclr_studio_window_finalize;
  window_class->close_request = simclr_studio_window_close_request;

  properties[PROP_LOADING] = g_param_spec_boolean(
    "loading", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, properties);

  signals[SIGNAL_TRAINING_EVENT] =
    g_signal_new("training-event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                 NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_TRAINING_FINISHED] =
    g_signal_new("training-finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                 NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);

  g_type_ensure(SIMCLR_STUDIO_TYPE_DATA_PANEL);
  g_type_ensure(SIMCLR_STUDIO_TYPE_PARAMS_PANEL);
  g_type_ensure(SIMCLR_STUDIO_TYPE_PREVIEW_PANEL);
  g_type_ensure(SIMCLR_STUDIO_TYPE_CHART_VIEW);
  gtk_widget_class_set_template_from_resource(
    widget_class, SC_RESOURCE_PATH "/simclr-studio-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, SimclrStudioWindow, name)
  BIND(window_title);
  BIND(toast_overlay);
  BIND(start_button);
  BIND(continue_button);
  BIND(settings_box);
  BIND(data_panel);
  BIND(params_panel);
  BIND(preview_panel);
  BIND(view_stack);
  BIND(runs_dropdown);
  BIND(progress_bar);
  BIND(accuracy_chart);
  BIND(loss_chart);
  BIND(reference_check);
  BIND(status_label);
  BIND(log_view);
  BIND(log_scroller);
  BIND(contrastive_label);
#undef BIND
}

static void
simclr_studio_window_init(SimclrStudioWindow *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  self->run_lock_fd = -1;
  self->runs_root = simclr_studio_runs_root_dup();
  self->runs_kept = SIMCLR_STUDIO_RUNS_KEPT;
  for (int r = 0; r < SC_N_RUNS; r++)
    self->history[r] = g_array_new(FALSE, FALSE, sizeof(ScEpochMetrics));
  self->runner = simclr_studio_runner_new();
  g_signal_connect_swapped(self->runner, "event", G_CALLBACK(runner_event_cb), self);
  g_signal_connect_swapped(self->runner, "finished", G_CALLBACK(runner_finished_cb), self);
  g_signal_connect_swapped(self->runner, "restored", G_CALLBACK(runner_restored_cb), self);
  g_signal_connect_swapped(self->data_panel, "dataset-changed",
                           G_CALLBACK(dataset_changed_cb), self);
  g_signal_connect_swapped(self->data_panel, "notify::loading",
                           G_CALLBACK(loading_changed_cb), self);
  GtkAdjustment *log_adj = gtk_scrolled_window_get_vadjustment(self->log_scroller);
  self->log_follows = TRUE;
  g_signal_connect_swapped(log_adj, "notify::upper", G_CALLBACK(log_upper_cb), self);
  g_signal_connect_swapped(log_adj, "value-changed", G_CALLBACK(log_value_cb), self);
  GtkEventController *scroll =
    gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  gtk_event_controller_set_propagation_phase(scroll, GTK_PHASE_CAPTURE);
  g_signal_connect_swapped(scroll, "scroll", G_CALLBACK(log_scroll_cb), self);
  gtk_widget_add_controller(GTK_WIDGET(self->log_scroller), scroll);
  simclr_studio_window_actions_init(self);
}

SimclrStudioWindow *
simclr_studio_window_new(AdwApplication *app, GSettings *settings)
{
  g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
  SimclrStudioWindow *self = g_object_new(SIMCLR_STUDIO_TYPE_WINDOW, "application", app,
                                          NULL);
  self->settings = g_object_ref(settings);
  self->epochs = g_settings_get_int(settings, SC_KEY_EPOCHS);

  runs_setting_cb(self);
  g_signal_connect_object(settings, "changed::" SC_KEY_RUNS, G_CALLBACK(runs_setting_cb),
                          self, G_CONNECT_SWAPPED);
  g_signal_connect_swapped(self->runs_dropdown, "notify::selected",
                           G_CALLBACK(runs_selected_cb), self);
  show_reference_default(self);
  g_signal_connect_swapped(self->reference_check, "toggled",
                           G_CALLBACK(reference_toggled_cb), self);
  g_signal_connect_object(settings, "changed::" SC_KEY_SHOW_REFERENCE,
                          G_CALLBACK(show_reference_default), self, G_CONNECT_SWAPPED);
  g_signal_connect_object(settings, "changed::" SC_KEY_BATCH_SIZE,
                          G_CALLBACK(show_contrastive_chance), self, G_CONNECT_SWAPPED);
  static const char *const batch_keys[] = { SC_KEY_BATCH_SIZE, SC_KEY_LABELED_PER_CLASS,
                                            SC_KEY_UNLABELED_CAP, SC_KEY_SUBSET, SC_KEY_SEED };
  for (size_t i = 0; i < G_N_ELEMENTS(batch_keys); i++) {
    g_autofree char *signal = g_strconcat("changed::", batch_keys[i], NULL);
    g_signal_connect_object(settings, signal, G_CALLBACK(check_batch_size), self,
                            G_CONNECT_SWAPPED);
  }
  show_contrastive_chance(self);
  g_signal_connect_object(settings, "changed::" SC_KEY_EPOCHS, G_CALLBACK(epochs_changed_cb),
                          self, G_CONNECT_SWAPPED);

  simclr_studio_params_panel_set_settings(self->params_panel, settings);
  simclr_studio_preview_panel_set_settings(self->preview_panel, settings);
  simclr_studio_data_panel_set_settings(self->data_panel, settings);
  rebuild_charts(self);
  refresh_resumable(self);
  log_line(self, "Press Train (Ctrl+Enter) to run the selected runs; each epoch adds a line "
                 "here and a point to the charts.");
  show_newest_results(self, TRUE);
  simclr_studio_window_actions_update(self);
  return self;
}
