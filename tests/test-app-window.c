/* The main window: it builds on the default data, reports a folder it cannot
 * open in words that name it, and a short real training on a tiny subset
 * fills the charts epoch by epoch and the progress bar to the end. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simclr-studio-run-folders.h"
#include "simclr-studio-screenshot.h"
#include "simclr-studio-settings.h"
#include "simclr-studio-window-private.h"
#include "test-app-util.h"
#include "test-data-fixtures.h"
#include "test-util.h"

/* A window on the default runs root writes under a test's data home, never
 * under the user's (GLib reads XDG_DATA_HOME once per process). */
static void
fixture_set_up(ScAppFixture *f, gconstpointer data)
{
  sc_app_fixture_set_up(f, data);
  g_setenv("XDG_DATA_HOME", f->data_home, TRUE);
}

static void
add_test(const char *path, gconstpointer data,
         void (*test)(ScAppFixture *f, gconstpointer data))
{
  g_test_add(path, ScAppFixture, data, fixture_set_up, test, sc_app_fixture_tear_down);
}

static void
test_builds(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data("(package dataset-fashion-mnist)"))
    return;
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  const ScDataset *d = simclr_studio_data_panel_get_dataset(w->data_panel);
  g_assert_nonnull(d);
  g_assert_null(simclr_studio_data_panel_get_error(w->data_panel));
  g_assert_cmpint(d->n_classes, ==, 10);
  g_assert_cmpstr(d->class_names[0], ==, "T-shirt/top");

  /* The preview shows the data's images; the charts are empty but framed. */
  SimclrStudioPreview *preview = simclr_studio_preview_panel_get_preview(w->preview_panel);
  cairo_surface_t *figure = simclr_studio_preview_get_figure(preview);
  g_assert_nonnull(figure);
  g_assert_cmpint(cairo_image_surface_get_width(figure), >, 8 * 32);
  /* 3 runs; the STL-10 example's lines only on STL-10 by default. */
  g_assert_cmpuint(sc_chart_get_n_series(simclr_studio_chart_view_get_chart(
                     w->accuracy_chart)), ==, 3);
  g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, 0), ==, 0);
  /* With no curves yet, Export says so instead of saving an empty chart. */
  g_action_group_activate_action(G_ACTION_GROUP(w), "export", NULL);
  g_assert_null(w->export_chooser);

  /* One image of each class in turn: classes 0..7 at the start. */
  const int32_t *labels = sc_split_labels(d->train);
  const int32_t *shown = simclr_studio_preview_panel_get_indices(w->preview_panel);
  for (int k = 0; k < SC_PREVIEW_COLUMNS; k++)
    g_assert_cmpint(labels[shown[k]], ==, k);

  /* Shuffle draws other images, still of consecutive classes. */
  cairo_surface_t *before = cairo_surface_reference(figure);
  g_action_group_activate_action(G_ACTION_GROUP(w), "shuffle", NULL);
  cairo_surface_t *after = simclr_studio_preview_get_figure(preview);
  g_assert_true(after != before);
  g_assert_cmpuint(sc_app_test_count_differing(before, after, 0), >, 1000);
  cairo_surface_destroy(before);
  for (int k = 1; k < SC_PREVIEW_COLUMNS; k++)
    g_assert_cmpint(labels[shown[k]], ==, (labels[shown[0]] + k) % d->n_classes);

  /* The reference lines come and go with their check box. */
  gtk_check_button_set_active(w->reference_check, TRUE);
  g_assert_cmpuint(sc_chart_get_n_series(simclr_studio_chart_view_get_chart(
                     w->accuracy_chart)), ==, 6);
  gtk_check_button_set_active(w->reference_check, FALSE);
  g_assert_cmpuint(sc_chart_get_n_series(simclr_studio_chart_view_get_chart(
                     w->accuracy_chart)), ==, 3);
}

/* Three classes of four images for eight columns: each class comes round
 * up to three times, a different image each time, at the start and after
 * every shuffle. */
