/* The "Get STL-10" dialog: an import of an unpacked folder or an archive
 * and a download from a libsoup server on 127.0.0.1 (never the internet)
 * make the window's data set the new folder; a damaged file or a wrong
 * address leaves it as it was, with the reason; a cancelled download keeps
 * its partial file, leaves no unpacked folder behind and resumes with a
 * Range request; closing the dialog cancels. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "simclr-studio-download-dialog.h"
#include "simclr-studio-run-folders.h"
#include "simclr-studio-screenshot.h"
#include "simclr-studio-settings.h"
#include "simclr-studio-window-private.h"
#include "test-app-util.h"
#include "test-data-fixtures.h"
#include "test-http-server.h"
#include "test-util.h"

#define ARCHIVE_NAME "stl10_binary.tar.gz"
#define N_TRAIN 10
#define N_TEST 6
#define N_UNLABELED 20

static const char *const bin_names[5] = {
  "train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin", "unlabeled_X.bin",
};

/* ---- A small STL-10 in a folder and in a tar.gz ---- */

typedef struct {
  char *root;          /* temporary folder */
  char *folder;        /* root/src/stl10_binary */
  GBytes *archive;     /* tar.gz of folder as stl10_binary/ */
  char *archive_md5;
  char *file_md5[5];
  ScDownloadFile files[6];
  char url[128];
  ScDownloadSource source;
} Stl10;

static GBytes *
read_bytes(const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  char *data;
  gsize len;
  g_file_get_contents(path, &data, &len, &error);
  g_assert_no_error(error);
  return g_bytes_new_take(data, len);
}

static void
stl10_init(Stl10 *s)
{
  s->root = sc_test_mkdtemp();
  s->folder = g_build_filename(s->root, "src", "stl10_binary", NULL);
  fx_stl10_folder(s->folder, N_TRAIN, N_TEST, N_UNLABELED);

  ScTestEntry entries[8] = { { "stl10_binary/", NULL } };
  GBytes *data[6];
  for (int i = 0; i < 6; i++) {
    const char *name = i < 5 ? bin_names[i] : "class_names.txt";
    data[i] = read_bytes(s->folder, name);
    entries[i + 1] = (ScTestEntry){ g_strconcat("stl10_binary/", name, NULL), data[i] };
    if (i < 5) {
      s->file_md5[i] = g_compute_checksum_for_bytes(G_CHECKSUM_MD5, data[i]);
      s->files[i] = (ScDownloadFile){ bin_names[i], g_bytes_get_size(data[i]), s->file_md5[i] };
    }
  }
  s->archive = sc_test_targz(entries);
  for (int i = 0; i < 6; i++) {
    g_free((char *)entries[i + 1].name);
    g_bytes_unref(data[i]);
  }
  s->archive_md5 = g_compute_checksum_for_bytes(G_CHECKSUM_MD5, s->archive);
  s->source = (ScDownloadSource){
    .url = s->url,
    .archive_name = ARCHIVE_NAME,
    .archive_bytes = g_bytes_get_size(s->archive),
    .archive_md5 = s->archive_md5,
    .folder_name = "stl10_binary",
    .format = SC_FORMAT_STL10,
    .files = s->files,
  };
}

static void
stl10_clear(Stl10 *s)
{
  sc_test_rmtree(s->root);
  g_free(s->root);
  g_free(s->folder);
  g_bytes_unref(s->archive);
  g_free(s->archive_md5);
  for (int i = 0; i < 5; i++)
    g_free(s->file_md5[i]);
}

static guint server_port;

static gboolean
server_hung_up(gpointer data)
{
  return sc_test_server_hung_up();
}

/* ---- The window and its dialog ---- */

typedef struct {
  GSettings *settings;
  SimclrStudioWindow *window;
  SimclrStudioDownloadDialog *dialog;
  char *data_home;
  Stl10 stl10;
} Fixture;

static gboolean
not_loading(gpointer data)
{
  return !simclr_studio_window_get_loading(data);
}

static gboolean
dialog_idle(gpointer data)
{
  return !simclr_studio_download_dialog_get_running(data);
}

static gboolean
bytes_shown(gpointer data)
{
  return simclr_studio_download_dialog_get_shown_bytes(data) > 0;
}

