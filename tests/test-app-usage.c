/* What a new user met in the window: a value typed but not confirmed is the
 * one trained with, settings hold without a D-Bus session, quitting during
 * a training asks first, each training leaves simclr-train's result files,
 * the chart and page follow the data set, Reset covers the augmentations,
 * the app opens a folder given on its command line (a data set or results),
 * and the curves of the last training are there again after a restart. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "simclr-studio-application.h"
#include "simclr-studio-run-folders.h"
#include "simclr-studio-screenshot.h"
#include "simclr-studio-settings.h"
#include "simclr-studio-window-private.h"
#include "test-app-util.h"
#include "test-data-fixtures.h"
#include "test-util.h"
#include "trainer-private.h"

/* U+2009, the thin space between digit groups of the data panel's counts. */
#define THIN "\xe2\x80\x89"

static guint
n_series(SimclrStudioChartView *view)
{
  return sc_chart_get_n_series(simclr_studio_chart_view_get_chart(view));
}

/* The spin button of the row titled title, under root. */
static GtkSpinButton *
find_spin(GtkWidget *root, const char *title)
{
  if (ADW_IS_ACTION_ROW(root)
      && g_strcmp0(adw_preferences_row_get_title(ADW_PREFERENCES_ROW(root)), title) == 0) {
    GtkWidget *w = adw_action_row_get_activatable_widget(ADW_ACTION_ROW(root));
    return GTK_IS_SPIN_BUTTON(w) ? GTK_SPIN_BUTTON(w) : NULL;
  }
  for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
       c = gtk_widget_get_next_sibling(c)) {
    GtkSpinButton *found = find_spin(c, title);
    if (found != NULL)
      return found;
  }
  return NULL;
}

static gboolean
is_destroyed(gpointer data)
{
  return *(gpointer *)data == NULL;
}

static gboolean
saw_checkpoint(gpointer data)
{
  return simclr_studio_window_get_checkpoint_path(data) != NULL;
}

/* ---- Typed values ---- */

/* "3" typed into Epochs per run, no Enter, then Ctrl+Enter: 3 epochs. */
static void
test_typed_value_trains(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  simclr_studio_settings_apply_quick(f->settings);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  GtkSpinButton *epochs = find_spin(GTK_WIDGET(w), "Epochs per run");
  g_assert_nonnull(epochs);
  gtk_widget_grab_focus(GTK_WIDGET(epochs));
  gtk_editable_set_text(GTK_EDITABLE(epochs), "3");
  g_assert_cmpint(g_settings_get_int(f->settings, SC_KEY_EPOCHS), ==, 5);

  /* Ctrl+Enter is the window's start action. */
  g_action_group_activate_action(G_ACTION_GROUP(w), "start", NULL);
  g_assert_true(simclr_studio_window_get_training(w));
  g_assert_cmpint(g_settings_get_int(f->settings, SC_KEY_EPOCHS), ==, 3);
  g_assert_cmpint(w->epochs, ==, 3);
  g_action_group_activate_action(G_ACTION_GROUP(w), "stop", NULL);
  simclr_studio_runner_wait(w->runner);
}

/* ---- Settings without a session bus ---- */

/* In a process of its own, before anything has asked for the default
 * settings backend: as under a plain xvfb-run, dconf and no session bus. */
static int
settings_without_bus_child(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = simclr_studio_settings_new(FALSE, &error);
  if (settings == NULL) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  g_settings_set_int(settings, SC_KEY_EPOCHS, 7);
  g_settings_set_double(settings, SC_KEY_STRONG_MIN_AREA, 0.5);
  /* A failed write springs back once its commit has failed. */
  gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
  while (g_get_monotonic_time() < until)
    g_main_context_iteration(NULL, FALSE);
  int epochs = g_settings_get_int(settings, SC_KEY_EPOCHS);
  double area = g_settings_get_double(settings, SC_KEY_STRONG_MIN_AREA);
  g_print("epochs %d, strong min area %.2f\n", epochs, area);
  return epochs == 7 && area == 0.5 ? 0 : 1;
}

static void
test_settings_without_bus(void)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_unsetenv(launcher, "GSETTINGS_BACKEND");
  g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", "disabled:", TRUE);
  g_subprocess_launcher_setenv(launcher, "SC_TEST_SETTINGS_CHILD", "1", TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *self = g_file_read_link("/proc/self/exe", &error);
  g_assert_no_error(error);
  g_autoptr(GSubprocess) child = g_subprocess_launcher_spawn(launcher, &error, self, NULL);
  g_assert_no_error(error);
  g_autofree char *out = NULL;
  g_assert_true(g_subprocess_communicate_utf8(child, NULL, NULL, &out, NULL, &error));
  g_assert_no_error(error);
  g_test_message("%s", out);
  g_assert_cmpint(g_subprocess_get_exit_status(child), ==, 0);
  g_assert_nonnull(strstr(out, "epochs 7, strong min area 0.50"));
  g_assert_null(strstr(out, "failed to commit"));
  /* Said once. */
  const char *said = strstr(out, "will not be kept");
  g_assert_nonnull(said);
  g_assert_null(strstr(said + 1, "will not be kept"));
}

