/* SimclrStudioDownloadDialog: getting STL-10 in a worker thread. */
#include "config.h"

#include "simclr-studio-download-dialog.h"

#include <glib/gstdio.h>

#include "simclr-studio-settings.h"

/* Shared by the worker and the main thread. The worker writes the newest
 * progress under the lock and queues one idle at most; the idle reads it on
 * the main thread. Reference counted: the idle may outlive the dialog. */
typedef struct {
  GMutex lock;
  ScDownloadProgress progress; /* newest, under lock */
  gboolean idle_pending;       /* under lock */
  SimclrStudioDownloadDialog *dialog; /* main thread only; NULL once disposed */
} Job;

typedef enum { WORK_DOWNLOAD, WORK_ARCHIVE, WORK_FOLDER } WorkKind;

/* The worker's input, owned by its GTask. */
typedef struct {
  WorkKind kind;
  const ScDownloadSource *source;
  char *path;     /* destination, archive or folder */
  char *dest_dir; /* where an archive is unpacked */
  Job *job;
} Work;

struct _SimclrStudioDownloadDialog {
  AdwWindow parent_instance;

  GtkLabel *intro_label;
  AdwActionRow *destination_row;
  GtkWidget *destination_button;
  GtkProgressBar *progress_bar;
  GtkLabel *progress_label;
  GtkLabel *status_label;
  GtkWidget *import_archive_button;
  GtkWidget *import_folder_button;
  GtkWidget *cancel_button;
  GtkWidget *download_button;

  GSettings *settings;
  const ScDownloadSource *source;
  char *destination;
  GCancellable *cancellable; /* of the running work, NULL when idle */
  Job *job;                  /* of the running work */
  char *dataset_path;
  GError *error;
  guint64 shown_bytes;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE(SimclrStudioDownloadDialog, simclr_studio_download_dialog, ADW_TYPE_WINDOW)

static void
job_unref(Job *job)
{
  g_atomic_rc_box_release_full(job, (GDestroyNotify)g_mutex_clear);
}

static void
work_free(Work *work)
{
  g_free(work->path);
  g_free(work->dest_dir);
  job_unref(work->job);
  g_free(work);
}

/* ---- Text ---- */

static const char *
stage_text(ScDownloadStage stage)
{
  switch (stage) {
  case SC_DOWNLOAD_STAGE_RESUMING: return "Checking the part downloaded before";
  case SC_DOWNLOAD_STAGE_DOWNLOADING: return "Downloading";
  case SC_DOWNLOAD_STAGE_VERIFYING: return "Checking";
  case SC_DOWNLOAD_STAGE_EXTRACTING: return "Unpacking";
  case SC_DOWNLOAD_STAGE_OPENING: return "Opening";
  }
  return "Working";
}

/* "Downloading 1.2 GB of 2.6 GB · 10.3 MB/s · 2:15 left" */
static char *
progress_text(const ScDownloadProgress *p)
{
  GString *text = g_string_new(stage_text(p->stage));
  g_autofree char *done = g_format_size(p->done_bytes);
  if (p->total_bytes > 0) {
    g_autofree char *total = g_format_size(p->total_bytes);
    g_string_append_printf(text, " %s of %s", done, total);
  } else if (p->done_bytes > 0) {
    g_string_append_printf(text, " %s", done);
  }
  if (p->rate_bytes_per_s > 0) {
    g_autofree char *rate = g_format_size((guint64)p->rate_bytes_per_s);
    g_string_append_printf(text, " · %s/s", rate);
  }
  if (p->eta_s >= 0 && p->rate_bytes_per_s > 0) {
    long s = (long)(p->eta_s + 0.5);
    if (s >= 3600)
      g_string_append_printf(text, " · %ld:%02ld:%02ld left", s / 3600, s / 60 % 60, s % 60);
    else
      g_string_append_printf(text, " · %ld:%02ld left", s / 60, s % 60);
  }
  return g_string_free(text, FALSE);
}

static void
set_status(SimclrStudioDownloadDialog *self, const char *text, gboolean is_error)
{
  gtk_label_set_text(self->status_label, text != NULL ? text : "");
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->status_label), text);
  if (is_error)
    gtk_widget_add_css_class(GTK_WIDGET(self->status_label), "error");
  else
    gtk_widget_remove_css_class(GTK_WIDGET(self->status_label), "error");
}

static char *
part_path(SimclrStudioDownloadDialog *self)
{
  g_autofree char *name = g_strconcat(self->source->archive_name, ".part", NULL);
  return g_build_filename(self->destination, name, NULL);
}