static gboolean
dialog_gone(gpointer data)
{
  return ((Fixture *)data)->dialog == NULL;
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  f->data_home = sc_test_mkdtemp();
  g_setenv("XDG_DATA_HOME", f->data_home, TRUE);
  g_autoptr(GError) error = NULL;
  f->settings = simclr_studio_settings_new(TRUE, &error);
  g_assert_no_error(error);
  stl10_init(&f->stl10);

  f->window = simclr_studio_window_new(NULL, f->settings);
  g_autofree char *runs = g_build_filename(f->data_home, "simclr-studio", "runs", NULL);
  simclr_studio_window_set_runs_root(f->window, runs, SIMCLR_STUDIO_RUNS_KEPT);
  sc_app_test_show(GTK_WINDOW(f->window));
  g_assert_true(sc_app_test_wait(not_loading, f->window, 60));

  /* The dialog the data panel's button opens, pointed at the test source. */
  GtkWindow *dialog = simclr_studio_data_panel_open_download_dialog(f->window->data_panel);
  g_assert_nonnull(dialog);
  g_assert_true(gtk_window_get_transient_for(dialog) == GTK_WINDOW(f->window));
  g_assert_true(gtk_window_get_modal(dialog));
  f->dialog = SIMCLR_STUDIO_DOWNLOAD_DIALOG(dialog);
  g_object_add_weak_pointer(G_OBJECT(f->dialog), (gpointer *)&f->dialog);
  g_assert_true(simclr_studio_data_panel_open_download_dialog(f->window->data_panel) == dialog);
  simclr_studio_download_dialog_set_source(f->dialog, &f->stl10.source);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  if (f->dialog != NULL)
    gtk_window_destroy(GTK_WINDOW(f->dialog));
  gtk_window_destroy(GTK_WINDOW(f->window));
  g_clear_object(&f->settings);
  stl10_clear(&f->stl10);
  sc_test_rmtree(f->data_home);
  g_free(f->data_home);
}

/* The window opened path as its data set: the small STL-10 of the fixture. */
static void
assert_window_shows(Fixture *f, const char *path)
{
  g_autofree char *folder = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_cmpstr(folder, ==, path);
  g_assert_true(sc_app_test_wait(not_loading, f->window, 60));
  const ScDataset *d = simclr_studio_data_panel_get_dataset(f->window->data_panel);
  g_assert_nonnull(d);
  g_assert_cmpint(d->format, ==, SC_FORMAT_STL10);
  g_assert_cmpuint(sc_split_count(d->train), ==, N_TRAIN);
  g_assert_cmpuint(sc_split_count(d->test), ==, N_TEST);
  g_assert_nonnull(d->unlabeled);
  g_assert_cmpuint(sc_split_count(d->unlabeled), ==, N_UNLABELED);
  g_assert_cmpint(sc_split_width(d->train), ==, 96);
}

/* No folder in dir starts with the prefix. */
static void
assert_no_entry_starting(const char *dir, const char *prefix)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  for (const char *name; (name = g_dir_read_name(d)) != NULL;)
    if (g_str_has_prefix(name, prefix))
      g_error("%s/%s is left behind", dir, name);
}

/* With SC_TEST_SCREENSHOT_DIR set, the dialog as drawn now goes to
 * DIR/name.png, for a person to look at. */
static void
maybe_screenshot(Fixture *f, const char *name)
{
  const char *dir = g_getenv("SC_TEST_SCREENSHOT_DIR");
  if (dir == NULL)
    return;
  sc_app_test_wait_frame(GTK_WIDGET(f->dialog));
  g_autofree char *file = g_strconcat(name, ".png", NULL);
  g_autofree char *path = g_build_filename(dir, file, NULL);
  g_autoptr(GError) error = NULL;
  simclr_studio_save_widget_png(GTK_WIDGET(f->dialog), path, &error);
  g_assert_no_error(error);
}

