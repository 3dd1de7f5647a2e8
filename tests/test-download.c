/* Download and import of data set archives, against a libsoup server on
 * 127.0.0.1 that serves a small STL-10 archive made at test time. Nothing
 * here reaches beyond the loopback address. */
#include <gio/gio.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "cli-download.h"

#include "data/dataset.h"
#include "data/download.h"
#include "data/readers.h"
#include "test-data-fixtures.h"
#include "test-http-server.h"
#include "test-util.h"

#define ARCHIVE_NAME "stl10_binary.tar.gz"
#define N_TRAIN 10
#define N_TEST 6
#define N_UNLABELED 20 /* random bytes: they keep the archive large (~0.6 MB) */

/* ---- The data set, in files and in an archive ---- */

static GBytes *
stl10_labels(size_t n, guint8 first_label)
{
  guint8 *labels = g_new(guint8, n);
  for (size_t i = 0; i < n; i++)
    labels[i] = (guint8)(i % 10 + 1);
  labels[0] = first_label;
  return g_bytes_new_take(labels, n);
}

static GBytes *
random_bytes(gsize n)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(7);
  guint8 *data = g_malloc(n);
  for (gsize i = 0; i < n; i++)
    data[i] = (guint8)g_rand_int_range(rand, 0, 256);
  return g_bytes_new_take(data, n);
}

/* The data set's files, in STL-10 layout below `top` (e.g. "stl10_binary"). */
typedef struct {
  GBytes *files[6];
  ScTestEntry entries[9];
} Stl10Files;

static const char *const stl10_names[6] = {
  "train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin", "unlabeled_X.bin", "class_names.txt",
};

static void
stl10_files_init(Stl10Files *f, const char *top, guint8 first_train_label)
{
  GByteArray *train = fx_stl10_records(N_TRAIN);
  GByteArray *test = fx_stl10_records(N_TEST);
  f->files[0] = g_byte_array_free_to_bytes(train);
  f->files[1] = stl10_labels(N_TRAIN, first_train_label);
  f->files[2] = g_byte_array_free_to_bytes(test);
  f->files[3] = stl10_labels(N_TEST, 1);
  f->files[4] = random_bytes(N_UNLABELED * SC_STL10_RECORD_BYTES);
  static const char names[] = "airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n";
  f->files[5] = g_bytes_new_static(names, strlen(names));
  f->entries[0] = (ScTestEntry){ g_strconcat(top, "/", NULL), NULL };
  for (int i = 0; i < 6; i++)
    f->entries[i + 1] = (ScTestEntry){ g_strconcat(top, "/", stl10_names[i], NULL), f->files[i] };
  f->entries[7] = (ScTestEntry){ NULL, NULL };
}

static void
stl10_files_clear(Stl10Files *f)
{
  for (int i = 0; i < 6; i++)
    g_bytes_unref(f->files[i]);
  for (int i = 0; i < 7; i++)
    g_free((char *)f->entries[i].name);
}

static guint server_port;

/* ---- The source the tests download ---- */

static Stl10Files stl10;
static GBytes *archive;  /* tar.gz of stl10 below stl10_binary/ */
static char *archive_md5;
static ScDownloadFile files[6];
static char *file_md5[5];

/* The archive's source on the loopback server, with its real size and MD5. */
static ScDownloadSource
test_source(void)
{
  static char url[128];
  g_snprintf(url, sizeof url, "http://127.0.0.1:%u/" ARCHIVE_NAME, server_port);
  return (ScDownloadSource){
    .url = url,
    .archive_name = ARCHIVE_NAME,
    .archive_bytes = g_bytes_get_size(archive),
    .archive_md5 = archive_md5,
    .folder_name = "stl10_binary",
    .format = SC_FORMAT_STL10,
    .files = files,
  };
}

static void
setup_source(void)
{
  stl10_files_init(&stl10, "stl10_binary", 1);
  archive = sc_test_targz(stl10.entries);
  archive_md5 = g_compute_checksum_for_bytes(G_CHECKSUM_MD5, archive);
  for (int i = 0; i < 5; i++) {
    file_md5[i] = g_compute_checksum_for_bytes(G_CHECKSUM_MD5, stl10.files[i]);
    files[i] = (ScDownloadFile){ stl10_names[i], g_bytes_get_size(stl10.files[i]), file_md5[i] };
  }
  files[5] = (ScDownloadFile){ NULL, 0, NULL };
}

/* ---- Progress ---- */

typedef struct {
  GArray *reports;             /* ScDownloadProgress, in order */
  GCancellable *cancellable;   /* cancelled once bytes were received, when set */
} Recorder;