/* ---- Quitting during a training ---- */

/* As a click on a response's button: the response, then the dialog goes. */
static void
answer(GtkWindow *dialog, const char *response)
{
  adw_message_dialog_response(ADW_MESSAGE_DIALOG(dialog), response);
  gtk_window_destroy(dialog);
}

static void
test_quit_asks(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 50);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  g_assert_true(sc_app_test_wait(saw_checkpoint, w, 120));

  /* Closing asks, naming the folder whose checkpoint is kept; Cancel goes
   * on training. */
  gtk_window_close(GTK_WINDOW(w));
  GtkWindow *dialog = simclr_studio_window_get_quit_dialog(w);
  g_assert_nonnull(dialog);
  g_object_add_weak_pointer(G_OBJECT(dialog), (gpointer *)&dialog);
  AdwMessageDialog *message = ADW_MESSAGE_DIALOG(dialog);
  g_assert_cmpstr(adw_message_dialog_get_heading(message), ==, "Stop the training and quit?");
  g_assert_nonnull(strstr(adw_message_dialog_get_body(message), w->checkpoint_dir));
  g_assert_true(adw_message_dialog_has_response(message, "cancel"));
  g_assert_true(adw_message_dialog_has_response(message, "quit"));
  sc_app_test_wait_frame(GTK_WIDGET(dialog));
  sc_app_test_save_screenshot(GTK_WIDGET(dialog), "quit-dialog");
  answer(dialog, "cancel");
  g_assert_null(dialog);
  g_assert_true(simclr_studio_window_get_training(w));
  g_assert_true(gtk_widget_get_visible(GTK_WIDGET(w)));

  /* Quit: the training stops and the window goes, its checkpoint kept. */
  g_autofree char *dir = g_strdup(w->checkpoint_dir);
  gtk_window_close(GTK_WINDOW(w));
  dialog = simclr_studio_window_get_quit_dialog(w);
  g_assert_nonnull(dialog);
  answer(dialog, "quit");
  g_assert_true(sc_app_test_wait(is_destroyed, &f->window, 60));
  g_autofree char *ckpt = g_build_filename(dir, "checkpoint.safetensors", NULL);
  g_assert_true(g_file_test(ckpt, G_FILE_TEST_IS_REGULAR));
}

/* The training ends while the question is open: Quit still closes. */
static void
test_quit_after_training_ended(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 1);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  gtk_window_close(GTK_WINDOW(w));
  GtkWindow *dialog = simclr_studio_window_get_quit_dialog(w);
  g_assert_nonnull(dialog);
  simclr_studio_runner_wait(w->runner);
  g_assert_nonnull(f->window);
  answer(dialog, "quit");
  g_assert_true(sc_app_test_wait(is_destroyed, &f->window, 10));
}

static void
test_idle_close_does_not_ask(ScAppFixture *f, gconstpointer data)
{
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  gtk_window_close(GTK_WINDOW(w));
  g_assert_true(sc_app_test_wait(is_destroyed, &f->window, 10));
}

/* ---- Results, and a change of data set ---- */

static const char *const result_files[] = {
  "checkpoint.safetensors", "history.csv", "history.json", "accuracy.png", "accuracy.svg",
  "loss.png", "loss.svg", "encoder.safetensors",
};

static void
test_results_and_data_change(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 1);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  simclr_studio_runner_wait(w->runner);
  g_assert_true(g_str_has_prefix(gtk_progress_bar_get_text(w->progress_bar), "Done"));

  /* The run folder holds what simclr-train writes into --out. */
  for (size_t i = 0; i < G_N_ELEMENTS(result_files); i++) {
    g_autofree char *path = g_build_filename(w->checkpoint_dir, result_files[i], NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
      g_error("%s was not written", path);
  }
  g_autofree char *text = sc_app_test_log_text(w);
  g_test_message("%s", text);
  g_assert_nonnull(strstr(text, w->checkpoint_dir));
  /* The developer's measure is not the user's. */
  g_assert_null(strstr(text, "stall"));
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 1);
  sc_app_test_wait_frame(GTK_WIDGET(w));
  sc_app_test_save_screenshot(GTK_WIDGET(w), "results-trained");

  /* Another data set: the page no longer shows the old data's curves. */
  g_autofree char *stl = g_build_filename(f->data_home, "stl10_binary", NULL);
  fx_stl10_folder(stl, 20, 10, 0);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, stl);
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_assert_nonnull(simclr_studio_data_panel_get_dataset(w->data_panel));
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 0);
    g_assert_cmpuint(sc_app_test_n_points(w->loss_chart, r), ==, 0);
  }
  g_assert_null(strstr(gtk_progress_bar_get_text(w->progress_bar), "Done"));
  g_assert_cmpstr(gtk_label_get_text(w->status_label), ==, "");
  sc_app_test_wait_frame(GTK_WIDGET(w));
  sc_app_test_save_screenshot(GTK_WIDGET(w), "results-data-changed");
}

