/* Continue in the window: a training stopped after its first epoch goes on
 * in the same run folder, also after the window was closed and opened
 * again, and, stopped and continued once more, ends with the history of a
 * training never stopped; with no
 * stopped training Continue is off; a checkpoint whose data is gone says
 * so and leaves the folder as it was. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "simclr-studio-run-folders.h"
#include "simclr-studio-screenshot.h"
#include "simclr-studio-settings.h"
#include "simclr-studio-window-private.h"
#include "test-app-util.h"
#include "test-data-fixtures.h"
#include "test-util.h"

static gboolean
continue_enabled(SimclrStudioWindow *w)
{
  return g_action_group_get_action_enabled(G_ACTION_GROUP(w), "continue");
}

static void
stop_at_checkpoint_cb(SimclrStudioWindow *w, const ScTrainerEvent *e, gboolean *stopped)
{
  if (e->kind != SC_EVENT_CHECKPOINT || *stopped)
    return;
  *stopped = TRUE;
  g_action_group_activate_action(G_ACTION_GROUP(w), "stop", NULL);
}

/* Trains with the settings and stops once the first epoch is saved;
 * returns the run folder. */
static char *
train_and_stop(SimclrStudioWindow *w)
{
  gboolean stopped = FALSE;
  gulong id = g_signal_connect(w, "training-event", G_CALLBACK(stop_at_checkpoint_cb),
                               &stopped);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  g_assert_no_error(error);
  g_assert_false(continue_enabled(w));
  simclr_studio_runner_wait(w->runner);
  g_signal_handler_disconnect(w, id);
  g_assert_true(stopped);
  g_assert_cmpstr(gtk_progress_bar_get_text(w->progress_bar), ==, "Stopped");
  return g_strdup(w->checkpoint_dir);
}

/* The first report of the resumed run finds the restored epochs drawn. */
typedef struct {
  gboolean seen;
  guint baseline_points;
  guint baseline_history;
} FirstEvent;

static void
first_event_cb(SimclrStudioWindow *w, const ScTrainerEvent *e, FirstEvent *first)
{
  if (first->seen)
    return;
  first->seen = TRUE;
  first->baseline_points = sc_app_test_n_points(w->accuracy_chart, SC_RUN_BASELINE);
  first->baseline_history = w->history[SC_RUN_BASELINE]->len;
}

/* The metrics of an epoch; the timings differ from run to run. */
static const size_t metric_offsets[] = {
  G_STRUCT_OFFSET(ScEpochMetrics, loss),       G_STRUCT_OFFSET(ScEpochMetrics, acc),
  G_STRUCT_OFFSET(ScEpochMetrics, val_loss),   G_STRUCT_OFFSET(ScEpochMetrics, val_acc),
  G_STRUCT_OFFSET(ScEpochMetrics, c_loss),     G_STRUCT_OFFSET(ScEpochMetrics, c_acc),
  G_STRUCT_OFFSET(ScEpochMetrics, p_loss),     G_STRUCT_OFFSET(ScEpochMetrics, p_acc),
  G_STRUCT_OFFSET(ScEpochMetrics, val_p_loss), G_STRUCT_OFFSET(ScEpochMetrics, val_p_acc),
  G_STRUCT_OFFSET(ScEpochMetrics, knn_acc),
};

/* Every metric of two histories, bit for bit (NaN where a run has none). */
static void
assert_same_history(GArray *const a[SC_N_RUNS], GArray *const b[SC_N_RUNS])
{
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_assert_cmpuint(a[r]->len, ==, b[r]->len);
    for (guint i = 0; i < a[r]->len; i++) {
      const ScEpochMetrics *x = &g_array_index(a[r], ScEpochMetrics, i);
      const ScEpochMetrics *y = &g_array_index(b[r], ScEpochMetrics, i);
      g_assert_cmpint(x->epoch, ==, y->epoch);
      for (size_t k = 0; k < G_N_ELEMENTS(metric_offsets); k++) {
        double u = G_STRUCT_MEMBER(double, x, metric_offsets[k]);
        double v = G_STRUCT_MEMBER(double, y, metric_offsets[k]);
        if (memcmp(&u, &v, sizeof u) != 0)
          g_error("%s epoch %u, metric %zu: %.17g resumed, %.17g uninterrupted",
                  sc_run_name(r), i + 1, k, u, v);
      }
    }
  }
}