static void
record_cb(const ScDownloadProgress *p, gpointer user_data)
{
  Recorder *rec = user_data;
  g_array_append_val(rec->reports, *p);
  if (rec->cancellable != NULL && p->stage == SC_DOWNLOAD_STAGE_DOWNLOADING
      && p->done_bytes > 0)
    g_cancellable_cancel(rec->cancellable);
}

static ScDownloadOptions
recorder_options(Recorder *rec)
{
  rec->reports = g_array_new(FALSE, TRUE, sizeof(ScDownloadProgress));
  return (ScDownloadOptions){ .progress = record_cb, .user_data = rec };
}

static void
recorder_clear(Recorder *rec)
{
  g_array_unref(rec->reports);
  g_clear_object(&rec->cancellable);
}

/* The last report of `stage`, or NULL. */
static const ScDownloadProgress *
last_report(const Recorder *rec, ScDownloadStage stage)
{
  for (guint i = rec->reports->len; i-- > 0;) {
    const ScDownloadProgress *p = &g_array_index(rec->reports, ScDownloadProgress, i);
    if (p->stage == stage)
      return p;
  }
  return NULL;
}

/* Stages only move forward; inside one, done_bytes never falls and never
 * passes a known total. */
static void
assert_reports_ordered(const Recorder *rec)
{
  for (guint i = 1; i < rec->reports->len; i++) {
    const ScDownloadProgress *a = &g_array_index(rec->reports, ScDownloadProgress, i - 1);
    const ScDownloadProgress *b = &g_array_index(rec->reports, ScDownloadProgress, i);
    g_assert_cmpint(b->stage, >=, a->stage);
    if (b->stage == a->stage)
      g_assert_cmpuint(b->done_bytes, >=, a->done_bytes);
    if (b->total_bytes > 0)
      g_assert_cmpuint(b->done_bytes, <=, b->total_bytes);
  }
}

/* ---- Checks of the destination ---- */

static guint64
file_size(const char *path)
{
  GStatBuf st;
  return g_stat(path, &st) == 0 ? (guint64)st.st_size : 0;
}

static char *
in_dir(const char *dir, const char *name)
{
  return g_build_filename(dir, name, NULL);
}

/* The folder opens as the fixture's STL-10 set: counts and pixels. */
static void
assert_dataset(const char *folder)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(folder, SC_FORMAT_STL10, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(sc_split_count(d->train), ==, N_TRAIN);
  g_assert_cmpuint(sc_split_count(d->test), ==, N_TEST);
  g_assert_nonnull(d->unlabeled);
  g_assert_cmpuint(sc_split_count(d->unlabeled), ==, N_UNLABELED);
  g_assert_cmpint(sc_split_labels(d->train)[3], ==, 3); /* byte 4 -> class 3 */
  guint8 img[SC_STL10_RECORD_BYTES];
  sc_split_get_image(d->test, 5, img);
  for (int r = 0; r < 96; r += 19)
    for (int c = 0; c < 96; c += 23)
      for (int ch = 0; ch < 3; ch++)
        g_assert_cmpuint(img[(r * 96 + c) * 3 + ch], ==, fx_pattern(5, r, c, ch));
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted and joined with spaces. */
static char *
dir_listing(const char *dir)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    g_ptr_array_add(names, g_strdup(name));
  g_dir_close(d);
  g_ptr_array_sort(names, compare_names);
  g_ptr_array_add(names, NULL);
  return g_strjoinv(" ", (char **)names->pdata);
}

static void
assert_listing(const char *dir, const char *expected)
{
  g_autofree char *found = dir_listing(dir);
  g_assert_cmpstr(found, ==, expected);
}

static void
assert_error_says(const GError *error, int code, const char *a, const char *b)
{
  g_assert_error(error, SC_DOWNLOAD_ERROR, code);
  g_test_message("%s", error->message);
  if (a != NULL && strstr(error->message, a) == NULL)
    g_error("\"%s\" does not mention \"%s\"", error->message, a);
  if (b != NULL && strstr(error->message, b) == NULL)
    g_error("\"%s\" does not mention \"%s\"", error->message, b);
}

/* ---- Downloads ---- */