/* history.json of a training: every run complete, or not. */
static void
put_history(const char *dir, gboolean complete)
{
  g_autofree char *json = g_strdup_printf(
    "{\"progress\": {\"baseline\": {\"epochs_done\": %d, \"epochs\": 2, \"complete\": %s}}}",
    complete ? 2 : 1, complete ? "true" : "false");
  fx_write_text(dir, "history.json", json);
  fx_write_text(dir, "checkpoint.safetensors", "x");
}

/* Finished trainings' results are never pruned; stopped ones are, beyond
 * the newest few. */
static void
test_prune_keeps_results(void)
{
  g_autofree char *root = sc_test_mkdtemp();
  const char *finished[] = { "20200101-000000", "20200101-000002", "20200101-000004" };
  const char *stopped[] = { "20200101-000001", "20200101-000003", "20200101-000005",
                            "20200101-000006" };
  for (size_t i = 0; i < G_N_ELEMENTS(finished); i++) {
    g_autofree char *dir = g_build_filename(root, finished[i], NULL);
    put_history(dir, TRUE);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(stopped); i++) {
    g_autofree char *dir = g_build_filename(root, stopped[i], NULL);
    put_history(dir, FALSE);
  }
  g_autoptr(GError) error = NULL;
  g_autofree char *made = simclr_studio_run_folder_new(root, 3, NULL, &error);
  g_assert_no_error(error);
  for (size_t i = 0; i < G_N_ELEMENTS(finished); i++) {
    g_autofree char *dir = g_build_filename(root, finished[i], NULL);
    g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
  }
  /* Keep 3 with the new one: the two newest stopped runs stay. */
  for (size_t i = 0; i < G_N_ELEMENTS(stopped); i++) {
    g_autofree char *dir = g_build_filename(root, stopped[i], NULL);
    g_assert_cmpint(g_file_test(dir, G_FILE_TEST_IS_DIR), ==, i >= 2);
  }
  g_assert_true(g_file_test(made, G_FILE_TEST_IS_DIR));
  sc_test_rmtree(root);
}

/* ---- Reference lines ---- */

static void
test_reference_follows_data(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  /* Fashion-MNIST: no STL-10 lines by default. */
  g_assert_false(gtk_check_button_get_active(w->reference_check));
  g_assert_cmpuint(n_series(w->accuracy_chart), ==, SC_N_RUNS);

  /* STL-10: shown. */
  g_autofree char *stl = g_build_filename(f->data_home, "stl10_binary", NULL);
  fx_stl10_folder(stl, 20, 10, 0);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, stl);
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_assert_true(gtk_check_button_get_active(w->reference_check));
  g_assert_cmpuint(n_series(w->accuracy_chart), ==, 2 * SC_N_RUNS);

  /* The user's choice holds on any data set. */
  gtk_check_button_set_active(w->reference_check, FALSE);
  g_assert_cmpuint(n_series(w->accuracy_chart), ==, SC_N_RUNS);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, "");
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, stl);
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_assert_false(gtk_check_button_get_active(w->reference_check));
  gtk_check_button_set_active(w->reference_check, TRUE);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, "");
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_assert_true(gtk_check_button_get_active(w->reference_check));
  g_assert_cmpuint(n_series(w->accuracy_chart), ==, 2 * SC_N_RUNS);
}

/* ---- Reset ---- */

static void
test_reset_restores_augmentations(ScAppFixture *f, gconstpointer data)
{
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_settings_set_double(f->settings, SC_KEY_STRONG_MIN_AREA, 0.83);
  g_settings_set_double(f->settings, SC_KEY_WEAK_JITTER, 0.5);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 3);
  simclr_studio_params_panel_reset(w->params_panel);
  g_assert_cmpfloat(g_settings_get_double(f->settings, SC_KEY_STRONG_MIN_AREA), ==, 0.25);
  g_assert_cmpfloat(g_settings_get_double(f->settings, SC_KEY_WEAK_JITTER), ==, 0.1);
  g_assert_cmpint(g_settings_get_int(f->settings, SC_KEY_EPOCHS), ==, 20);
}

/* ---- Texts that follow the settings ---- */