/* Says what Download will do in the destination: resume a kept part, or
 * nothing when the data set is already there. */
static void
show_destination(SimclrStudioDownloadDialog *self)
{
  adw_action_row_set_subtitle(self->destination_row, self->destination);
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->destination_row), self->destination);
  g_autofree char *part = part_path(self);
  g_autofree char *folder = g_build_filename(self->destination, self->source->folder_name,
                                             NULL);
  GStatBuf st;
  if (g_file_test(folder, G_FILE_TEST_IS_DIR)) {
    g_autofree char *text = g_strdup_printf(
      "%s is already there: Download checks it and uses it.", self->source->folder_name);
    set_status(self, text, FALSE);
  } else if (g_stat(part, &st) == 0 && st.st_size > 0) {
    g_autofree char *size = g_format_size((guint64)st.st_size);
    g_autofree char *text = g_strdup_printf(
      "%s of an earlier download are kept here: Download resumes from them.", size);
    set_status(self, text, FALSE);
  } else {
    set_status(self, NULL, FALSE);
  }
}

static void
show_intro(SimclrStudioDownloadDialog *self)
{
  const ScDownloadSource *s = self->source;
  g_autofree char *archive = g_format_size(s->archive_bytes);
  g_autofree char *unpacked = g_format_size(sc_download_source_unpacked_bytes(s));
  g_autoptr(GUri) uri = g_uri_parse(s->url, G_URI_FLAGS_NONE, NULL);
  const char *host = uri != NULL ? g_uri_get_host(uri) : NULL;
  if (host == NULL || *host == '\0')
    host = "its address";
  g_autofree char *text = g_strdup_printf(
    "Download %s (%s) from %s and unpack it (%s), or import a copy you already have. "
    "The folder %s then becomes the data set.", s->archive_name,
    s->archive_bytes > 0 ? archive : "size unknown", host,
    s->files != NULL ? unpacked : "size unknown", s->folder_name);
  gtk_label_set_text(self->intro_label, text);
}

static void
set_running(SimclrStudioDownloadDialog *self, gboolean running)
{
  gtk_widget_set_sensitive(self->download_button, !running);
  gtk_widget_set_sensitive(self->import_archive_button, !running);
  gtk_widget_set_sensitive(self->import_folder_button, !running);
  gtk_widget_set_sensitive(self->destination_button, !running);
  gtk_widget_set_sensitive(self->cancel_button, running);
}

/* ---- The worker and its progress ---- */

static gboolean
progress_idle_cb(gpointer data)
{
  Job *job = data;
  g_mutex_lock(&job->lock);
  ScDownloadProgress p = job->progress;
  job->idle_pending = FALSE;
  g_mutex_unlock(&job->lock);

  SimclrStudioDownloadDialog *self = job->dialog;
  if (self == NULL || self->job != job)
    return G_SOURCE_REMOVE; /* the dialog is gone or runs newer work */
  if (p.total_bytes > 0)
    gtk_progress_bar_set_fraction(self->progress_bar,
                                  (double)p.done_bytes / (double)p.total_bytes);
  else
    gtk_progress_bar_pulse(self->progress_bar);
  g_autofree char *text = progress_text(&p);
  gtk_label_set_text(self->progress_label, text);
  self->shown_bytes = p.done_bytes;
  return G_SOURCE_REMOVE;
}

/* On the worker thread: no GTK here. */
static void
progress_cb(const ScDownloadProgress *progress, gpointer user_data)
{
  Job *job = user_data;
  g_mutex_lock(&job->lock);
  job->progress = *progress;
  gboolean queue = !job->idle_pending;
  job->idle_pending = TRUE;
  g_mutex_unlock(&job->lock);
  if (queue)
    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, progress_idle_cb, g_atomic_rc_box_acquire(job),
                    (GDestroyNotify)job_unref);
}

static void
work_thread(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Work *work = task_data;
  ScDownloadOptions options = {
    .progress = progress_cb,
    .user_data = work->job,
    .cancellable = cancellable,
  };
  GError *error = NULL;
  char *dataset_path = NULL;
  gboolean ok = FALSE;
  switch (work->kind) {
  case WORK_DOWNLOAD:
    ok = sc_download_dataset(work->source, work->path, &options, &dataset_path, &error);
    break;
  case WORK_ARCHIVE:
    /* Into the destination, beside what Download would make there. A folder
     * that cannot be made is reported by the import, with what to do. */
    g_mkdir_with_parents(work->dest_dir, 0755);
    ok = sc_import_archive(work->source, work->path, work->dest_dir, &options, &dataset_path,
                           &error);
    break;
  case WORK_FOLDER:
    ok = sc_import_folder(work->source, work->path, &options, &dataset_path, &error);
    break;
  }
  if (ok)
    g_task_return_pointer(task, dataset_path, g_free);
  else
    g_task_return_error(task, error);
}