static void
test_preview_few_classes(ScAppFixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename(f->data_home, "shapes", NULL);
  static const guint8 colours[3][3] = { { 230, 20, 20 }, { 20, 200, 40 }, { 30, 40, 220 } };
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 4; i++) {
      g_autofree char *path = g_strdup_printf("%s/class%d/%d.png", dir, c, i);
      fx_write_image(path, 8, 8, colours[c], FALSE);
    }
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, dir);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  const ScDataset *d = simclr_studio_data_panel_get_dataset(w->data_panel);
  g_assert_nonnull(d);
  const int32_t *labels = sc_split_labels(d->train);
  const int32_t *shown = simclr_studio_preview_panel_get_indices(w->preview_panel);
  for (int round = 0; round < 10; round++) {
    for (int k = 0; k < SC_PREVIEW_COLUMNS; k++) {
      if (k > 0)
        g_assert_cmpint(labels[shown[k]], ==, (labels[shown[k - 1]] + 1) % d->n_classes);
      for (int j = 0; j < k; j++)
        g_assert_cmpint(shown[j], !=, shown[k]);
    }
    if (round == 0)
      g_assert_cmpint(labels[shown[0]], ==, 0);
    g_action_group_activate_action(G_ACTION_GROUP(w), "shuffle", NULL);
  }
}

static void
test_bad_folder(ScAppFixture *f, gconstpointer data)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *junk = g_build_filename(dir, "notes.txt", NULL);
  g_assert_true(g_file_set_contents(junk, "not images", -1, NULL));
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, dir);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_assert_null(simclr_studio_data_panel_get_dataset(w->data_panel));
  const char *error = simclr_studio_data_panel_get_error(w->data_panel);
  g_assert_nonnull(error);
  g_test_message("shown: %s", error);
  g_assert_nonnull(strstr(error, dir));
  /* With no data set, Train is off and says why; the preview says it too. */
  g_assert_false(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "start"));
  const char *tip = gtk_widget_get_tooltip_text(w->start_button);
  g_assert_nonnull(strstr(tip, "No data set open"));
  const char *placeholder = simclr_studio_preview_panel_get_placeholder(w->preview_panel);
  g_assert_nonnull(placeholder);
  g_assert_true(g_str_has_prefix(placeholder, "No data set open"));
  g_assert_false(gtk_widget_get_visible(
    GTK_WIDGET(simclr_studio_preview_panel_get_preview(w->preview_panel))));

  /* Starting a training there anyway fails in the worker and says why. */
  g_autoptr(GError) start_error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &start_error));
  simclr_studio_runner_wait(w->runner);
  g_assert_false(simclr_studio_window_get_training(w));
  g_assert_cmpstr(gtk_progress_bar_get_text(w->progress_bar), ==, "Failed");
  g_assert_false(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "start"));

  /* No checkpoint was written: the log names no checkpoint folder, and
   * keeps the whole message. */
  GtkTextBuffer *log = gtk_text_view_get_buffer(w->log_view);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(log, &start, &end);
  g_autofree char *text = gtk_text_buffer_get_text(log, &start, &end, FALSE);
  g_test_message("log: %s", text);
  g_assert_null(simclr_studio_window_get_checkpoint_path(w));
  g_assert_null(strstr(text, "heckpoint"));
  g_assert_nonnull(strstr(text, "Training failed: "));
  g_assert_nonnull(strstr(text, dir));

  /* The toast is short; its button shows the whole message. */
  AdwToast *toast = w->last_error_toast;
  g_assert_nonnull(toast);
  g_assert_cmpstr(adw_toast_get_title(toast), ==, "Training failed");
  g_assert_nonnull(adw_toast_get_button_label(toast));
  g_signal_emit_by_name(toast, "button-clicked");
  g_assert_nonnull(w->error_dialog);
  const char *body = adw_message_dialog_get_body(ADW_MESSAGE_DIALOG(w->error_dialog));
  g_assert_nonnull(strstr(body, dir));
  g_assert_nonnull(strstr(text, body));

  /* The run folder made for it is gone again: it would hold nothing. */
  g_autoptr(GDir) listing = g_dir_open(f->runs_root, 0, NULL);
  g_assert_null(listing != NULL ? g_dir_read_name(listing) : NULL);
  sc_test_rmtree(dir);
}

typedef struct {
  SimclrStudioWindow *window;
  guint last_points[SC_N_RUNS];
  guint n_epoch_events;
  double last_fraction;
  gboolean fraction_went_back;
} Watch;