static void
test_texts_follow_settings(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  /* The glossary's chance level is the batch size's. */
  const char *glossary = gtk_label_get_text(w->contrastive_label);
  g_assert_nonnull(strstr(glossary, "(525 images), guessing gets 0.19%"));
  g_settings_set_int(f->settings, SC_KEY_BATCH_SIZE, 100);
  glossary = gtk_label_get_text(w->contrastive_label);
  g_assert_nonnull(strstr(glossary, "(100 images), guessing gets 1%"));

  /* The Images row gives what a Quick run uses. */
  const char *images = simclr_studio_data_panel_get_images_text(w->data_panel);
  g_test_message("%s", images);
  g_assert_true(g_str_has_prefix(images, "60" THIN "000 train · 10" THIN "000 test"));
  g_settings_set_int(f->settings, SC_KEY_SUBSET, 1000);
  images = simclr_studio_data_panel_get_images_text(w->data_panel);
  g_test_message("%s", images);
  g_assert_true(g_str_has_prefix(images, "1" THIN "000 of 60" THIN "000 train · 1" THIN
                                         "000 of 10" THIN "000 test"));
}

/* ---- The batch size before Train ---- */

static GtkButton *
find_button(GtkWidget *root, const char *label)
{
  if (GTK_IS_BUTTON(root) && gtk_widget_get_visible(root)
      && g_strcmp0(gtk_button_get_label(GTK_BUTTON(root)), label) == 0)
    return GTK_BUTTON(root);
  for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
       c = gtk_widget_get_next_sibling(c)) {
    GtkButton *found = find_button(c, label);
    if (found != NULL)
      return found;
  }
  return NULL;
}

/* 20 labeled and 10 unlabeled images, and batches of 525: no step. The
 * nearest size that works (30) shows beside the field and sets it. */
static void
test_batch_suggestion(ScAppFixture *f, gconstpointer data)
{
  if (!sc_app_test_have_default_data(NULL))
    return;
  g_settings_set_int(f->settings, SC_KEY_SUBSET, 1000);
  g_settings_set_int(f->settings, SC_KEY_LABELED_PER_CLASS, 2);
  g_settings_set_int(f->settings, SC_KEY_UNLABELED_CAP, 10);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_assert_cmpint(simclr_studio_params_panel_get_batch_suggestion(w->params_panel), ==, 30);
  GtkButton *use = find_button(GTK_WIDGET(w->params_panel), "Use 30");
  g_assert_nonnull(use);
  sc_app_test_wait_frame(GTK_WIDGET(w));
  sc_app_test_save_screenshot(GTK_WIDGET(w), "batch-suggestion");
  g_signal_emit_by_name(use, "clicked");
  g_assert_cmpint(g_settings_get_int(f->settings, SC_KEY_BATCH_SIZE), ==, 30);
  g_assert_cmpint(simclr_studio_params_panel_get_batch_suggestion(w->params_panel), ==, 0);
  g_assert_null(find_button(GTK_WIDGET(w->params_panel), "Use 30"));
  /* A size with steps needs no suggestion; one without gets it again. */
  g_settings_set_int(f->settings, SC_KEY_BATCH_SIZE, 10);
  g_assert_cmpint(simclr_studio_params_panel_get_batch_suggestion(w->params_panel), ==, 0);
  g_settings_set_int(f->settings, SC_KEY_BATCH_SIZE, 31);
  g_assert_cmpint(simclr_studio_params_panel_get_batch_suggestion(w->params_panel), ==, 30);

  /* Other data: no hint while they open (it was the old data's), then the
   * new data's own: 20 images, all labeled, make steps of 20. */
  g_autofree char *small = sc_test_mkdtemp();
  fx_idx_folder(small, 20, 10, 28, 28, FALSE);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, small);
  g_assert_true(simclr_studio_window_get_loading(w));
  g_assert_cmpint(simclr_studio_params_panel_get_batch_suggestion(w->params_panel), ==, 0);
  g_settings_set_int(f->settings, SC_KEY_BATCH_SIZE, 33);
  g_assert_cmpint(simclr_studio_params_panel_get_batch_suggestion(w->params_panel), ==, 0);
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_assert_cmpint(simclr_studio_params_panel_get_batch_suggestion(w->params_panel), ==, 20);
  sc_test_rmtree(small);
}

/* ---- Results shown again ---- */

/* A tiny IDX data set in DIR and settings that train on it in seconds. */
static void
use_tiny_data(ScAppFixture *f, const char *dir)
{
  fx_idx_folder(dir, 100, 20, 28, 28, FALSE);
  simclr_studio_settings_apply_quick(f->settings);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, dir);
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 2);
  g_settings_set_int(f->settings, SC_KEY_LABELED_PER_CLASS, 2);
  g_settings_set_int(f->settings, SC_KEY_BATCH_SIZE, 20);
}

/* DIR/history.json as a training on DATA writes it: EPOCHS per run, the
 * runs' entries having done[run] epochs, val_acc of epoch e (e + run) / 10. */