static void
test_import_folder(Fixture *f, gconstpointer data)
{
  /* The parent of stl10_binary is accepted, as the file chooser may give it. */
  g_autofree char *parent = g_path_get_dirname(f->stl10.folder);
  g_assert_true(simclr_studio_download_dialog_import_folder(f->dialog, parent));
  g_assert_false(simclr_studio_download_dialog_import_folder(f->dialog, parent));
  g_assert_true(sc_app_test_wait(dialog_idle, f->dialog, 60));
  g_assert_null(simclr_studio_download_dialog_get_error(f->dialog));
  g_assert_cmpstr(simclr_studio_download_dialog_get_dataset_path(f->dialog), ==,
                  f->stl10.folder);
  assert_window_shows(f, f->stl10.folder);
}

/* A folder of something else (a 3-class PNG folder): the error says which
 * STL-10 files were expected there, not that the copy is incomplete. */
static void
test_import_other_folder(Fixture *f, gconstpointer data)
{
  g_autofree char *other = g_build_filename(f->stl10.root, "pngs", NULL);
  static const guint8 grey[3] = { 128, 128, 128 };
  for (int k = 0; k < 3; k++) {
    g_autofree char *name = g_strdup_printf("class%d/0.png", k);
    g_autofree char *path = g_build_filename(other, name, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    fx_write_image(path, 8, 8, grey, FALSE);
  }
  g_assert_true(simclr_studio_download_dialog_import_folder(f->dialog, other));
  g_assert_true(sc_app_test_wait(dialog_idle, f->dialog, 60));
  const GError *error = simclr_studio_download_dialog_get_error(f->dialog);
  g_assert_nonnull(error);
  g_test_message("%s", error->message);
  g_assert_null(strstr(error->message, "incomplete"));
  g_assert_nonnull(strstr(error->message, "not an unpacked STL-10 folder"));
  g_assert_nonnull(strstr(error->message, other));
  for (int i = 0; i < 5; i++)
    g_assert_nonnull(strstr(error->message, bin_names[i]));
  maybe_screenshot(f, "download-dialog-other-folder");
}

static void
test_import_folder_fails(Fixture *f, gconstpointer data)
{
  /* A truncated file: the error names it and the data set stays as it was. */
  g_autofree char *before = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_autofree char *labels = g_build_filename(f->stl10.folder, "test_y.bin", NULL);
  g_assert_cmpint(truncate(labels, 2), ==, 0);
  g_assert_true(simclr_studio_download_dialog_import_folder(f->dialog, f->stl10.folder));
  g_assert_true(sc_app_test_wait(dialog_idle, f->dialog, 60));
  const GError *error = simclr_studio_download_dialog_get_error(f->dialog);
  g_assert_nonnull(error);
  g_assert_true(error->domain == SC_DOWNLOAD_ERROR);
  g_assert_nonnull(strstr(error->message, "test_y.bin"));
  maybe_screenshot(f, "download-dialog-error");
  g_assert_null(simclr_studio_download_dialog_get_dataset_path(f->dialog));
  g_autofree char *after = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_cmpstr(after, ==, before);
}

static void
test_import_archive(Fixture *f, gconstpointer data)
{
  /* Unpacked into the destination; the archive stays where it was. */
  g_autofree char *archive = g_build_filename(f->stl10.root, ARCHIVE_NAME, NULL);
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *bytes = g_bytes_get_data(f->stl10.archive, &len);
  g_file_set_contents(archive, bytes, (gssize)len, &error);
  g_assert_no_error(error);
  g_autofree char *dest = g_build_filename(f->stl10.root, "datasets", NULL);
  simclr_studio_download_dialog_set_destination(f->dialog, dest);
  g_assert_true(simclr_studio_download_dialog_import_archive(f->dialog, archive));
  g_assert_true(sc_app_test_wait(dialog_idle, f->dialog, 60));
  g_assert_null(simclr_studio_download_dialog_get_error(f->dialog));
  g_autofree char *folder = g_build_filename(dest, "stl10_binary", NULL);
  g_assert_cmpstr(simclr_studio_download_dialog_get_dataset_path(f->dialog), ==, folder);
  g_assert_true(g_file_test(archive, G_FILE_TEST_IS_REGULAR));
  assert_window_shows(f, folder);
}

static void
test_download(Fixture *f, gconstpointer data)
{
  server_port = sc_test_server_start("/" ARCHIVE_NAME, f->stl10.archive);
  g_snprintf(f->stl10.url, sizeof f->stl10.url, "http://127.0.0.1:%u/" ARCHIVE_NAME,
             server_port);
  g_autofree char *dest = g_build_filename(f->stl10.root, "datasets", NULL);
  simclr_studio_download_dialog_set_destination(f->dialog, dest);
  g_assert_true(simclr_studio_download_dialog_download(f->dialog));
  g_assert_true(sc_app_test_wait(dialog_idle, f->dialog, 60));
  sc_test_server_stop();

  g_assert_null(simclr_studio_download_dialog_get_error(f->dialog));
  g_autofree char *folder = g_build_filename(dest, "stl10_binary", NULL);
  g_assert_cmpstr(simclr_studio_download_dialog_get_dataset_path(f->dialog), ==, folder);
  maybe_screenshot(f, "download-dialog-done");
  /* The archive is deleted once unpacked; train_X.bin has the served bytes. */
  g_autofree char *archive = g_build_filename(dest, ARCHIVE_NAME, NULL);
  g_assert_false(g_file_test(archive, G_FILE_TEST_EXISTS));
  g_autoptr(GBytes) train = read_bytes(folder, "train_X.bin");
  g_autofree char *md5 = g_compute_checksum_for_bytes(G_CHECKSUM_MD5, train);
  g_assert_cmpstr(md5, ==, f->stl10.file_md5[0]);
  assert_window_shows(f, folder);
}

static void
test_download_not_found(Fixture *f, gconstpointer data)
{
  /* A wrong address: the server's answer is named and nothing switches. */
  server_port = sc_test_server_start("/" ARCHIVE_NAME, f->stl10.archive);
  g_snprintf(f->stl10.url, sizeof f->stl10.url, "http://127.0.0.1:%u/missing.tar.gz",
             server_port);
  g_autofree char *dest = g_build_filename(f->stl10.root, "datasets", NULL);
  simclr_studio_download_dialog_set_destination(f->dialog, dest);
  g_autofree char *before = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_true(simclr_studio_download_dialog_download(f->dialog));
  g_assert_true(sc_app_test_wait(dialog_idle, f->dialog, 60));
  sc_test_server_stop();
  const GError *error = simclr_studio_download_dialog_get_error(f->dialog);
  g_assert_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_HTTP);
  g_assert_nonnull(strstr(error->message, "404"));
  g_assert_null(simclr_studio_download_dialog_get_dataset_path(f->dialog));
  g_autofree char *after = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_cmpstr(after, ==, before);
}