static void
event_cb(SimclrStudioWindow *w, const ScTrainerEvent *e, Watch *watch)
{
  double fraction = gtk_progress_bar_get_fraction(w->progress_bar);
  if (fraction + 1e-9 < watch->last_fraction)
    watch->fraction_went_back = TRUE;
  watch->last_fraction = fraction;
  if (e->kind != SC_EVENT_EPOCH_DONE)
    return;
  /* One more point on both charts, for this run only. */
  watch->n_epoch_events++;
  g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, e->run), ==,
                   watch->last_points[e->run] + 1);
  g_assert_cmpuint(sc_app_test_n_points(w->loss_chart, e->run), ==,
                   watch->last_points[e->run] + 1);
  watch->last_points[e->run]++;
}

static void
test_short_training(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data("(package dataset-fashion-mnist)"))
    return;
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 2);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 0);

  Watch watch = { .window = w };
  g_signal_connect(w, "training-event", G_CALLBACK(event_cb), &watch);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat(gtk_progress_bar_get_fraction(w->progress_bar), ==, 0.0);
  /* Train shows the curves. */
  g_assert_cmpstr(gtk_stack_get_visible_child_name(w->view_stack), ==, "training");
  g_assert_false(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "start"));
  g_assert_true(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "stop"));
  simclr_studio_runner_wait(w->runner);

  /* 0 -> N points for each run, the bar at its end, a line per epoch. */
  g_assert_cmpuint(watch.n_epoch_events, ==, 3 * 2);
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 2);
    g_assert_cmpuint(sc_app_test_n_points(w->loss_chart, r), ==, 2);
  }
  g_assert_false(watch.fraction_went_back);
  g_assert_cmpfloat(gtk_progress_bar_get_fraction(w->progress_bar), ==, 1.0);
  g_assert_true(g_str_has_prefix(gtk_progress_bar_get_text(w->progress_bar), "Done"));
  g_assert_true(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "start"));
  g_test_message("longest main-loop stall: %.1f ms", simclr_studio_window_get_max_stall_ms(w));

  GtkTextBuffer *log = gtk_text_view_get_buffer(w->log_view);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(log, &start, &end);
  g_autofree char *text = gtk_text_buffer_get_text(log, &start, &end, FALSE);
  g_assert_nonnull(strstr(text, "baseline   epoch  2/2"));
  g_assert_nonnull(strstr(text, "val_p_acc"));
  g_assert_nonnull(strstr(text, "finetune   epoch  2/2"));

  /* The history as CSV: a header and one row per run and epoch. */
  g_autofree char *csv = g_build_filename(f->data_home, "history.csv", NULL);
  g_assert_true(simclr_studio_runner_write_history_csv(w->runner, csv, &error));
  g_assert_no_error(error);
  g_autofree char *contents = NULL;
  g_assert_true(g_file_get_contents(csv, &contents, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(g_strchomp(contents), "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 1 + 3 * 2);
}

/* On a 1024x700 screen the window fits, the preview is drawn at 1.5 times
 * its pixels or more, and the training page gives the charts and the log
 * room of their own. */
static void
test_fits_small_screen(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data("(package dataset-fashion-mnist)"))
    return;
  SimclrStudioWindow *w = sc_app_fixture_new_window(f);
  gtk_window_set_default_size(GTK_WINDOW(w), 1024, 700);
  sc_app_test_show(GTK_WINDOW(w));
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  sc_app_test_wait_frame(GTK_WIDGET(w));
  g_assert_cmpint(gtk_widget_get_width(GTK_WIDGET(w)), <=, 1024);
  g_assert_cmpint(gtk_widget_get_height(GTK_WIDGET(w)), <=, 700);

  SimclrStudioPreview *preview = simclr_studio_preview_panel_get_preview(w->preview_panel);
  cairo_surface_t *figure = simclr_studio_preview_get_figure(preview);
  g_assert_nonnull(figure);
  g_assert_cmpstr(gtk_stack_get_visible_child_name(w->view_stack), ==, "preview");
  g_assert_cmpint(gtk_widget_get_height(GTK_WIDGET(preview)), >=,
                  3 * cairo_image_surface_get_height(figure) / 2);

  gtk_stack_set_visible_child_name(w->view_stack, "training");
  sc_app_test_wait_frame(GTK_WIDGET(w));
  g_assert_cmpint(gtk_widget_get_height(GTK_WIDGET(w->accuracy_chart)), >=, 240);
  g_assert_cmpint(gtk_widget_get_height(GTK_WIDGET(w->log_scroller)), >=, 100);
  /* The statuses are shown whole. */
  const char *statuses[] = { "Epoch 100 saved", "Checkpoint kept" };
  for (size_t i = 0; i < G_N_ELEMENTS(statuses); i++) {
    gtk_label_set_text(w->status_label, statuses[i]);
    sc_app_test_wait_frame(GTK_WIDGET(w));
    g_assert_false(pango_layout_is_ellipsized(gtk_label_get_layout(w->status_label)));
  }
}

/* Run r's accuracy at epoch e of 10: the runs reach all four corners of the
 * plot, so no corner is free for the legend. */
static double
corner_curve(int r, guint e)
{
  if (r == 0)
    return (e - 1) / 9.0;
  if (r == 1)
    return 1.0 - (e - 1) / 9.0;
  return e == 1 ? 0.0 : e == 2 ? 0.6 : 1.0;
}

/* At a small and a common screen size, the accuracy chart with the
 * example's reference lines shows every measured point: the legend finds
 * room where it hides none. */
static void
test_legend_leaves_points(ScAppFixture *f, gconstpointer data)
{
  const int *size = data;
  if (!sc_app_test_have_default_data("(package dataset-fashion-mnist)"))
    return;
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 10);
  g_settings_set_boolean(f->settings, SC_KEY_SHOW_REFERENCE, TRUE);
  SimclrStudioWindow *w = sc_app_fixture_new_window(f);
  gtk_window_set_default_size(GTK_WINDOW(w), size[0], size[1]);
  sc_app_test_show(GTK_WINDOW(w));
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  gtk_stack_set_visible_child_name(w->view_stack, "training");

  ScChart *acc = simclr_studio_chart_view_get_chart(w->accuracy_chart);
  ScChart *loss = simclr_studio_chart_view_get_chart(w->loss_chart);
  g_assert_cmpuint(sc_chart_get_n_series(acc), ==, 2 * SC_N_RUNS);
  for (int r = 0; r < SC_N_RUNS; r++) {
    for (guint e = 1; e <= 10; e++) {
      sc_chart_append(acc, r, e, corner_curve(r, e));
      sc_chart_append(loss, r, e, 2.0 * (1.0 - corner_curve(r, e)));
    }
  }
  simclr_studio_chart_view_changed(w->accuracy_chart);
  simclr_studio_chart_view_changed(w->loss_chart);
  sc_app_test_wait_frame(GTK_WIDGET(w));
  g_autofree char *name = g_strdup_printf("legend-%dx%d", size[0], size[1]);
  sc_app_test_save_screenshot(GTK_WIDGET(w), name);

  GtkWidget *view = GTK_WIDGET(w->accuracy_chart);
  int width = gtk_widget_get_width(view), height = gtk_widget_get_height(view);
  g_test_message("accuracy chart at %dx%d: %dx%d", size[0], size[1], width, height);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = simclr_studio_render_widget(view, &error);
  g_assert_no_error(error);
  cairo_surface_t *pixels = sc_app_test_texture_surface(texture);
  for (int r = 0; r < SC_N_RUNS; r++) {
    for (guint e = 1; e <= 10; e++) {
      double px, py;
      sc_chart_map(acc, width, height, e, corner_curve(r, e), &px, &py);
      guint32 found = sc_app_test_pixel(pixels, (int)floor(px), (int)floor(py));
      /* The point shows a measured run's colour (runs may cross). */
      gboolean measured = FALSE;
      for (int c = 0; c < SC_N_RUNS; c++) {
        double red, green, blue;
        sc_chart_palette(c, &red, &green, &blue);
        int dr = (int)((found >> 16) & 0xff) - (int)lround(red * 255);
        int dg = (int)((found >> 8) & 0xff) - (int)lround(green * 255);
        int db = (int)(found & 0xff) - (int)lround(blue * 255);
        measured = measured || (abs(dr) <= 20 && abs(dg) <= 20 && abs(db) <= 20);
      }
      if (!measured)
        g_error("run %d epoch %u at (%.1f, %.1f) of the %dx%d chart is covered: %06x", r, e,
                px, py, width, height, found);
    }
  }
  cairo_surface_destroy(pixels);
}