static void
put_results(const char *dir, const char *data, int epochs, const int done[SC_N_RUNS])
{
  ScTrainConfig config;
  sc_train_config_init_default(&config);
  config.data_path = g_strdup(data);
  config.epochs = epochs;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "config");
  sc_train_config_to_json(&config, b);
  json_builder_set_member_name(b, "history");
  json_builder_begin_object(b);
  for (int r = 0; r < SC_N_RUNS; r++) {
    json_builder_set_member_name(b, sc_run_name(r));
    json_builder_begin_array(b);
    for (int e = 1; e <= done[r]; e++) {
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "epoch");
      json_builder_add_int_value(b, e);
      json_builder_set_member_name(b, r == SC_RUN_PRETRAIN ? "val_p_acc" : "val_acc");
      json_builder_add_double_value(b, (e + r) / 10.0);
      json_builder_set_member_name(b, r == SC_RUN_PRETRAIN ? "val_p_loss" : "val_loss");
      json_builder_add_double_value(b, 2.0 - e / 10.0);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  fx_write_text(dir, "history.json", text);
  sc_train_config_clear(&config);
}

/* The curves a window shows are the history's, point for point. */
static void
assert_curves(SimclrStudioWindow *w, GArray *const history[SC_N_RUNS])
{
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, history[r]->len);
    g_assert_cmpuint(sc_app_test_n_points(w->loss_chart, r), ==, history[r]->len);
    g_assert_cmpuint(w->history[r]->len, ==, history[r]->len);
    for (guint i = 0; i < history[r]->len; i++) {
      const ScEpochMetrics *want = &g_array_index(history[r], ScEpochMetrics, i);
      const ScEpochMetrics *got = &g_array_index(w->history[r], ScEpochMetrics, i);
      g_assert_cmpint(got->epoch, ==, want->epoch);
      g_assert_cmpfloat(sc_epoch_metrics_val_acc(r, got), ==,
                        sc_epoch_metrics_val_acc(r, want));
      g_assert_cmpfloat(sc_epoch_metrics_val_loss(r, got), ==,
                        sc_epoch_metrics_val_loss(r, want));
    }
  }
}

/* A training, then the window closed and a new one opened on the same runs
 * root: the same curves, also once the data set has finished opening. */
static void
test_results_after_restart(ScAppFixture *f, gconstpointer data)
{
  g_autofree char *tiny = g_build_filename(f->data_home, "tiny", NULL);
  use_tiny_data(f, tiny);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_assert_cmpint(simclr_studio_params_panel_get_batch_suggestion(w->params_panel), ==, 0);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_window_start_training(w, &error));
  g_assert_no_error(error);
  simclr_studio_runner_wait(w->runner);
  g_assert_true(g_str_has_prefix(gtk_progress_bar_get_text(w->progress_bar), "Done"));
  g_autofree char *dir = g_strdup(w->checkpoint_dir);
  g_autofree char *name = g_path_get_basename(dir);
  /* The curves the training drew, as the window received them. */
  GArray *trained[SC_N_RUNS];
  for (int r = 0; r < SC_N_RUNS; r++)
    trained[r] = g_array_copy(w->history[r]);
  gtk_window_destroy(GTK_WINDOW(w));
  g_assert_null(f->window);

  /* What the training wrote, read back: the same numbers. */
  g_autofree char *json = g_build_filename(dir, "history.json", NULL);
  ScTrainConfig config;
  GArray *history[SC_N_RUNS];
  for (int r = 0; r < SC_N_RUNS; r++)
    history[r] = g_array_new(FALSE, FALSE, sizeof(ScEpochMetrics));
  g_assert_true(sc_trainer_read_history_json(json, &config, history, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(config.data_path, ==, tiny);
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_assert_cmpuint(history[r]->len, ==, 2);
    g_assert_cmpuint(trained[r]->len, ==, 2);
  }

  w = sc_app_fixture_open_window(f);
  g_assert_false(simclr_studio_window_get_loading(w));
  assert_curves(w, history);
  assert_curves(w, trained);
  g_assert_cmpint(w->epochs, ==, 2);
  g_autofree char *title = g_strdup_printf("Results of %s", name);
  g_assert_cmpstr(gtk_progress_bar_get_text(w->progress_bar), ==, title);
  g_assert_cmpfloat(gtk_progress_bar_get_fraction(w->progress_bar), ==, 1.0);
  g_assert_cmpstr(gtk_stack_get_visible_child_name(w->view_stack), ==, "training");
  g_autofree char *text = sc_app_test_log_text(w);
  g_test_message("%s", text);
  g_autofree char *said = g_strdup_printf("Results of %s: the training finished", dir);
  g_assert_nonnull(strstr(text, said));
  /* A finished training offers no Continue; Train works as before. */
  g_assert_null(simclr_studio_window_get_resumable_dir(w));
  g_assert_true(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "start"));
  sc_app_test_wait_frame(GTK_WIDGET(w));
  sc_app_test_save_screenshot(GTK_WIDGET(w), "results-after-restart");
  /* Export's CSV is the folder's history, as the training wrote it. */
  g_autofree char *exported = g_build_filename(f->data_home, "exported.csv", NULL);
  g_assert_true(simclr_studio_window_export_to(w, exported, &error));
  g_assert_no_error(error);
  g_autofree char *csv_path = g_build_filename(dir, "history.csv", NULL);
  g_autofree char *want_csv = NULL, *got_csv = NULL;
  g_assert_true(g_file_get_contents(csv_path, &want_csv, NULL, NULL));
  g_assert_true(g_file_get_contents(exported, &got_csv, NULL, NULL));
  g_assert_cmpstr(got_csv, ==, want_csv);

  /* Another data set clears them. */
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, "");
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 0);
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_array_unref(history[r]);
    g_array_unref(trained[r]);
  }
  sc_train_config_clear(&config);
}

