/* SimclrStudioDataPanel: opens data sets off the main thread. */
#include "config.h"

#include "simclr-studio-data-panel.h"

#include <string.h>

#include "simclr-studio-settings.h"
#if SC_HAVE_DOWNLOAD
#include "simclr-studio-download-dialog.h"
#endif

struct _SimclrStudioDataPanel {
  AdwBin parent_instance;

  GtkSpinner *spinner;
  AdwActionRow *source_row;
  AdwActionRow *format_row;
  AdwActionRow *images_row;
  AdwActionRow *classes_row;
  AdwActionRow *error_row;

  GSettings *settings;
  ScDataset *dataset;
  char *error;
  guint generation; /* of the newest load; older results are dropped */
  gboolean loading;
  GtkFileChooserNative *chooser;
  GtkWidget *download_row;
  GtkWindow *download_dialog; /* weak: open while shown */
};

G_DEFINE_FINAL_TYPE(SimclrStudioDataPanel, simclr_studio_data_panel, ADW_TYPE_BIN)

enum { SIGNAL_DATASET_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_LOADING, N_PROPS };
static GParamSpec *properties[N_PROPS];

static const char *
format_title(ScDataFormat format)
{
  switch (format) {
  case SC_FORMAT_STL10: return "STL-10 binary";
  case SC_FORMAT_CIFAR10: return "CIFAR-10 binary";
  case SC_FORMAT_IDX: return "IDX (MNIST-style)";
  case SC_FORMAT_FOLDER: return "Folder of images, one sub-folder per class";
  case SC_FORMAT_AUTO: break;
  }
  return "unknown";
}

static char *
count_text(size_t n)
{
  /* Thin grouping for readability: 60 000. */
  g_autoptr(GString) s = g_string_new(NULL);
  g_autofree char *digits = g_strdup_printf("%zu", n);
  size_t len = strlen(digits);
  for (size_t i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0)
      g_string_append(s, "\u2009");
    g_string_append_c(s, digits[i]);
  }
  return g_string_free(g_steal_pointer(&s), FALSE);
}

/* "60 000", or with a Quick run that takes fewer, "1 000 of 60 000". */
static char *
used_count_text(SimclrStudioDataPanel *self, size_t n)
{
  size_t subset = self->settings != NULL
                    ? (size_t)MAX(g_settings_get_int(self->settings, SC_KEY_SUBSET), 0)
                    : 0;
  g_autofree char *all = count_text(n);
  if (subset == 0 || subset >= n)
    return g_steal_pointer(&all);
  g_autofree char *used = count_text(subset);
  return g_strdup_printf("%s of %s", used, all);
}

static void
show_dataset(SimclrStudioDataPanel *self)
{
  const ScDataset *d = self->dataset;
  gtk_widget_set_visible(GTK_WIDGET(self->error_row), self->error != NULL);
  if (self->error != NULL)
    adw_action_row_set_subtitle(self->error_row, self->error);
  if (d == NULL) {
    adw_action_row_set_subtitle(self->format_row, "–");
    adw_action_row_set_subtitle(self->images_row, "–");
    adw_action_row_set_subtitle(self->classes_row, "–");
    return;
  }

  const ScSplit *train = d->train;
  int c = sc_split_channels(train);
  g_autofree char *format = g_strdup_printf(
    "%s, %d\u2009×\u2009%d %s", format_title(d->format), sc_split_width(train),
    sc_split_height(train), c == 1 ? "grey" : "colour");
  adw_action_row_set_subtitle(self->format_row, format);

  /* The images a training uses: a Quick run takes a few of each split. */
  g_autofree char *n_train = used_count_text(self, sc_split_count(train));
  g_autofree char *n_test = used_count_text(self, sc_split_count(d->test));
  g_autofree char *n_unlabeled =
    d->unlabeled != NULL ? used_count_text(self, sc_split_count(d->unlabeled)) : NULL;
  g_autofree char *images = g_strdup_printf(
    "%s train · %s test · %s%s", n_train, n_test, n_unlabeled ? n_unlabeled : "no",
    n_unlabeled ? " unlabeled" : " separate unlabeled split (train images are used)");
  adw_action_row_set_subtitle(self->images_row, images);

  g_autofree char *names = g_strjoinv(", ", d->class_names);
  g_autofree char *classes = g_strdup_printf("%d: %s", d->n_classes, names);
  adw_action_row_set_subtitle(self->classes_row, classes);
}