static void
test_stop(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data("(package dataset-fashion-mnist)"))
    return;
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 50);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  /* No other window or process may clear the run folder while it trains. */
  g_assert_true(simclr_studio_run_folder_is_locked(w->checkpoint_dir));
  g_action_group_activate_action(G_ACTION_GROUP(w), "pause", NULL);
  g_assert_true(simclr_studio_runner_get_paused(w->runner));
  g_action_group_activate_action(G_ACTION_GROUP(w), "stop", NULL);
  gint64 t0 = g_get_monotonic_time();
  simclr_studio_runner_wait(w->runner);
  /* Paused, then stopped: the worker wakes and ends within a step. */
  g_assert_cmpfloat((g_get_monotonic_time() - t0) / 1e6, <, 30.0);
  g_assert_cmpstr(gtk_progress_bar_get_text(w->progress_bar), ==, "Stopped");
  g_assert_false(simclr_studio_run_folder_is_locked(w->checkpoint_dir));
  g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, SC_RUN_BASELINE), <, 50);
  g_assert_false(simclr_studio_runner_get_paused(w->runner));
}

static void
stop_at_checkpoint_cb(SimclrStudioWindow *w, const ScTrainerEvent *e, gboolean *stopped)
{
  if (e->kind != SC_EVENT_CHECKPOINT || *stopped)
    return;
  *stopped = TRUE;
  g_action_group_activate_action(G_ACTION_GROUP(w), "stop", NULL);
}