/* Results of two data sets: at startup the newest of the data set
 * selected, under newer ones of other data; asked for, the others, their
 * data set opening and the log holding only them; a folder that cannot be
 * shown leaves no curves of another training behind; back on the first data
 * set, its results come back. */
static void
test_results_of_other_data(ScAppFixture *f, gconstpointer data)
{
  g_autofree char *tiny = g_build_filename(f->data_home, "tiny", NULL);
  use_tiny_data(f, tiny);
  g_autofree char *other = g_build_filename(f->data_home, "other", NULL);
  const int done[SC_N_RUNS] = { 2, 2, 2 };
  const int stopped[SC_N_RUNS] = { 3, 1, 0 };
  g_autofree char *older = g_build_filename(f->runs_root, "20200101-000000", NULL);
  g_autofree char *newer = g_build_filename(f->runs_root, "20200102-000000", NULL);
  put_results(older, tiny, 2, done);
  put_results(newer, other, 3, stopped);
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 2);
  g_assert_cmpstr(w->checkpoint_dir, ==, older);
  g_assert_null(w->last_error_toast);
  g_autofree char *folder = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_cmpstr(folder, ==, tiny);
  g_autofree char *log = sc_app_test_log_text(w);
  g_assert_nonnull(strstr(log, older));
  /* The log says what they were trained with (the panel shows what the
   * next training will use). */
  g_assert_nonnull(strstr(log, "Trained with: "));
  g_assert_nonnull(strstr(log, "2 epochs"));

  /* Asked for, the others are shown, and their data set opens. */
  fx_idx_folder(other, 60, 20, 28, 28, FALSE);
  g_assert_true(simclr_studio_window_show_results(w, newer, NULL));
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_free(folder);
  folder = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_cmpstr(folder, ==, other);
  g_assert_cmpstr(simclr_studio_data_panel_get_dataset(w->data_panel)->path, ==, other);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, (guint)stopped[r]);
  g_free(log);
  log = sc_app_test_log_text(w);
  g_assert_nonnull(strstr(log, newer));
  g_assert_nonnull(strstr(log, "stopped before epoch 2 of 3 of pretrain"));
  g_assert_null(strstr(log, older));

  /* A folder without results: its error, and no curves of another. */
  g_autofree char *empty = g_build_filename(f->data_home, "no-results", NULL);
  g_assert_cmpint(g_mkdir(empty, 0755), ==, 0);
  g_assert_false(simclr_studio_window_show_results(w, empty, NULL));
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 0);
  g_assert_null(w->checkpoint_dir);
  g_free(log);
  log = sc_app_test_log_text(w);
  g_assert_null(strstr(log, newer));
  g_assert_nonnull(strstr(log, empty));

  /* The first data set again, chosen while looking at the preview: its
   * newest results with it, and the preview stays in view. */
  gtk_stack_set_visible_child_name(w->view_stack, "preview");
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, tiny);
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 2);
  g_assert_cmpstr(w->checkpoint_dir, ==, older);
  g_assert_cmpstr(gtk_stack_get_visible_child_name(w->view_stack), ==, "preview");
}

/* Unreadable newest results over readable older ones of the same data:
 * the older are shown and the log says why the newest are not. */
static void
test_newest_results_broken(ScAppFixture *f, gconstpointer data)
{
  g_autofree char *tiny = g_build_filename(f->data_home, "tiny", NULL);
  use_tiny_data(f, tiny);
  const int done[SC_N_RUNS] = { 2, 2, 2 };
  g_autofree char *older = g_build_filename(f->runs_root, "20200101-000000", NULL);
  g_autofree char *newer = g_build_filename(f->runs_root, "20200102-000000", NULL);
  put_results(older, tiny, 2, done);
  fx_write_text(newer, "history.json", "{\"config\": ");
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_assert_cmpstr(w->checkpoint_dir, ==, older);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 2);
  g_autofree char *log = sc_app_test_log_text(w);
  g_autofree char *newer_json = g_build_filename(newer, "history.json", NULL);
  g_assert_nonnull(strstr(log, "The newest results could not be read: "));
  g_assert_nonnull(strstr(log, newer_json));

  /* The same data through a symbolic link: the same data set, its results
   * stay. */
  g_autofree char *link = g_build_filename(f->data_home, "tiny-link", NULL);
  g_assert_cmpint(symlink(tiny, link), ==, 0);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, link);
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_assert_cmpstr(w->checkpoint_dir, ==, older);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 2);
}