static void
test_complete(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *dest = in_dir(tmp, "datasets");
  /* A partial folder left by a run that stopped while unpacking. */
  g_autofree char *stale = g_build_filename(dest, ".stl10_binary.partial-ABC123", NULL);
  fx_write_text(stale, "stl10_binary/train_X.bin", "cut short");
  ScDownloadSource source = test_source();
  Recorder rec = { 0 };
  ScDownloadOptions options = recorder_options(&rec);
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  guint before = sc_test_server_requests();

  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_assert_true(sc_download_dataset(&source, dest, &options, &path, &error));
  g_assert_no_error(error);
  g_autofree char *expected_path = in_dir(dest, "stl10_binary");
  g_assert_cmpstr(path, ==, expected_path);
  assert_dataset(path);
  assert_listing(dest, "stl10_binary"); /* no archive, .part or partial folder left */
  g_assert_cmpuint(sc_test_server_requests(), ==, before + 1);
  g_autofree char *range = sc_test_server_last_range();
  g_assert_null(range);

  const ScDownloadProgress *got = last_report(&rec, SC_DOWNLOAD_STAGE_DOWNLOADING);
  g_assert_nonnull(got);
  g_assert_cmpuint(got->done_bytes, ==, g_bytes_get_size(archive));
  g_assert_cmpuint(got->total_bytes, ==, g_bytes_get_size(archive));
  g_assert_cmpfloat(got->rate_bytes_per_s, >=, 0.0);
  const ScDownloadProgress *unpacked = last_report(&rec, SC_DOWNLOAD_STAGE_EXTRACTING);
  g_assert_nonnull(unpacked);
  g_assert_cmpuint(unpacked->done_bytes, ==, g_bytes_get_size(archive));
  g_assert_nonnull(last_report(&rec, SC_DOWNLOAD_STAGE_OPENING));
  g_assert_null(last_report(&rec, SC_DOWNLOAD_STAGE_RESUMING));
  assert_reports_ordered(&rec);

  /* Already there: nothing is fetched again. */
  g_autofree char *again = NULL;
  g_assert_true(sc_download_dataset(&source, dest, NULL, &again, &error));
  g_assert_cmpstr(again, ==, expected_path);
  g_assert_cmpuint(sc_test_server_requests(), ==, before + 1);
  recorder_clear(&rec);
  sc_test_rmtree(tmp);
}

static void
test_keep_archive(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  ScDownloadSource source = test_source();
  ScDownloadOptions options = { .keep_archive = TRUE };
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_download_dataset(&source, dest, &options, NULL, &error));
  g_assert_no_error(error);
  assert_listing(dest, "stl10_binary " ARCHIVE_NAME);
  g_autofree char *kept = in_dir(dest, ARCHIVE_NAME);
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(kept, &contents, &len, NULL));
  g_autofree char *md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, (guint8 *)contents, len);
  g_assert_cmpstr(md5, ==, archive_md5);

  /* Without the folder, the kept archive is unpacked again, not fetched. */
  g_autofree char *folder = in_dir(dest, "stl10_binary");
  sc_test_rmtree(folder);
  guint before = sc_test_server_requests();
  g_autofree char *path = NULL;
  g_assert_true(sc_download_dataset(&source, dest, NULL, &path, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(sc_test_server_requests(), ==, before);
  assert_dataset(path);
  assert_listing(dest, "stl10_binary"); /* kept only when asked */

  /* A damaged archive of that name is reported, not replaced. */
  sc_test_rmtree(folder);
  contents[len / 2] ^= 0x55;
  fx_write(dest, ARCHIVE_NAME, contents, len);
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_CHECKSUM, "already in the destination",
                    archive_md5);
  g_assert_cmpuint(sc_test_server_requests(), ==, before);
  assert_listing(dest, ARCHIVE_NAME);
  sc_test_rmtree(dest);
}

static gpointer
download_in_thread(gpointer data)
{
  const char *dest = data;
  ScDownloadSource source = test_source();
  GError *error = NULL;
  char *path = NULL;
  if (!sc_download_dataset(&source, dest, NULL, &path, &error))
    return error;
  g_free(path);
  return NULL;
}

/* The way the app calls it: from a worker thread with no main context. */
static void
test_worker_thread(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  GThread *worker = g_thread_new("download", download_in_thread, dest);
  g_autoptr(GError) error = g_thread_join(worker);
  g_assert_no_error(error);
  g_autofree char *folder = in_dir(dest, "stl10_binary");
  assert_dataset(folder);
  sc_test_rmtree(dest);
}