/* A folder without the data set's files is most likely another folder, not
 * a damaged copy: name every expected file that is not there (in the folder
 * or in its <folder_name> sub-folder, where the import looks too). NULL
 * when all are there. */
static char *
missing_files_message(const ScDownloadSource *source, const char *folder)
{
  g_autofree char *inner = g_build_filename(folder, source->folder_name, NULL);
  const char *root = g_file_test(inner, G_FILE_TEST_IS_DIR) ? inner : folder;
  g_autoptr(GString) missing = g_string_new(NULL);
  guint n_missing = 0, n_files = 0;
  for (const ScDownloadFile *f = source->files; f != NULL && f->name != NULL; f++) {
    n_files++;
    g_autofree char *path = g_build_filename(root, f->name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      continue;
    g_string_append_printf(missing, "%s%s", n_missing++ > 0 ? ", " : "", f->name);
  }
  if (n_missing == 0)
    return NULL;
  if (n_missing == n_files)
    return g_strdup_printf("%s is not an unpacked STL-10 folder: none of the STL-10 files "
                           "(%s) is there. Choose the %s folder that the archive unpacks "
                           "to, or its parent", root, missing->str, source->folder_name);
  return g_strdup_printf("%s lacks %u of the %u STL-10 files: %s. Unpack the archive again "
                         "or download it again", root, n_missing, n_files, missing->str);
}

static void
work_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  SimclrStudioDownloadDialog *self = SIMCLR_STUDIO_DOWNLOAD_DIALOG(source);
  Work *work = g_task_get_task_data(G_TASK(result));
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_task_propagate_pointer(G_TASK(result), &error);
  if (self->job != work->job)
    return; /* closed: the user gave the work up */

  g_clear_pointer(&self->job, job_unref);
  g_clear_object(&self->cancellable);
  set_running(self, FALSE);
  if (path != NULL) {
    gtk_progress_bar_set_fraction(self->progress_bar, 1.0);
    g_autofree char *text = g_strdup_printf(
      "Ready: %s is now the data set; the window shows its format and counts.", path);
    set_status(self, text, FALSE);
    gtk_label_set_text(self->progress_label, "Done");
    g_free(self->dataset_path);
    self->dataset_path = g_strdup(path);
    /* The same key the data panel's folder chooser writes: the panel opens it. */
    g_autofree char *parent = g_path_get_dirname(path);
    g_settings_set_string(self->settings, SC_KEY_LAST_FOLDER, parent);
    g_settings_set_string(self->settings, SC_KEY_DATA_FOLDER, path);
  } else {
    gboolean cancelled = g_error_matches(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CANCELLED);
    g_autofree char *missing = work->kind == WORK_FOLDER
                                   && g_file_test(work->path, G_FILE_TEST_IS_DIR)
                                 ? missing_files_message(work->source, work->path)
                                 : NULL;
    if (missing != NULL) {
      g_free(error->message);
      error->message = g_steal_pointer(&missing);
    }
    set_status(self, error->message, !cancelled);
    gtk_label_set_text(self->progress_label, cancelled ? "Cancelled" : "Failed");
    self->error = g_steal_pointer(&error);
  }
}

static gboolean
start(SimclrStudioDownloadDialog *self, WorkKind kind, const char *path)
{
  if (self->job != NULL)
    return FALSE;
  g_clear_error(&self->error);
  g_clear_pointer(&self->dataset_path, g_free);
  self->shown_bytes = 0;

  Job *job = g_atomic_rc_box_new0(Job);
  g_mutex_init(&job->lock);
  job->dialog = self;
  self->job = job;
  Work *work = g_new0(Work, 1);
  work->kind = kind;
  work->source = self->source;
  work->path = g_strdup(path);
  work->dest_dir = g_strdup(self->destination);
  work->job = g_atomic_rc_box_acquire(job);

  self->cancellable = g_cancellable_new();
  show_intro(self); /* the source's address may have been filled in since */
  set_running(self, TRUE);
  set_status(self, NULL, FALSE);
  gtk_progress_bar_set_fraction(self->progress_bar, 0.0);
  gtk_label_set_text(self->progress_label, "Starting");
  g_autoptr(GTask) task = g_task_new(self, self->cancellable, work_done_cb, NULL);
  g_task_set_task_data(task, work, (GDestroyNotify)work_free);
  g_task_set_name(task, "[simclr-studio] get data set");
  /* The engine's own cancel error says what was kept: let it through. */
  g_task_set_check_cancellable(task, FALSE);
  g_task_run_in_thread(task, work_thread);
  return TRUE;
}