/* A history.json that cannot be read: an error toast naming the file and
 * what is wrong, and the window goes on as before. */
static void
test_broken_results(ScAppFixture *f, gconstpointer data)
{
  g_autofree char *tiny = g_build_filename(f->data_home, "tiny", NULL);
  use_tiny_data(f, tiny);
  /* The newest results, cut short: said at startup. */
  g_autofree char *cut = g_build_filename(f->runs_root, "20200101-000000", NULL);
  fx_write_text(cut, "history.json", "{\"config\": {\"data\": ");
  SimclrStudioWindow *w = sc_app_fixture_open_window(f);
  g_autofree char *cut_json = g_build_filename(cut, "history.json", NULL);
  g_assert_nonnull(w->last_error_toast);
  g_assert_cmpstr(adw_toast_get_title(w->last_error_toast), ==,
                  "Could not show the last results");
  const char *message = g_object_get_data(G_OBJECT(w->last_error_toast), "sc-error-message");
  g_test_message("%s", message);
  g_assert_true(g_str_has_prefix(message, cut_json));
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 0);
  /* Said once: not again when the same data set opens again. */
  g_clear_object(&w->last_error_toast);
  g_autofree char *other = g_build_filename(f->data_home, "other", NULL);
  fx_idx_folder(other, 60, 20, 28, 28, FALSE);
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, other);
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_settings_set_string(f->settings, SC_KEY_DATA_FOLDER, tiny);
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, w, 60));
  g_assert_null(w->last_error_toast);

  /* Asked for: an epoch out of place, named with its run and entry. */
  g_autofree char *bad = g_build_filename(f->data_home, "bad", NULL);
  const int done[SC_N_RUNS] = { 1, 0, 0 };
  put_results(bad, tiny, 2, done);
  g_autofree char *bad_json = g_build_filename(bad, "history.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(bad_json, &text, NULL, NULL));
  char *one = strstr(text, "\"epoch\":1");
  g_assert_nonnull(one);
  one[strlen("\"epoch\":")] = '3';
  g_assert_true(g_file_set_contents(bad_json, text, -1, NULL));
  g_assert_false(simclr_studio_window_show_results(w, bad, NULL));
  g_assert_cmpstr(adw_toast_get_title(w->last_error_toast), ==, "Could not show the results");
  message = g_object_get_data(G_OBJECT(w->last_error_toast), "sc-error-message");
  g_test_message("%s", message);
  g_assert_true(g_str_has_prefix(message, bad_json));
  g_assert_nonnull(strstr(message, "baseline: entry 1 has epoch 3, expected 1"));
  /* A configuration without its fields: the first one read, named. */
  fx_write_text(bad, "history.json", "{\"config\": {}, \"history\": {}}");
  g_assert_false(simclr_studio_window_show_results(w, bad, NULL));
  message = g_object_get_data(G_OBJECT(w->last_error_toast), "sc-error-message");
  g_test_message("%s", message);
  g_assert_true(g_str_has_prefix(message, bad_json));
  g_assert_nonnull(strstr(message, "\"config\": \"data\" is missing"));

  /* The window is usable: nothing shown, Train still there and working. */
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 0);
  g_assert_true(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "start"));
  g_autoptr(GError) error = NULL;
  g_settings_set_int(f->settings, SC_KEY_EPOCHS, 1);
  g_assert_true(simclr_studio_window_start_training(w, &error));
  g_assert_no_error(error);
  simclr_studio_runner_wait(w->runner);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(sc_app_test_n_points(w->accuracy_chart, r), ==, 1);
}

/* ---- A folder on the command line ---- */

typedef struct {
  GtkWindow *window;
  char *shown;
  char *error_title, *error_message; /* the error toast's, if any */
  char *progress;                    /* the progress bar's text */
  guint points[SC_N_RUNS];           /* accuracy chart points per run */
} OpenState;

/* Once the window is built and its data set open: the data set, the
 * curves and the error toast it shows, then close it. */
static void
check_and_close(OpenState *state)
{
  SimclrStudioWindow *w = SIMCLR_STUDIO_WINDOW(state->window);
  if (simclr_studio_window_get_loading(w)) {
    g_timeout_add_once(20, (GSourceOnceFunc)check_and_close, state);
    return;
  }
  state->shown = g_settings_get_string(w->settings, SC_KEY_DATA_FOLDER);
  state->progress = g_strdup(gtk_progress_bar_get_text(w->progress_bar));
  for (int r = 0; r < SC_N_RUNS; r++)
    state->points[r] = sc_app_test_n_points(w->accuracy_chart, r);
  if (w->last_error_toast != NULL) {
    GObject *toast = G_OBJECT(w->last_error_toast);
    state->error_title = g_strdup(adw_toast_get_title(w->last_error_toast));
    state->error_message = g_strdup(g_object_get_data(toast, "sc-error-message"));
  }
  gtk_window_close(state->window);
}