/* history.json's progress.RUN.complete. */
static gboolean
run_complete(const char *path, const char *run)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_file(parser, path, &error));
  g_assert_no_error(error);
  JsonObject *top = json_node_get_object(json_parser_get_root(parser));
  JsonObject *progress = json_object_get_object_member(top, "progress");
  g_assert_true(json_object_has_member(progress, run));
  return json_object_get_boolean_member(json_object_get_object_member(progress, run),
                                        "complete");
}

static void
test_continue_matches_uninterrupted(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 2);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_autofree char *dir = train_and_stop(w);

  /* The log says the app's way first, the command line's second. */
  g_autofree char *text = sc_app_test_log_text(w);
  g_test_message("%s", text);
  const char *app_way = strstr(text, "Continue (Ctrl+Shift+Enter or the button) goes on "
                                     "from epoch 2 of baseline.");
  const char *cli_way = strstr(text, "`simclr-train --resume ");
  g_assert_nonnull(app_way);
  g_assert_nonnull(cli_way);
  g_assert_true(app_way < cli_way);
  g_assert_true(continue_enabled(w));
  g_assert_cmpstr(simclr_studio_window_get_resumable_dir(w), ==, dir);
  g_assert_true(gtk_widget_get_visible(w->continue_button));
  sc_app_test_save_screenshot(GTK_WIDGET(w), "continue-after-stop");

  /* After a restart of the app, the stopped training is still offered. */
  w = sc_app_fixture_open_window(f);
  g_assert_true(continue_enabled(w));
  g_assert_cmpstr(simclr_studio_window_get_resumable_dir(w), ==, dir);
  g_assert_true(gtk_widget_get_visible(w->continue_button));
  sc_app_test_save_screenshot(GTK_WIDGET(w), "continue-offered");

  /* Settings changed meanwhile are kept, but the checkpoint's are used. */
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 7);
  FirstEvent first = { 0 };
  gboolean stopped = FALSE;
  gulong id = g_signal_connect(w, "training-event", G_CALLBACK(first_event_cb), &first);
  gulong stop_id = g_signal_connect(w, "training-event", G_CALLBACK(stop_at_checkpoint_cb),
                                    &stopped);
  g_action_group_activate_action(G_ACTION_GROUP(w), "continue", NULL);
  g_assert_true(simclr_studio_window_get_training(w));
  g_assert_false(continue_enabled(w));
  g_assert_true(simclr_studio_run_folder_is_locked(dir));
  simclr_studio_runner_wait(w->runner);
  g_signal_handler_disconnect(w, id);
  g_signal_handler_disconnect(w, stop_id);
  g_assert_true(first.seen);
  g_assert_cmpuint(first.baseline_history, ==, 1);
  g_assert_cmpuint(first.baseline_points, ==, 1);
  g_assert_cmpint(g_settings_get_int(f->settings, SC_KEY_EPOCHS), ==, 7);
  g_assert_cmpstr(w->checkpoint_dir, ==, dir);

  /* Stopped again once baseline's epoch 2 is saved: as after a new
   * training, the results so far are written and Continue is offered. */
  g_assert_true(stopped);
  g_assert_cmpstr(gtk_progress_bar_get_text(w->progress_bar), ==, "Stopped");
  g_free(text);
  text = sc_app_test_log_text(w);
  g_test_message("%s", text);
  g_assert_nonnull(strstr(text, "The checkpoint's configuration is used"));
  g_assert_nonnull(strstr(text, "Going on from epoch 2 of baseline."));
  g_assert_nonnull(strstr(text, "baseline   epoch  1/2"));
  g_assert_nonnull(strstr(text, "Continue (Ctrl+Shift+Enter or the button) goes on from "
                                "epoch 1 of pretrain."));
  g_autofree char *history = g_build_filename(dir, "history.json", NULL);
  g_assert_true(run_complete(history, "baseline"));
  g_assert_false(run_complete(history, "pretrain"));
  g_autofree char *encoder = g_build_filename(dir, "encoder.safetensors", NULL);
  g_assert_false(g_file_test(encoder, G_FILE_TEST_EXISTS));
  g_assert_true(continue_enabled(w));
  g_assert_cmpstr(simclr_studio_window_get_resumable_dir(w), ==, dir);

  /* And continued to the end. */
  g_action_group_activate_action(G_ACTION_GROUP(w), "continue", NULL);
  simclr_studio_runner_wait(w->runner);
  g_assert_true(g_str_has_prefix(gtk_progress_bar_get_text(w->progress_bar), "Done"));
  g_assert_cmpstr(w->checkpoint_dir, ==, dir);
  g_free(text);
  text = sc_app_test_log_text(w);
  g_test_message("%s", text);
  g_assert_nonnull(strstr(text, "Going on from epoch 1 of pretrain."));
  g_assert_nonnull(strstr(text, "baseline   epoch  2/2"));
  g_assert_nonnull(strstr(text, "finetune   epoch  2/2"));
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_assert_cmpuint(w->history[r]->len, ==, 2);
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 2);
  }
  g_assert_cmpfloat(gtk_progress_bar_get_fraction(w->progress_bar), ==, 1.0);

  /* Finished: the results are in the folder and nothing is offered. */
  const char *results[] = { "history.json", "history.csv", "accuracy.png",
                            "encoder.safetensors" };
  for (size_t i = 0; i < G_N_ELEMENTS(results); i++) {
    g_autofree char *path = g_build_filename(dir, results[i], NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
      g_error("%s was not written", path);
  }
  g_assert_false(continue_enabled(w));
  g_assert_null(simclr_studio_window_get_resumable_dir(w));
  g_assert_false(gtk_widget_get_visible(w->continue_button));

  GArray *resumed[SC_N_RUNS];
  for (int r = 0; r < SC_N_RUNS; r++)
    resumed[r] = g_array_copy(w->history[r]);

  /* The same settings, never stopped. */
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 2);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  simclr_studio_runner_wait(w->runner);
  g_assert_true(g_str_has_prefix(gtk_progress_bar_get_text(w->progress_bar), "Done"));
  g_assert_cmpstr(w->checkpoint_dir, !=, dir);
  assert_same_history(resumed, w->history);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_array_unref(resumed[r]);
}