/* ---- Buttons and choosers ---- */

typedef void (*ChooserDone)(SimclrStudioDownloadDialog *self, const char *path);

static void
chooser_response_cb(GtkNativeDialog *dialog, int response, gpointer user_data)
{
  SimclrStudioDownloadDialog *self = user_data;
  ChooserDone done = g_object_get_data(G_OBJECT(dialog), "sc-done");
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = file != NULL ? g_file_get_path(file) : NULL;
    if (path != NULL)
      done(self, path);
  }
  g_clear_object(&self->chooser);
}

static void
choose(SimclrStudioDownloadDialog *self, const char *title, GtkFileChooserAction action,
       const char *start_dir, ChooserDone done)
{
  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new(title, GTK_WINDOW(self), action, "_Select",
                                              "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
  if (action == GTK_FILE_CHOOSER_ACTION_OPEN) {
    g_autoptr(GtkFileFilter) filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, self->source->archive_name);
    gtk_file_filter_add_pattern(filter, "*.tar.gz");
    gtk_file_filter_add_pattern(filter, "*.tgz");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), filter);
  }
  if (start_dir != NULL && g_file_test(start_dir, G_FILE_TEST_IS_DIR)) {
    g_autoptr(GFile) folder = g_file_new_for_path(start_dir);
    gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(self->chooser), folder, NULL);
  }
  g_object_set_data(G_OBJECT(self->chooser), "sc-done", (gpointer)done);
  g_signal_connect(self->chooser, "response", G_CALLBACK(chooser_response_cb), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void
destination_chosen(SimclrStudioDownloadDialog *self, const char *path)
{
  simclr_studio_download_dialog_set_destination(self, path);
}

static void
archive_chosen(SimclrStudioDownloadDialog *self, const char *path)
{
  simclr_studio_download_dialog_import_archive(self, path);
}

static void
folder_chosen(SimclrStudioDownloadDialog *self, const char *path)
{
  simclr_studio_download_dialog_import_folder(self, path);
}

static char *
downloads_dir(void)
{
  const char *dir = g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD);
  return g_strdup(dir != NULL ? dir : g_get_home_dir());
}

static void
destination_clicked_cb(SimclrStudioDownloadDialog *self)
{
  choose(self, "Choose Where to Download", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
         self->destination, destination_chosen);
}

static void
import_archive_clicked_cb(SimclrStudioDownloadDialog *self)
{
  g_autofree char *dir = downloads_dir();
  choose(self, "Import an STL-10 Archive", GTK_FILE_CHOOSER_ACTION_OPEN, dir, archive_chosen);
}

static void
import_folder_clicked_cb(SimclrStudioDownloadDialog *self)
{
  g_autofree char *dir = downloads_dir();
  choose(self, "Import an Unpacked STL-10 Folder", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, dir,
         folder_chosen);
}

static void
cancel_clicked_cb(SimclrStudioDownloadDialog *self)
{
  simclr_studio_download_dialog_cancel(self);
}

static void
download_clicked_cb(SimclrStudioDownloadDialog *self)
{
  simclr_studio_download_dialog_download(self);
}

/* ---- GObject ---- */

/* Closing or destroying the dialog gives the work up: the worker stops soon
 * after and its result is dropped. A cancelled download keeps its .part for
 * the next time. (The running GTask holds the dialog until then, so this
 * cannot wait for dispose.) */
static void
give_up(SimclrStudioDownloadDialog *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel(self->cancellable);
  if (self->job != NULL)
    self->job->dialog = NULL;
  g_clear_pointer(&self->job, job_unref);
  g_clear_object(&self->cancellable);
}

static void
simclr_studio_download_dialog_unmap(GtkWidget *widget)
{
  SimclrStudioDownloadDialog *self = SIMCLR_STUDIO_DOWNLOAD_DIALOG(widget);
  give_up(self);
  if (self->download_button != NULL) /* NULL when unmapped after dispose */
    set_running(self, FALSE);         /* shown again, it starts idle */
  GTK_WIDGET_CLASS(simclr_studio_download_dialog_parent_class)->unmap(widget);
}