static void
set_loading(SimclrStudioDataPanel *self, gboolean loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  gtk_spinner_set_spinning(self->spinner, loading);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_LOADING]);
}

typedef struct {
  char *path;
  guint generation;
} LoadData;

static void
load_data_free(LoadData *data)
{
  g_free(data->path);
  g_free(data);
}

static void
open_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *data = task_data;
  GError *error = NULL;
  ScDataset *dataset = sc_dataset_open(data->path, SC_FORMAT_AUTO, &error);
  if (dataset == NULL)
    g_task_return_error(task, error);
  else
    g_task_return_pointer(task, dataset, (GDestroyNotify)sc_dataset_free);
}

static void
open_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  SimclrStudioDataPanel *self = SIMCLR_STUDIO_DATA_PANEL(source);
  LoadData *data = g_task_get_task_data(G_TASK(result));
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) dataset = g_task_propagate_pointer(G_TASK(result), &error);
  if (data->generation != self->generation)
    return; /* a newer load replaced this one, or the panel is gone */

  /* Listeners may still hold the old data set until the signal: free it after. */
  g_autoptr(ScDataset) old = g_steal_pointer(&self->dataset);
  self->dataset = g_steal_pointer(&dataset);
  g_clear_pointer(&self->error, g_free);
  if (error != NULL)
    self->error = g_strdup(error->message);
  set_loading(self, FALSE);
  show_dataset(self);
  g_signal_emit(self, signals[SIGNAL_DATASET_CHANGED], 0);
}

static void
load(SimclrStudioDataPanel *self)
{
  g_autofree char *folder = g_settings_get_string(self->settings, SC_KEY_DATA_FOLDER);
  const char *path = *folder != '\0' ? folder : SC_DEFAULT_DATA_DIR;
  g_autofree char *source = *folder != '\0'
                              ? g_strdup(folder)
                              : g_strdup_printf("Fashion-MNIST (default), %s", path);
  adw_action_row_set_subtitle(self->source_row, source);
  /* The full path when a narrow window wraps or cuts the subtitle. */
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->source_row), path);

  LoadData *data = g_new0(LoadData, 1);
  data->path = g_strdup(path);
  data->generation = ++self->generation;
  set_loading(self, TRUE);
  g_autoptr(GTask) task = g_task_new(self, NULL, open_done, NULL);
  g_task_set_task_data(task, data, (GDestroyNotify)load_data_free);
  g_task_set_name(task, "[simclr-studio] open data set");
  g_task_run_in_thread(task, open_thread);
}

static void
folder_changed_cb(SimclrStudioDataPanel *self)
{
  load(self);
}

static void
default_clicked_cb(SimclrStudioDataPanel *self)
{
  g_settings_set_string(self->settings, SC_KEY_DATA_FOLDER, "");
}

static void
chooser_response_cb(SimclrStudioDataPanel *self, int response, GtkNativeDialog *dialog)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = file != NULL ? g_file_get_path(file) : NULL;
    if (path != NULL) {
      g_autofree char *parent = g_path_get_dirname(path);
      g_settings_set_string(self->settings, SC_KEY_LAST_FOLDER, parent);
      g_settings_set_string(self->settings, SC_KEY_DATA_FOLDER, path);
    }
  }
  g_clear_object(&self->chooser);
}