/* A stop after a checkpoint: the log names the run folder, which holds the
 * checkpoint, and the command that continues it. */
static void
test_stop_names_checkpoint(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data("(package dataset-fashion-mnist)"))
    return;
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 50);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  gboolean stopped = FALSE;
  g_signal_connect(w, "training-event", G_CALLBACK(stop_at_checkpoint_cb), &stopped);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  simclr_studio_runner_wait(w->runner);
  g_assert_true(stopped);
  g_assert_cmpstr(gtk_progress_bar_get_text(w->progress_bar), ==, "Stopped");

  GtkTextBuffer *log = gtk_text_view_get_buffer(w->log_view);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(log, &start, &end);
  g_autofree char *text = gtk_text_buffer_get_text(log, &start, &end, FALSE);
  const char *cmd = strstr(text, "`simclr-train --resume ");
  g_assert_nonnull(cmd);
  cmd += strlen("`simclr-train --resume ");
  g_autofree char *dir = g_strndup(cmd, strcspn(cmd, "`"));
  g_assert_true(g_str_has_prefix(dir, f->runs_root));
  g_autofree char *ckpt = g_build_filename(dir, "checkpoint.safetensors", NULL);
  g_assert_true(g_file_test(ckpt, G_FILE_TEST_IS_REGULAR));
  g_autofree char *named = g_strdup_printf("The last checkpoint is in %s;", dir);
  g_assert_nonnull(strstr(text, named));
}

int
main(int argc, char *argv[])
{
  if (!sc_app_test_init(&argc, &argv))
    return 0;
  add_test("/App/Window/builds", NULL, test_builds);
  add_test("/App/Window/fits-small-screen", NULL, test_fits_small_screen);
  add_test("/App/Window/stop-names-checkpoint", NULL, test_stop_names_checkpoint);
  add_test("/App/Window/bad-folder", NULL, test_bad_folder);
  add_test("/App/Window/preview-few-classes", NULL, test_preview_few_classes);
  add_test("/App/Window/short-training", NULL, test_short_training);
  add_test("/App/Window/pause-and-stop", NULL, test_stop);
  static const int small_screen[2] = { 1024, 700 }, laptop_screen[2] = { 1366, 768 };
  add_test("/App/Window/legend-leaves-points/1024x700", small_screen, test_legend_leaves_points);
  add_test("/App/Window/legend-leaves-points/1366x768", laptop_screen, test_legend_leaves_points);
  return g_test_run();
}