static void
test_resume_after_cut(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  g_autofree char *part = in_dir(dest, ARCHIVE_NAME ".part");
  ScDownloadSource source = test_source();
  gsize cut = g_bytes_get_size(archive) * 2 / 5;
  sc_test_server_set(SC_SERVE_CUT, 0, cut);

  g_autoptr(GError) error = NULL;
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_NETWORK, "127.0.0.1", ".part");
  g_assert_cmpuint(file_size(part), ==, cut);
  assert_listing(dest, ARCHIVE_NAME ".part");
  g_clear_error(&error);

  /* The next run asks for the rest and gets 206 Partial Content. */
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  Recorder rec = { 0 };
  ScDownloadOptions options = recorder_options(&rec);
  g_autofree char *path = NULL;
  g_assert_true(sc_download_dataset(&source, dest, &options, &path, &error));
  g_assert_no_error(error);
  g_autofree char *range = sc_test_server_last_range();
  g_autofree char *expected_range = g_strdup_printf("bytes=%zu-", cut);
  g_assert_cmpstr(range, ==, expected_range);
  const ScDownloadProgress *hashed = last_report(&rec, SC_DOWNLOAD_STAGE_RESUMING);
  g_assert_nonnull(hashed);
  g_assert_cmpuint(hashed->done_bytes, ==, cut);
  const ScDownloadProgress *first =
      &g_array_index(rec.reports, ScDownloadProgress, 0);
  g_assert_cmpint(first->stage, ==, SC_DOWNLOAD_STAGE_RESUMING);
  assert_reports_ordered(&rec);
  assert_dataset(path);
  assert_listing(dest, "stl10_binary");
  recorder_clear(&rec);
  sc_test_rmtree(dest);
}

/* A server that answers a Range request with 200 and the whole file: the
 * kept bytes (garbage here) are dropped, not prepended. */
static void
test_resume_range_ignored(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  guint8 garbage[5000];
  memset(garbage, 0xAA, sizeof garbage);
  fx_write(dest, ARCHIVE_NAME ".part", garbage, sizeof garbage);
  ScDownloadSource source = test_source();
  sc_test_server_set(SC_SERVE_IGNORE_RANGE, 0, 0);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_assert_true(sc_download_dataset(&source, dest, NULL, &path, &error));
  g_assert_no_error(error);
  g_autofree char *range = sc_test_server_last_range();
  g_assert_cmpstr(range, ==, "bytes=5000-");
  assert_dataset(path);
  sc_test_rmtree(dest);
}

/* A .part that already holds the whole archive needs no request. */
static void
test_part_complete(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  fx_write(dest, ARCHIVE_NAME ".part", g_bytes_get_data(archive, NULL),
           g_bytes_get_size(archive));
  ScDownloadSource source = test_source();
  guint before = sc_test_server_requests();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_assert_true(sc_download_dataset(&source, dest, NULL, &path, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(sc_test_server_requests(), ==, before);
  assert_dataset(path);
  sc_test_rmtree(dest);
}

static void
test_cancel(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  g_autofree char *part = in_dir(dest, ARCHIVE_NAME ".part");
  ScDownloadSource source = test_source();
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  Recorder rec = { 0 };
  ScDownloadOptions options = recorder_options(&rec);
  rec.cancellable = g_cancellable_new();
  options.cancellable = rec.cancellable;

  g_autoptr(GError) error = NULL;
  g_assert_false(sc_download_dataset(&source, dest, &options, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_CANCELLED, part, NULL);
  guint64 kept = file_size(part);
  g_assert_cmpuint(kept, >, 0);
  g_assert_cmpuint(kept, <, g_bytes_get_size(archive));
  assert_listing(dest, ARCHIVE_NAME ".part");
  g_clear_error(&error);

  g_autofree char *path = NULL;
  g_assert_true(sc_download_dataset(&source, dest, NULL, &path, &error));
  g_assert_no_error(error);
  g_autofree char *range = sc_test_server_last_range();
  g_autofree char *expected_range = g_strdup_printf("bytes=%" G_GUINT64_FORMAT "-", kept);
  g_assert_cmpstr(range, ==, expected_range);
  assert_dataset(path);
  recorder_clear(&rec);
  sc_test_rmtree(dest);
}

static void
test_checksum_mismatch(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  ScDownloadSource source = test_source();
  source.archive_md5 = "0123456789abcdef0123456789abcdef";
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_CHECKSUM, archive_md5, source.archive_md5);
  assert_listing(dest, ""); /* the damaged .part is gone, nothing unpacked */
  sc_test_rmtree(dest);
}

static void
test_size_mismatch(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  ScDownloadSource source = test_source();
  source.archive_bytes += 1;
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  g_autofree char *offered = g_strdup_printf("%zu bytes", g_bytes_get_size(archive));
  g_autofree char *expected = g_strdup_printf("expected %zu", g_bytes_get_size(archive) + 1);
  assert_error_says(error, SC_DOWNLOAD_ERROR_CHECKSUM, offered, expected);
  assert_listing(dest, "");
  g_clear_error(&error);

  /* Bytes kept from an earlier run survive the refusal of a 200 answer. */
  fx_write(dest, ARCHIVE_NAME ".part", g_bytes_get_data(archive, NULL), 5000);
  sc_test_server_set(SC_SERVE_IGNORE_RANGE, 0, 0);
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_CHECKSUM, offered, expected);
  g_autofree char *part = in_dir(dest, ARCHIVE_NAME ".part");
  g_assert_cmpuint(file_size(part), ==, 5000);
  sc_test_rmtree(dest);
}

static void
test_server_error(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  ScDownloadSource source = test_source();
  g_autoptr(GError) error = NULL;

  sc_test_server_set(SC_SERVE_STATUS, SOUP_STATUS_INTERNAL_SERVER_ERROR, 0);
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_HTTP, "500 Internal Server Error", "try again");
  g_clear_error(&error);

  sc_test_server_set(SC_SERVE_STATUS, SOUP_STATUS_NOT_FOUND, 0);
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_HTTP, "404 Not Found", source.url);
  assert_listing(dest, ""); /* no empty .part left behind */
  sc_test_rmtree(dest);
}