static void
test_cancel_and_resume(Fixture *f, gconstpointer data)
{
  gsize archive_bytes = g_bytes_get_size(f->stl10.archive);
  server_port = sc_test_server_start("/" ARCHIVE_NAME, f->stl10.archive);
  sc_test_server_set(SC_SERVE_STALL, 0, archive_bytes / 2);
  g_snprintf(f->stl10.url, sizeof f->stl10.url, "http://127.0.0.1:%u/" ARCHIVE_NAME,
             server_port);
  g_autofree char *dest = g_build_filename(f->stl10.root, "datasets", NULL);
  simclr_studio_download_dialog_set_destination(f->dialog, dest);
  g_autofree char *before = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);

  /* Cancel once the first half arrived and the server waits. */
  g_assert_true(simclr_studio_download_dialog_download(f->dialog));
  g_assert_true(sc_app_test_wait(bytes_shown, f->dialog, 60));
  maybe_screenshot(f, "download-dialog-running");
  simclr_studio_download_dialog_cancel(f->dialog);
  g_assert_true(sc_app_test_wait(dialog_idle, f->dialog, 60));
  maybe_screenshot(f, "download-dialog-cancelled");
  const GError *error = simclr_studio_download_dialog_get_error(f->dialog);
  g_assert_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CANCELLED);

  g_autofree char *part = g_build_filename(dest, ARCHIVE_NAME ".part", NULL);
  GStatBuf st;
  g_assert_cmpint(g_stat(part, &st), ==, 0);
  g_assert_cmpint(st.st_size, >, 0);
  g_assert_cmpint(st.st_size, <=, (goffset)(archive_bytes / 2));
  g_autofree char *folder = g_build_filename(dest, "stl10_binary", NULL);
  g_assert_false(g_file_test(folder, G_FILE_TEST_EXISTS));
  assert_no_entry_starting(dest, ".stl10_binary.partial-");
  g_autofree char *after = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_cmpstr(after, ==, before);

  /* Download again: the part is resumed from where it ends. */
  g_assert_true(sc_app_test_wait(server_hung_up, NULL, 30));
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  g_assert_true(simclr_studio_download_dialog_download(f->dialog));
  g_assert_true(sc_app_test_wait(dialog_idle, f->dialog, 60));
  g_assert_null(simclr_studio_download_dialog_get_error(f->dialog));
  g_autofree char *range = g_strdup_printf("bytes=%" G_GINT64_FORMAT "-", (gint64)st.st_size);
  g_autofree char *last_range = sc_test_server_last_range();
  g_assert_cmpstr(last_range, ==, range);
  sc_test_server_stop();
  assert_window_shows(f, folder);
}

