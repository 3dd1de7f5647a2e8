/* The window's actions: start, continue, pause (a toggle), stop, shuffle,
 * export. */
#include "simclr-studio-window-private.h"

#include "simclr-studio-export.h"
#include "simclr-studio-settings.h"

#define EXPORT_CHART_WIDTH_PX 800
#define EXPORT_CHART_HEIGHT_PX 500

static void
start_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
  SimclrStudioWindow *self = data;
  g_autoptr(GError) error = NULL;
  if (!simclr_studio_window_start_training(self, &error))
    simclr_studio_window_show_error(self, "Could not start the training", error->message);
}

static void
continue_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
  SimclrStudioWindow *self = data;
  g_autoptr(GError) error = NULL;
  if (!simclr_studio_window_continue_training(self, &error))
    simclr_studio_window_show_error(self, "Could not continue the training", error->message);
}

static void
pause_changed(GSimpleAction *action, GVariant *state, gpointer data)
{
  SimclrStudioWindow *self = data;
  gboolean paused = g_variant_get_boolean(state);
  simclr_studio_runner_set_paused(self->runner, paused);
  g_simple_action_set_state(action, state);
  if (paused)
    gtk_progress_bar_set_text(self->progress_bar, "Paused after the current step");
}

static void
stop_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
  SimclrStudioWindow *self = data;
  simclr_studio_runner_cancel(self->runner);
  gtk_progress_bar_set_text(self->progress_bar, "Stopping after the current step…");
}

static void
shuffle_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
  SimclrStudioWindow *self = data;
  simclr_studio_preview_panel_shuffle(self->preview_panel);
}

/* Curves read from a results folder: its history.csv is their table (the
 * runner's last training, if any, is another one). */
static gboolean
copy_results_csv(SimclrStudioWindow *self, const char *path, GError **error)
{
  g_autofree char *csv = g_build_filename(self->checkpoint_dir, "history.csv", NULL);
  g_autoptr(GFile) from = g_file_new_for_path(csv);
  g_autoptr(GFile) to = g_file_new_for_path(path);
  g_autoptr(GError) local = NULL;
  if (g_file_copy(from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &local))
    return TRUE;
  g_set_error(error, local->domain, local->code, "Could not copy %s to %s: %s", csv, path,
              local->message);
  return FALSE;
}

gboolean
simclr_studio_window_export_to(SimclrStudioWindow *self, const char *path, GError **error)
{
  SimclrStudioExportFormat format;
  if (!simclr_studio_export_format_for_path(path, &format, error))
    return FALSE;
  if (format == SIMCLR_STUDIO_EXPORT_CSV && self->curves_read)
    return copy_results_csv(self, path, error);
  if (format == SIMCLR_STUDIO_EXPORT_CSV)
    return simclr_studio_runner_write_history_csv(self->runner, path, error);
  const ScChart *charts[2] = { simclr_studio_chart_view_get_chart(self->accuracy_chart),
                               simclr_studio_chart_view_get_chart(self->loss_chart) };
  return simclr_studio_export_charts(charts, 2, EXPORT_CHART_WIDTH_PX, EXPORT_CHART_HEIGHT_PX,
                                     format, path, error);
}

static void
export_response_cb(SimclrStudioWindow *self, int response, GtkNativeDialog *dialog)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = file != NULL ? g_file_get_path(file) : NULL;
    g_autoptr(GError) error = NULL;
    if (path != NULL && simclr_studio_window_export_to(self, path, &error)) {
      g_autofree char *parent = g_path_get_dirname(path);
      g_settings_set_string(self->settings, SC_KEY_LAST_FOLDER, parent);
      g_autofree char *name = g_path_get_basename(path);
      g_autofree char *message = g_strdup_printf("Saved %s", name);
      simclr_studio_window_toast(self, message);
    } else if (error != NULL) {
      simclr_studio_window_show_error(self, "Export failed", error->message);
    }
  }
  g_clear_object(&self->export_chooser);
}