static void
simclr_studio_download_dialog_dispose(GObject *object)
{
  SimclrStudioDownloadDialog *self = SIMCLR_STUDIO_DOWNLOAD_DIALOG(object);
  give_up(self);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
  g_clear_object(&self->chooser);
  g_clear_object(&self->settings);
  gtk_widget_dispose_template(GTK_WIDGET(self), SIMCLR_STUDIO_TYPE_DOWNLOAD_DIALOG);
  G_OBJECT_CLASS(simclr_studio_download_dialog_parent_class)->dispose(object);
}

static void
simclr_studio_download_dialog_finalize(GObject *object)
{
  SimclrStudioDownloadDialog *self = SIMCLR_STUDIO_DOWNLOAD_DIALOG(object);
  g_free(self->destination);
  g_free(self->dataset_path);
  g_clear_error(&self->error);
  G_OBJECT_CLASS(simclr_studio_download_dialog_parent_class)->finalize(object);
}

static void
simclr_studio_download_dialog_class_init(SimclrStudioDownloadDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = simclr_studio_download_dialog_dispose;
  object_class->finalize = simclr_studio_download_dialog_finalize;
  widget_class->unmap = simclr_studio_download_dialog_unmap;

  gtk_widget_class_set_template_from_resource(
    widget_class, SC_RESOURCE_PATH "/simclr-studio-download-dialog.ui");
#define BIND(name) \
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioDownloadDialog, name)
  BIND(intro_label);
  BIND(destination_row);
  BIND(destination_button);
  BIND(progress_bar);
  BIND(progress_label);
  BIND(status_label);
  BIND(import_archive_button);
  BIND(import_folder_button);
  BIND(cancel_button);
  BIND(download_button);
#undef BIND
  gtk_widget_class_bind_template_callback(widget_class, destination_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, import_archive_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, import_folder_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, cancel_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, download_clicked_cb);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
simclr_studio_download_dialog_init(SimclrStudioDownloadDialog *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  self->source = sc_download_source_stl10();
  self->destination = g_build_filename(g_get_user_data_dir(), "simclr-studio", "datasets",
                                       NULL);
  show_intro(self);
  show_destination(self);
}

SimclrStudioDownloadDialog *
simclr_studio_download_dialog_new(GtkWindow *parent, GSettings *settings)
{
  g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
  SimclrStudioDownloadDialog *self =
    g_object_new(SIMCLR_STUDIO_TYPE_DOWNLOAD_DIALOG, "transient-for", parent, NULL);
  self->settings = g_object_ref(settings);
  return self;
}

void
simclr_studio_download_dialog_set_source(SimclrStudioDownloadDialog *self,
                                         const ScDownloadSource *source)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self));
  g_return_if_fail(source != NULL && self->job == NULL);
  self->source = source;
  show_intro(self);
  show_destination(self);
}

void
simclr_studio_download_dialog_set_destination(SimclrStudioDownloadDialog *self,
                                              const char *dir)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self));
  g_return_if_fail(dir != NULL && self->job == NULL);
  g_free(self->destination);
  self->destination = g_strdup(dir);
  show_destination(self);
}

const char *
simclr_studio_download_dialog_get_destination(SimclrStudioDownloadDialog *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self), NULL);
  return self->destination;
}

gboolean
simclr_studio_download_dialog_download(SimclrStudioDownloadDialog *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self), FALSE);
  return start(self, WORK_DOWNLOAD, self->destination);
}

gboolean
simclr_studio_download_dialog_import_archive(SimclrStudioDownloadDialog *self,
                                             const char *archive_path)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self), FALSE);
  g_return_val_if_fail(archive_path != NULL, FALSE);
  return start(self, WORK_ARCHIVE, archive_path);
}

gboolean
simclr_studio_download_dialog_import_folder(SimclrStudioDownloadDialog *self,
                                            const char *folder)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self), FALSE);
  g_return_val_if_fail(folder != NULL, FALSE);
  return start(self, WORK_FOLDER, folder);
}

void
simclr_studio_download_dialog_cancel(SimclrStudioDownloadDialog *self)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self));
  if (self->cancellable != NULL)
    g_cancellable_cancel(self->cancellable);
}

gboolean
simclr_studio_download_dialog_get_running(SimclrStudioDownloadDialog *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self), FALSE);
  return self->job != NULL;
}

const char *
simclr_studio_download_dialog_get_dataset_path(SimclrStudioDownloadDialog *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self), NULL);
  return self->dataset_path;
}

const GError *
simclr_studio_download_dialog_get_error(SimclrStudioDownloadDialog *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self), NULL);
  return self->error;
}

guint64
simclr_studio_download_dialog_get_shown_bytes(SimclrStudioDownloadDialog *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_DOWNLOAD_DIALOG(self), 0);
  return self->shown_bytes;
}