static void
test_close_cancels(Fixture *f, gconstpointer data)
{
  gsize archive_bytes = g_bytes_get_size(f->stl10.archive);
  server_port = sc_test_server_start("/" ARCHIVE_NAME, f->stl10.archive);
  sc_test_server_set(SC_SERVE_STALL, 0, archive_bytes / 2);
  g_snprintf(f->stl10.url, sizeof f->stl10.url, "http://127.0.0.1:%u/" ARCHIVE_NAME,
             server_port);
  g_autofree char *dest = g_build_filename(f->stl10.root, "datasets", NULL);
  simclr_studio_download_dialog_set_destination(f->dialog, dest);
  g_autofree char *before = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_true(simclr_studio_download_dialog_download(f->dialog));
  g_assert_true(sc_app_test_wait(bytes_shown, f->dialog, 60));

  /* Closing the dialog hangs up on the server and switches nothing. */
  gtk_window_close(GTK_WINDOW(f->dialog));
  g_assert_true(sc_app_test_wait(server_hung_up, NULL, 30));
  /* Freed once its worker has ended. */
  g_assert_true(sc_app_test_wait(dialog_gone, f, 30));
  sc_test_server_stop();
  g_autofree char *part = g_build_filename(dest, ARCHIVE_NAME ".part", NULL);
  g_assert_true(g_file_test(part, G_FILE_TEST_IS_REGULAR));
  g_autofree char *folder = g_build_filename(dest, "stl10_binary", NULL);
  g_assert_false(g_file_test(folder, G_FILE_TEST_EXISTS));
  g_autofree char *after = g_settings_get_string(f->settings, SC_KEY_DATA_FOLDER);
  g_assert_cmpstr(after, ==, before);
  /* The button opens a fresh dialog. */
  GtkWindow *again = simclr_studio_data_panel_open_download_dialog(f->window->data_panel);
  g_assert_nonnull(again);
  gtk_window_destroy(again);
}

int
main(int argc, char **argv)
{
  /* Straight to 127.0.0.1 whatever proxy the environment names. */
  g_setenv("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  if (!sc_app_test_init(&argc, &argv))
    return 0;
  g_test_add("/App/Download/import-folder", Fixture, NULL, fixture_set_up,
             test_import_folder, fixture_tear_down);
  g_test_add("/App/Download/import-folder-fails", Fixture, NULL, fixture_set_up,
             test_import_folder_fails, fixture_tear_down);
  g_test_add("/App/Download/import-other-folder", Fixture, NULL, fixture_set_up,
             test_import_other_folder, fixture_tear_down);
  g_test_add("/App/Download/import-archive", Fixture, NULL, fixture_set_up,
             test_import_archive, fixture_tear_down);
  g_test_add("/App/Download/download", Fixture, NULL, fixture_set_up, test_download,
             fixture_tear_down);
  g_test_add("/App/Download/not-found", Fixture, NULL, fixture_set_up,
             test_download_not_found, fixture_tear_down);
  g_test_add("/App/Download/cancel-and-resume", Fixture, NULL, fixture_set_up,
             test_cancel_and_resume, fixture_tear_down);
  g_test_add("/App/Download/close-cancels", Fixture, NULL, fixture_set_up,
             test_close_cancels, fixture_tear_down);
  return g_test_run();
}