/* A port nothing listens on: the connection is refused. */
static void
test_no_server(void)
{
  g_autoptr(GSocket) socket =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new(loopback, 0);
  g_assert_true(g_socket_bind(socket, any_port, FALSE, NULL));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(socket, NULL);
  guint port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_socket_close(socket, NULL); /* bound, never listening: refused */

  g_autofree char *dest = sc_test_mkdtemp();
  ScDownloadSource source = test_source();
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/" ARCHIVE_NAME, port);
  source.url = url;
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_NETWORK, "127.0.0.1", "network connection");
  assert_listing(dest, "");
  sc_test_rmtree(dest);
}

static void
test_bad_url(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  ScDownloadSource source = test_source();
  source.url = "ftp://127.0.0.1/" ARCHIVE_NAME;
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_INVALID, source.url, "http");
  sc_test_rmtree(dest);
}

static void
test_write_failure(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  ScDownloadSource source = test_source();
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  g_autoptr(GError) error = NULL;

  /* A destination below a regular file cannot be created (even by root). */
  fx_write_text(tmp, "a-file", "not a folder\n");
  g_autofree char *below_file = g_build_filename(tmp, "a-file", "datasets", NULL);
  g_assert_false(sc_download_dataset(&source, below_file, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_WRITE, below_file, "writable");
  g_clear_error(&error);

  /* The .part is a folder: it cannot be opened for writing. */
  g_autofree char *dest = in_dir(tmp, "datasets");
  g_autofree char *part = in_dir(dest, ARCHIVE_NAME ".part");
  g_assert_cmpint(g_mkdir_with_parents(part, 0755), ==, 0);
  guint before = sc_test_server_requests();
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_WRITE, part, NULL);
  g_assert_cmpuint(sc_test_server_requests(), ==, before); /* failed before any request */
  sc_test_rmtree(tmp);
}

/* Writes that fail with ENOSPC: the .part is a link to /dev/full. */
static void
test_disk_full(void)
{
  if (!g_file_test("/dev/full", G_FILE_TEST_EXISTS)) {
    g_test_skip("/dev/full is missing");
    return;
  }
  g_autofree char *dest = sc_test_mkdtemp();
  g_autofree char *part = in_dir(dest, ARCHIVE_NAME ".part");
  g_assert_cmpint(symlink("/dev/full", part), ==, 0);
  ScDownloadSource source = test_source();
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_DISK_FULL, part, "Free some space");
  g_clear_error(&error);

  /* Too little free space is found before downloading: 4 EiB are asked. */
  g_unlink(part);
  source.archive_bytes = G_GUINT64_CONSTANT(1) << 62;
  guint before = sc_test_server_requests();
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_DISK_FULL, dest, "free");
  g_assert_cmpuint(sc_test_server_requests(), ==, before);
  sc_test_rmtree(dest);
}

/* A folder of the data set's name that is not a whole data set is left
 * alone and reported, before anything is downloaded. */
static void
test_existing_folder_broken(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  g_autofree char *final = in_dir(dest, "stl10_binary");
  fx_stl10_folder(final, 3, 2, 0); /* wrong sizes, no unlabeled_X.bin */
  ScDownloadSource source = test_source();
  guint before = sc_test_server_requests();
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_download_dataset(&source, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_DATASET, "already exists", "train_X.bin");
  g_assert_cmpuint(sc_test_server_requests(), ==, before);
  g_autofree char *train = in_dir(final, "train_X.bin");
  g_assert_cmpuint(file_size(train), ==, 3 * SC_STL10_RECORD_BYTES);
  sc_test_rmtree(dest);
}

/* ---- Imports ---- */

static char *
write_archive(const char *dir, GBytes *bytes, gsize len)
{
  fx_write(dir, ARCHIVE_NAME, g_bytes_get_data(bytes, NULL), len);
  return in_dir(dir, ARCHIVE_NAME);
}