/* A history.json of a run folder; complete says whether every run ended. */
static void
write_results(const char *root, const char *name, gboolean complete)
{
  g_autofree char *dir = g_build_filename(root, name, NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autofree char *json = g_strdup_printf(
    "{\"progress\": {\"baseline\": {\"epochs_done\": %d, \"epochs\": 2, \"complete\": %s}}}",
    complete ? 2 : 1, complete ? "true" : "false");
  g_autofree char *history = g_build_filename(dir, "history.json", NULL);
  g_assert_true(g_file_set_contents(history, json, -1, NULL));
  g_autofree char *ckpt = g_build_filename(dir, "checkpoint.safetensors", NULL);
  g_assert_true(g_file_set_contents(ckpt, "x", -1, NULL));
}

static void
test_disabled_without_stopped_run(ScAppFixture *f, gconstpointer data)
{
  /* No run folder at all. */
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_assert_false(continue_enabled(w));
  g_assert_null(simclr_studio_window_get_resumable_dir(w));
  g_assert_false(gtk_widget_get_visible(w->continue_button));
  g_autoptr(GError) error = NULL;
  g_assert_false(simclr_studio_window_continue_training(w, &error));
  g_assert_nonnull(error);
  g_assert_false(simclr_studio_window_get_training(w));
  g_clear_error(&error);

  /* A stopped run under a newer finished one: the newest is done. */
  write_results(f->runs_root, "20200101-000001", FALSE);
  write_results(f->runs_root, "20200101-000002", TRUE);
  w = sc_app_fixture_open_window(f);
  g_assert_false(continue_enabled(w));

  /* A newer stopped one is offered; one a training holds is not. */
  write_results(f->runs_root, "20200101-000003", FALSE);
  w = sc_app_fixture_open_window(f);
  g_assert_true(continue_enabled(w));
  g_autofree char *newest = g_build_filename(f->runs_root, "20200101-000003", NULL);
  g_assert_cmpstr(simclr_studio_window_get_resumable_dir(w), ==, newest);
  int fd = simclr_studio_run_folder_lock(newest, &error);
  g_assert_no_error(error);
  g_assert_cmpint(fd, >=, 0);
  g_autofree char *found = simclr_studio_run_folder_find_resumable(f->runs_root);
  g_assert_null(found); /* the newest free one, ...-02, is finished */
  /* Nor are its results shown at startup: they are still being written. */
  g_autofree char *results = simclr_studio_run_folder_find_newest_results(f->runs_root);
  g_autofree char *second = g_build_filename(f->runs_root, "20200101-000002", NULL);
  g_assert_cmpstr(results, ==, second);
  g_assert_cmpint(simclr_studio_run_folder_lock(newest, &error), ==, -1);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
  close(fd);
}

static void
link_default_data(const char *copy)
{
  g_assert_cmpint(g_mkdir(copy, 0755), ==, 0);
  g_autoptr(GDir) dir = g_dir_open(SC_DEFAULT_DATA_DIR, 0, NULL);
  g_assert_nonnull(dir);
  const char *name;
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *target = g_build_filename(SC_DEFAULT_DATA_DIR, name, NULL);
    g_autofree char *link = g_build_filename(copy, name, NULL);
    g_assert_cmpint(symlink(target, link), ==, 0);
  }
}