static void
folder_clicked_cb(SimclrStudioDataPanel *self)
{
  if (self->chooser != NULL)
    return;
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  self->chooser = gtk_file_chooser_native_new(
    "Choose a Data Set Folder", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open", "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
  g_autofree char *last = g_settings_get_string(self->settings, SC_KEY_LAST_FOLDER);
  if (*last != '\0') {
    g_autoptr(GFile) folder = g_file_new_for_path(last);
    gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(self->chooser), folder, NULL);
  }
  g_signal_connect_swapped(self->chooser, "response", G_CALLBACK(chooser_response_cb), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

GtkWindow *
simclr_studio_data_panel_open_download_dialog(SimclrStudioDataPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DATA_PANEL(self), NULL);
#if SC_HAVE_DOWNLOAD
  if (self->download_dialog == NULL) {
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
    self->download_dialog = GTK_WINDOW(simclr_studio_download_dialog_new(
      GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, self->settings));
    g_object_add_weak_pointer(G_OBJECT(self->download_dialog),
                              (gpointer *)&self->download_dialog);
  }
  gtk_window_present(self->download_dialog);
#endif
  return self->download_dialog;
}

static void
download_clicked_cb(SimclrStudioDataPanel *self)
{
  simclr_studio_data_panel_open_download_dialog(self);
}

static void
simclr_studio_data_panel_get_property(GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec)
{
  SimclrStudioDataPanel *self = SIMCLR_STUDIO_DATA_PANEL(object);
  switch (prop_id) {
  case PROP_LOADING:
    g_value_set_boolean(value, self->loading);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
simclr_studio_data_panel_dispose(GObject *object)
{
  SimclrStudioDataPanel *self = SIMCLR_STUDIO_DATA_PANEL(object);
  self->generation++; /* a load still running is dropped when it ends */
  if (self->chooser != NULL)
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
  g_clear_object(&self->chooser);
  if (self->download_dialog != NULL) {
    g_object_remove_weak_pointer(G_OBJECT(self->download_dialog),
                                 (gpointer *)&self->download_dialog);
    gtk_window_destroy(g_steal_pointer(&self->download_dialog));
  }
  g_clear_object(&self->settings);
  gtk_widget_dispose_template(GTK_WIDGET(self), SIMCLR_STUDIO_TYPE_DATA_PANEL);
  G_OBJECT_CLASS(simclr_studio_data_panel_parent_class)->dispose(object);
}

static void
simclr_studio_data_panel_finalize(GObject *object)
{
  SimclrStudioDataPanel *self = SIMCLR_STUDIO_DATA_PANEL(object);
  g_clear_pointer(&self->dataset, sc_dataset_free);
  g_clear_pointer(&self->error, g_free);
  G_OBJECT_CLASS(simclr_studio_data_panel_parent_class)->finalize(object);
}

static void
simclr_studio_data_panel_class_init(SimclrStudioDataPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = simclr_studio_data_panel_get_property;
  object_class->dispose = simclr_studio_data_panel_dispose;
  object_class->finalize = simclr_studio_data_panel_finalize;

  properties[PROP_LOADING] = g_param_spec_boolean(
    "loading", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, properties);

  /* After every load, successful or not. */
  signals[SIGNAL_DATASET_CHANGED] =
    g_signal_new("dataset-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                 NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource(
    widget_class, SC_RESOURCE_PATH "/simclr-studio-data-panel.ui");
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioDataPanel, spinner);
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioDataPanel, source_row);
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioDataPanel, format_row);
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioDataPanel, images_row);
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioDataPanel, classes_row);
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioDataPanel, error_row);
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioDataPanel, download_row);
  gtk_widget_class_bind_template_callback(widget_class, download_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, default_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, folder_clicked_cb);
}

static void
simclr_studio_data_panel_init(SimclrStudioDataPanel *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  /* Built without libsoup or libarchive: nothing to download with. */
  gtk_widget_set_visible(self->download_row, SC_HAVE_DOWNLOAD);
#if SC_HAVE_DOWNLOAD
  g_autofree char *size = g_format_size(sc_download_source_stl10()->archive_bytes);
  g_autofree char *subtitle =
    g_strdup_printf("Download it from Stanford (%s) or import a copy you have", size);
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self->download_row), subtitle);
#endif
}

void
simclr_studio_data_panel_set_settings(SimclrStudioDataPanel *self, GSettings *settings)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_DATA_PANEL(self));
  g_return_if_fail(self->settings == NULL);
  self->settings = g_object_ref(settings);
  g_signal_connect_object(settings, "changed::" SC_KEY_DATA_FOLDER,
                          G_CALLBACK(folder_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object(settings, "changed::" SC_KEY_SUBSET, G_CALLBACK(show_dataset), self,
                          G_CONNECT_SWAPPED);
  load(self);
}

const ScDataset *
simclr_studio_data_panel_get_dataset(SimclrStudioDataPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DATA_PANEL(self), NULL);
  return self->dataset;
}

const char *
simclr_studio_data_panel_get_error(SimclrStudioDataPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DATA_PANEL(self), NULL);
  return self->error;
}

gboolean
simclr_studio_data_panel_get_loading(SimclrStudioDataPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DATA_PANEL(self), FALSE);
  return self->loading;
}

const char *
simclr_studio_data_panel_get_images_text(SimclrStudioDataPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DATA_PANEL(self), NULL);
  return adw_action_row_get_subtitle(self->images_row);
}