static void
window_added_cb(GtkApplication *app, GtkWindow *window, OpenState *state)
{
  state->window = window;
  g_idle_add_once((GSourceOnceFunc)check_and_close, state);
}

/* Runs the application with ARG as its one argument until its window is up. */
static void
run_with_argument(const char *arg, OpenState *state)
{
  g_autoptr(SimclrStudioApplication) app = simclr_studio_application_new();
  g_application_set_flags(G_APPLICATION(app), g_application_get_flags(G_APPLICATION(app))
                                                | G_APPLICATION_NON_UNIQUE);
  g_signal_connect(app, "window-added", G_CALLBACK(window_added_cb), state);
  char *argv[] = { "simclr-studio", (char *)arg, NULL };
  int status = g_application_run(G_APPLICATION(app), 2, argv);
  g_assert_cmpint(status, ==, 0);
}

static void
test_open_folder_argument(void)
{
  g_autofree char *folder = sc_test_mkdtemp();
  fx_idx_folder(folder, 20, 10, 28, 28, FALSE);
  OpenState state = { NULL };
  run_with_argument(folder, &state);
  g_assert_cmpstr(state.shown, ==, folder);
  g_assert_null(state.error_title);
  g_free(state.shown);

  /* A folder that is not there: said in the window, naming it, and the data
   * set open before stays. */
  g_autofree char *missing = g_build_filename(folder, "no-such-data", NULL);
  OpenState bad = { NULL };
  run_with_argument(missing, &bad);
  g_assert_cmpstr(bad.shown, ==, folder);
  g_assert_cmpstr(bad.error_title, ==, "Cannot open that folder");
  g_assert_nonnull(strstr(bad.error_message, missing));
  g_assert_nonnull(strstr(bad.error_message, "does not exist"));
  g_free(bad.shown);
  g_free(bad.error_title);
  g_free(bad.error_message);

  /* A results folder: its curves, and the data set they were trained on. */
  g_autofree char *data = g_build_filename(folder, "data", NULL);
  fx_idx_folder(data, 20, 10, 28, 28, FALSE);
  g_autofree char *results = g_build_filename(folder, "results", NULL);
  const int done[SC_N_RUNS] = { 3, 1, 0 };
  put_results(results, data, 3, done);
  OpenState shown = { NULL };
  run_with_argument(results, &shown);
  g_assert_cmpstr(shown.shown, ==, data);
  g_assert_null(shown.error_title);
  g_assert_cmpstr(shown.progress, ==, "Results of results");
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpuint(shown.points[r], ==, done[r]);
  g_free(shown.shown);
  g_free(shown.progress);
  sc_test_rmtree(folder);
}

int
main(int argc, char *argv[])
{
  if (g_getenv("SC_TEST_SETTINGS_CHILD") != NULL)
    return settings_without_bus_child();
  if (!sc_app_test_init(&argc, &argv))
    return 0;
  sc_app_fixture_add("/App/Usage/typed-value-trains", NULL, test_typed_value_trains);
  g_test_add_func("/App/Usage/settings-without-session-bus", test_settings_without_bus);
  sc_app_fixture_add("/App/Usage/quit-asks", NULL, test_quit_asks);
  sc_app_fixture_add("/App/Usage/quit-after-training-ended", NULL, test_quit_after_training_ended);
  sc_app_fixture_add("/App/Usage/idle-close-does-not-ask", NULL, test_idle_close_does_not_ask);
  sc_app_fixture_add("/App/Usage/results-and-data-change", NULL, test_results_and_data_change);
  g_test_add_func("/App/Usage/prune-keeps-results", test_prune_keeps_results);
  sc_app_fixture_add("/App/Usage/reference-follows-data", NULL, test_reference_follows_data);
  sc_app_fixture_add("/App/Usage/reset-restores-augmentations", NULL,
                     test_reset_restores_augmentations);
  sc_app_fixture_add("/App/Usage/texts-follow-settings", NULL, test_texts_follow_settings);
  sc_app_fixture_add("/App/Usage/batch-suggestion", NULL, test_batch_suggestion);
  g_test_add_func("/App/Usage/open-folder-argument", test_open_folder_argument);
  sc_app_fixture_add("/App/Usage/results-after-restart", NULL, test_results_after_restart);
  sc_app_fixture_add("/App/Usage/results-of-other-data", NULL, test_results_of_other_data);
  sc_app_fixture_add("/App/Usage/broken-results", NULL, test_broken_results);
  sc_app_fixture_add("/App/Usage/newest-results-broken", NULL, test_newest_results_broken);
  /* The application's own runs root: an empty one, not the user's. */
  g_autofree char *data_home = sc_test_mkdtemp();
  g_setenv("XDG_DATA_HOME", data_home, TRUE);
  int status = g_test_run();
  sc_test_rmtree(data_home);
  return status;
}