static void
test_import_archive(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *path_in = write_archive(dir, archive, g_bytes_get_size(archive));
  ScDownloadSource source = test_source();
  Recorder rec = { 0 };
  ScDownloadOptions options = recorder_options(&rec);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_assert_true(sc_import_archive(&source, path_in, NULL, &options, &path, &error));
  g_assert_no_error(error);
  g_autofree char *expected = in_dir(dir, "stl10_binary");
  g_assert_cmpstr(path, ==, expected);
  assert_dataset(path);
  assert_listing(dir, "stl10_binary " ARCHIVE_NAME); /* the archive stays */
  const ScDownloadProgress *hashed = last_report(&rec, SC_DOWNLOAD_STAGE_VERIFYING);
  g_assert_nonnull(hashed);
  g_assert_cmpuint(hashed->done_bytes, ==, g_bytes_get_size(archive));
  assert_reports_ordered(&rec);
  recorder_clear(&rec);
  sc_test_rmtree(dir);
}

static void
test_import_archive_damaged(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  gsize half = g_bytes_get_size(archive) / 2;
  g_autofree char *path_in = write_archive(dir, archive, half);
  ScDownloadSource source = test_source();
  g_autoptr(GError) error = NULL;

  /* The size check catches the cut file first. */
  g_assert_false(sc_import_archive(&source, path_in, NULL, NULL, NULL, &error));
  g_autofree char *found = g_strdup_printf("%zu bytes", half);
  assert_error_says(error, SC_DOWNLOAD_ERROR_CHECKSUM, path_in, found);
  g_clear_error(&error);

  /* Without size and MD5, libarchive finds the gzip stream cut short. */
  source.archive_bytes = 0;
  source.archive_md5 = NULL;
  g_assert_false(sc_import_archive(&source, path_in, NULL, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_ARCHIVE, path_in, "cannot be unpacked");
  assert_listing(dir, ARCHIVE_NAME); /* no partial folder, no data set */
  g_clear_error(&error);

  /* The whole file with a wrong MD5 expected. */
  g_autofree char *whole = write_archive(dir, archive, g_bytes_get_size(archive));
  source = test_source();
  source.archive_md5 = "ffffffffffffffffffffffffffffffff";
  g_assert_false(sc_import_archive(&source, whole, NULL, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_CHECKSUM, archive_md5, "ffffffff");
  assert_listing(dir, ARCHIVE_NAME);
  sc_test_rmtree(dir);
}

/* Archives with a path that climbs out, the wrong top folder, or files
 * that do not form a data set. None leaves anything behind. */
static void
test_import_archive_refused(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *dest = in_dir(dir, "dest");
  g_assert_cmpint(g_mkdir(dest, 0755), ==, 0);
  ScDownloadSource source = test_source();
  source.archive_bytes = 0;
  source.archive_md5 = NULL;
  g_autoptr(GError) error = NULL;

  g_autoptr(GBytes) note = g_bytes_new_static("x\n", 2);
  const ScTestEntry climbing[] = {
    { "stl10_binary/", NULL }, { "stl10_binary/../../escaped.txt", note }, { NULL, NULL },
  };
  g_autoptr(GBytes) evil = sc_test_targz(climbing);
  g_autofree char *evil_path = write_archive(dir, evil, g_bytes_get_size(evil));
  g_assert_false(sc_import_archive(&source, evil_path, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_ARCHIVE, "unsafe", "../escaped.txt");
  assert_listing(dir, "dest " ARCHIVE_NAME);
  assert_listing(dest, "");
  g_clear_error(&error);

  Stl10Files other;
  stl10_files_init(&other, "other", 1);
  g_autoptr(GBytes) wrong_top = sc_test_targz(other.entries);
  g_autofree char *wrong_path = write_archive(dir, wrong_top, g_bytes_get_size(wrong_top));
  g_assert_false(sc_import_archive(&source, wrong_path, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_ARCHIVE, "no folder stl10_binary/", NULL);
  assert_listing(dest, "");
  stl10_files_clear(&other);
  g_clear_error(&error);

  /* Label byte 0 in train_y.bin: the sizes are right, the reader refuses. */
  Stl10Files bad;
  stl10_files_init(&bad, "stl10_binary", 0);
  g_autoptr(GBytes) bad_labels = sc_test_targz(bad.entries);
  g_autofree char *bad_path = write_archive(dir, bad_labels, g_bytes_get_size(bad_labels));
  g_assert_false(sc_import_archive(&source, bad_path, dest, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_DATASET, "train_y.bin", "outside 1..10");
  assert_listing(dest, "");
  stl10_files_clear(&bad);
  sc_test_rmtree(dir);
}

static void
write_stl10_files(const char *folder, const Stl10Files *f)
{
  for (int i = 0; i < 6; i++)
    fx_write(folder, stl10_names[i], g_bytes_get_data(f->files[i], NULL),
             g_bytes_get_size(f->files[i]));
}

static void
test_import_folder(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *folder = in_dir(dir, "stl10_binary");
  write_stl10_files(folder, &stl10);
  ScDownloadSource source = test_source();
  Recorder rec = { 0 };
  ScDownloadOptions options = recorder_options(&rec);
  g_autoptr(GError) error = NULL;

  /* The parent or the folder itself. */
  g_autofree char *path = NULL;
  g_assert_true(sc_import_folder(&source, dir, &options, &path, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(path, ==, folder);
  const ScDownloadProgress *hashed = last_report(&rec, SC_DOWNLOAD_STAGE_VERIFYING);
  g_assert_nonnull(hashed);
  g_assert_cmpuint(hashed->done_bytes, ==, sc_download_source_unpacked_bytes(&source));
  g_autofree char *path2 = NULL;
  g_assert_true(sc_import_folder(&source, folder, NULL, &path2, &error));
  g_assert_cmpstr(path2, ==, folder);

  /* A changed byte: same size, another MD5. */
  g_autofree char *test_y = in_dir(folder, "test_y.bin");
  const guint8 labels[N_TEST] = { 1, 2, 3, 4, 5, 7 };
  fx_write(folder, "test_y.bin", labels, sizeof labels);
  g_assert_false(sc_import_folder(&source, dir, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_CHECKSUM, test_y, file_md5[3]);
  g_clear_error(&error);

  /* A cut file, then a missing one. */
  write_stl10_files(folder, &stl10);
  fx_write(folder, "train_X.bin", g_bytes_get_data(stl10.files[0], NULL), 1000);
  g_assert_false(sc_import_folder(&source, dir, NULL, NULL, &error));
  g_autofree char *expected = g_strdup_printf("expected %d", N_TRAIN * SC_STL10_RECORD_BYTES);
  assert_error_says(error, SC_DOWNLOAD_ERROR_DATASET, "is 1000 bytes", expected);
  g_clear_error(&error);
  g_autofree char *train = in_dir(folder, "train_X.bin");
  g_unlink(train);
  g_assert_false(sc_import_folder(&source, dir, NULL, NULL, &error));
  assert_error_says(error, SC_DOWNLOAD_ERROR_DATASET, "has no file train_X.bin", NULL);
  recorder_clear(&rec);
  sc_test_rmtree(dir);
}

/* simclr-train --download-stl10's runner: exit statuses 0, 1 and 130. */
static void
test_cli(void)
{
  g_autofree char *dest = sc_test_mkdtemp();
  g_autofree char *part = in_dir(dest, ARCHIVE_NAME ".part");
  ScDownloadSource source = test_source();

  sc_test_server_set(SC_SERVE_STATUS, SOUP_STATUS_NOT_FOUND, 0);
  g_assert_cmpint(cli_download_dataset(&source, dest, FALSE), ==, 1);
  assert_listing(dest, "");

  /* Ctrl-C in the middle: what arrived before it stays for the next run. */
  gsize cut = g_bytes_get_size(archive) / 3;
  sc_test_server_set(SC_SERVE_INTERRUPT, 0, cut);
  g_assert_cmpint(cli_download_dataset(&source, dest, FALSE), ==, 130);
  guint64 kept = file_size(part);
  g_assert_cmpuint(kept, <=, cut);

  /* On success the data set's folder is the one line on stdout (for
   * scripts); capture it so it neither mixes with the test's TAP output
   * nor goes unchecked. */
  sc_test_server_set(SC_SERVE_WHOLE, 0, 0);
  g_autofree char *out_path = in_dir(dest, "stdout.txt");
  fflush(stdout);
  int saved_stdout = dup(STDOUT_FILENO);
  int out_fd = g_open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint(saved_stdout, >=, 0);
  g_assert_cmpint(out_fd, >=, 0);
  dup2(out_fd, STDOUT_FILENO);
  int status = cli_download_dataset(&source, dest, TRUE);
  fflush(stdout);
  dup2(saved_stdout, STDOUT_FILENO);
  close(saved_stdout);
  close(out_fd);
  g_assert_cmpint(status, ==, 0);
  g_autofree char *range = sc_test_server_last_range();
  g_autofree char *expected_range =
      kept > 0 ? g_strdup_printf("bytes=%" G_GUINT64_FORMAT "-", kept) : NULL;
  g_assert_cmpstr(range, ==, expected_range);
  g_autofree char *folder = in_dir(dest, "stl10_binary");
  assert_dataset(folder);
  g_autofree char *printed = NULL;
  g_assert_true(g_file_get_contents(out_path, &printed, NULL, NULL));
  /* The test harness routes debug messages to stdout too: the path is the
   * last line. */
  g_auto(GStrv) lines = g_strsplit(printed, "\n", -1);
  guint n_lines = g_strv_length(lines);
  g_assert_cmpuint(n_lines, >=, 2);
  g_assert_cmpstr(lines[n_lines - 1], ==, "");
  g_assert_cmpstr(lines[n_lines - 2], ==, folder);
  sc_test_rmtree(dest);
}

/* The flag itself, offline: a destination that cannot be made fails with
 * status 1 and says why. */
static void
test_cli_flag(void)
{
  const char *program = g_getenv("SC_SIMCLR_TRAIN");
  if (program == NULL) {
    g_test_skip("SC_SIMCLR_TRAIN (the simclr-train to run) is not set");
    return;
  }
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_write_text(tmp, "a-file", "not a folder\n");
  g_autofree char *dest = g_build_filename(tmp, "a-file", "stl10", NULL);
  const char *argv[] = { program, "--download-stl10", dest, NULL };
  g_autofree char *out = NULL, *err = NULL;
  int wait_status;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                             &err, &wait_status, &error));
  g_assert_no_error(error);
  g_assert_true(WIFEXITED(wait_status));
  g_assert_cmpint(WEXITSTATUS(wait_status), ==, 1);
  g_assert_nonnull(strstr(err, dest));
  g_assert_nonnull(strstr(err, "Could not write"));
  g_assert_cmpstr(out, ==, "");
  sc_test_rmtree(tmp);
}

/* The real source's numbers, from reference section 1.1. */
static void
test_stl10_source(void)
{
  const ScDownloadSource *s = sc_download_source_stl10();
  g_assert_cmpstr(s->url, ==, "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz");
  g_assert_cmpstr(s->archive_md5, ==, "91f7769df0f17e558f3565bffb0c7dfb");
  g_assert_cmpuint(s->archive_bytes, ==, G_GUINT64_CONSTANT(2640397119));
  /* 5,000 + 8,000 + 100,000 images of 27,648 bytes and 13,000 labels. */
  g_assert_cmpuint(sc_download_source_unpacked_bytes(s), ==,
                   G_GUINT64_CONSTANT(113000) * 27648 + 13000);
  g_assert_cmpint(s->format, ==, SC_FORMAT_STL10);
}

int
main(int argc, char **argv)
{
  /* Straight to 127.0.0.1 whatever proxy the environment names. */
  g_setenv("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init(&argc, &argv, NULL);
  setup_source();
  server_port = sc_test_server_start("/" ARCHIVE_NAME, archive);
  g_test_add_func("/Download/stl10-source", test_stl10_source);
  g_test_add_func("/Download/complete", test_complete);
  g_test_add_func("/Download/keep-archive", test_keep_archive);
  g_test_add_func("/Download/worker-thread", test_worker_thread);
  g_test_add_func("/Download/resume-after-cut", test_resume_after_cut);
  g_test_add_func("/Download/resume-range-ignored", test_resume_range_ignored);
  g_test_add_func("/Download/part-complete", test_part_complete);
  g_test_add_func("/Download/cancel", test_cancel);
  g_test_add_func("/Download/checksum-mismatch", test_checksum_mismatch);
  g_test_add_func("/Download/size-mismatch", test_size_mismatch);
  g_test_add_func("/Download/server-error", test_server_error);
  g_test_add_func("/Download/no-server", test_no_server);
  g_test_add_func("/Download/bad-url", test_bad_url);
  g_test_add_func("/Download/write-failure", test_write_failure);
  g_test_add_func("/Download/disk-full", test_disk_full);
  g_test_add_func("/Download/existing-folder-broken", test_existing_folder_broken);
  g_test_add_func("/Import/archive", test_import_archive);
  g_test_add_func("/Import/archive-damaged", test_import_archive_damaged);
  g_test_add_func("/Import/archive-refused", test_import_archive_refused);
  g_test_add_func("/Import/folder", test_import_folder);
  g_test_add_func("/Cli/download", test_cli);
  g_test_add_func("/Cli/flag", test_cli_flag);
  int status = g_test_run();
  sc_test_server_stop();
  stl10_files_clear(&stl10);
  g_bytes_unref(archive);
  g_free(archive_md5);
  for (int i = 0; i < 5; i++)
    g_free(file_md5[i]);
  return status;
}