/* Continue after the data was removed, then replaced by other images:
 * each time the engine's message, the checkpoint untouched and still
 * offered; with the data back, the training goes on. */
static void
test_data_gone_or_changed(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  /* The default data through links that can go away. */
  g_autofree char *copy = g_build_filename(f->data_home, "fashion", NULL);
  link_default_data(copy);
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 2);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, copy);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_assert_nonnull(simclr_studio_data_panel_get_dataset(w->data_panel));
  g_autofree char *run = train_and_stop(w);
  g_autofree char *ckpt = g_build_filename(run, "checkpoint.safetensors", NULL);
  g_autofree char *before = NULL;
  gsize before_len = 0;
  g_assert_true(g_file_get_contents(ckpt, &before, &before_len, NULL));

  sc_test_rmtree(copy);
  g_action_group_activate_action(G_ACTION_GROUP(w), "continue", NULL);
  g_assert_true(simclr_studio_window_get_training(w));
  simclr_studio_runner_wait(w->runner);
  g_assert_cmpstr(gtk_progress_bar_get_text(w->progress_bar), ==, "Failed");
  g_autofree char *text = sc_app_test_log_text(w);
  g_test_message("%s", text);
  g_assert_nonnull(strstr(text, "Could not continue the training: "));
  g_assert_nonnull(strstr(text, "cannot be read now; put that data back there to resume"));
  g_assert_nonnull(strstr(text, copy));
  g_assert_nonnull(w->last_error_toast);
  g_assert_cmpstr(adw_toast_get_title(w->last_error_toast), ==,
                  "Could not continue the training");

  /* Nothing lost: the same checkpoint, still offered, the folder free. */
  g_autofree char *after = NULL;
  gsize after_len = 0;
  g_assert_true(g_file_get_contents(ckpt, &after, &after_len, NULL));
  g_assert_cmpmem(before, before_len, after, after_len);
  g_assert_true(continue_enabled(w));
  g_assert_cmpstr(simclr_studio_window_get_resumable_dir(w), ==, run);
  g_assert_false(simclr_studio_run_folder_is_locked(run));

  /* Other images of the same shape where the data was. */
  fx_idx_folder(copy, 1100, 1000, 28, 28, TRUE);
  g_action_group_activate_action(G_ACTION_GROUP(w), "continue", NULL);
  simclr_studio_runner_wait(w->runner);
  g_free(text);
  text = sc_app_test_log_text(w);
  g_test_message("%s", text);
  g_assert_cmpstr(gtk_progress_bar_get_text(w->progress_bar), ==, "Failed");
  g_assert_nonnull(strstr(text, "is not the data it was trained on"));
  g_assert_cmpstr(adw_toast_get_title(w->last_error_toast), ==,
                  "Could not continue the training");
  g_free(after);
  g_assert_true(g_file_get_contents(ckpt, &after, &after_len, NULL));
  g_assert_cmpmem(before, before_len, after, after_len);
  g_assert_cmpstr(simclr_studio_window_get_resumable_dir(w), ==, run);

  /* The data back: the training goes on from epoch 2 to its end. */
  sc_test_rmtree(copy);
  link_default_data(copy);
  g_action_group_activate_action(G_ACTION_GROUP(w), "continue", NULL);
  simclr_studio_runner_wait(w->runner);
  g_assert_true(g_str_has_prefix(gtk_progress_bar_get_text(w->progress_bar), "Done"));
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(w->history[r]->len, ==, 2);
  g_assert_null(simclr_studio_window_get_resumable_dir(w));
}

int
main(int argc, char *argv[])
{
  if (!sc_app_test_init(&argc, &argv))
    return 0;
  sc_app_fixture_add("/App/Resume/disabled-without-stopped-run", NULL,
                     test_disabled_without_stopped_run);
  sc_app_fixture_add("/App/Resume/continue-matches-uninterrupted", NULL,
                     test_continue_matches_uninterrupted);
  sc_app_fixture_add("/App/Resume/data-gone-or-changed", NULL, test_data_gone_or_changed);
  return g_test_run();
}