static void
add_filter(GtkFileChooser *chooser, const char *name, const char *pattern)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new();
  gtk_file_filter_set_name(filter, name);
  gtk_file_filter_add_pattern(filter, pattern);
  gtk_file_chooser_add_filter(chooser, filter);
}

static void
export_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
  SimclrStudioWindow *self = data;
  if (self->export_chooser != NULL)
    return;
  guint epochs = 0;
  for (int r = 0; r < SC_N_RUNS; r++)
    epochs += self->history[r]->len;
  if (epochs == 0) {
    simclr_studio_window_toast(self, "Nothing to export yet: the curves start after the "
                                     "first epoch");
    return;
  }
  self->export_chooser = gtk_file_chooser_native_new(
    "Export Curves or History", GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_SAVE, "_Save",
    "_Cancel");
  GtkFileChooser *chooser = GTK_FILE_CHOOSER(self->export_chooser);
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->export_chooser), TRUE);
  add_filter(chooser, "Curves as PNG image (.png)", "*.png");
  add_filter(chooser, "Curves as SVG drawing (.svg)", "*.svg");
  add_filter(chooser, "History as CSV table (.csv)", "*.csv");
  gtk_file_chooser_set_current_name(chooser, "simclr-curves.png");
  g_autofree char *last = g_settings_get_string(self->settings, SC_KEY_LAST_FOLDER);
  if (*last != '\0') {
    g_autoptr(GFile) folder = g_file_new_for_path(last);
    gtk_file_chooser_set_current_folder(chooser, folder, NULL);
  }
  g_signal_connect_swapped(self->export_chooser, "response", G_CALLBACK(export_response_cb),
                           self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->export_chooser));
}

static const GActionEntry window_actions[] = {
  { .name = "start", .activate = start_activated },
  { .name = "continue", .activate = continue_activated },
  { .name = "pause", .state = "false", .change_state = pause_changed },
  { .name = "stop", .activate = stop_activated },
  { .name = "shuffle", .activate = shuffle_activated },
  { .name = "export", .activate = export_activated },
};

void
simclr_studio_window_actions_init(SimclrStudioWindow *self)
{
  g_action_map_add_action_entries(G_ACTION_MAP(self), window_actions,
                                  G_N_ELEMENTS(window_actions), self);
}

static void
set_enabled(SimclrStudioWindow *self, const char *name, gboolean enabled)
{
  GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self), name);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(action), enabled);
}

void
simclr_studio_window_actions_update(SimclrStudioWindow *self)
{
  gboolean running = simclr_studio_runner_get_running(self->runner);
  gboolean have_data = simclr_studio_data_panel_get_dataset(self->data_panel) != NULL;
  /* Training opens the data set again; with none open it would fail at once. */
  set_enabled(self, "start", !running && have_data);
  const char *why = NULL;
  if (!have_data)
    why = simclr_studio_data_panel_get_loading(self->data_panel)
            ? "Opening the data set…"
            : "No data set open: choose a folder under Data first";
  gtk_widget_set_tooltip_text(self->start_button,
                              why != NULL ? why : "Train the selected runs (Ctrl+Enter)");
  /* Continue reads its data from the checkpoint, not from the data panel. */
  gboolean resumable = !running && self->resumable_dir != NULL;
  set_enabled(self, "continue", resumable);
  gtk_widget_set_visible(self->continue_button, resumable);
  if (resumable) {
    g_autofree char *name = g_path_get_basename(self->resumable_dir);
    g_autofree char *tip = g_strdup_printf("Go on with the stopped training %s from its last "
                                           "checkpoint, with its own settings "
                                           "(Ctrl+Shift+Enter)", name);
    gtk_widget_set_tooltip_text(self->continue_button, tip);
  }
  set_enabled(self, "pause", running);
  set_enabled(self, "stop", running);
  set_enabled(self, "shuffle", have_data);
  if (!running) {
    GAction *pause = g_action_map_lookup_action(G_ACTION_MAP(self), "pause");
    g_simple_action_set_state(G_SIMPLE_ACTION(pause), g_variant_new_boolean(FALSE));
  }
}
