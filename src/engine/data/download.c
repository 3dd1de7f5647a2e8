/* Downloading a data set archive over HTTP with libsoup 3 (see download.h):
 * the bytes go to a .part file whose MD5 is computed on the way, and a part
 * left by an earlier run is resumed with a Range request. */
#include "download-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "config.h"

#define BLOCK_BYTES (256 * 1024)
/* Seconds without any byte before a stalled connection counts as broken. */
#define IO_TIMEOUT_S 60

/* Reference section 1.1: the archive's MD5 and the files' sizes and MD5s.
 * The archive's size is the Content-Length Stanford serves. */
static const ScDownloadFile stl10_files[] = {
  { "train_X.bin", 138240000, "918c2871b30a85fa023e0c44e0bee87f" },
  { "train_y.bin", 5000, "5a34089d4802c674881badbb80307741" },
  { "test_X.bin", 221184000, "7f263ba9f9e0b06b93213547f721ac82" },
  { "test_y.bin", 8000, "36f9794fa4beb8a2c72628de14fa638e" },
  { "unlabeled_X.bin", 2764800000, "5242ba1fed5e4be9e1e742405eb56ca4" },
  { NULL, 0, NULL },
};

static const ScDownloadSource stl10_source = {
  .url = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
  .archive_name = "stl10_binary.tar.gz",
  .archive_bytes = 2640397119,
  .archive_md5 = "91f7769df0f17e558f3565bffb0c7dfb",
  .folder_name = "stl10_binary",
  .format = SC_FORMAT_STL10,
  .files = stl10_files,
};

const ScDownloadSource *
sc_download_source_stl10(void)
{
  return &stl10_source;
}

/* One transfer: where it comes from and where it goes. */
typedef struct {
  const ScDownloadSource *source;
  const ScDownloadOptions *options;
  const char *part_path;
  char *host;             /* for messages */
  GChecksum *md5;         /* of the bytes in the .part so far */
  guint64 part_bytes;     /* bytes in the .part so far */
  GFileOutputStream *out; /* the .part, opened for appending */
} Transfer;

static void
transfer_clear(Transfer *t)
{
  g_free(t->host);
  g_clear_pointer(&t->md5, g_checksum_free);
  g_clear_object(&t->out);
}

/* Opens the .part for appending; hashes the bytes an earlier run left. */
static gboolean
open_part(Transfer *t, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path(t->part_path);
  g_autoptr(GError) io_error = NULL;
  t->out = g_file_append_to(file, G_FILE_CREATE_NONE, t->options->cancellable, &io_error);
  if (t->out == NULL) {
    sc_download_set_write_error(error, io_error, t->part_path);
    return FALSE;
  }
  GStatBuf st;
  t->part_bytes = g_stat(t->part_path, &st) == 0 && S_ISREG(st.st_mode) ? (guint64)st.st_size : 0;
  t->md5 = g_checksum_new(G_CHECKSUM_MD5);
  guint64 expected = t->source->archive_bytes;
  if (t->part_bytes == 0 || (expected != 0 && t->part_bytes > expected))
    return TRUE; /* nothing to keep; start_over empties a too long part */
  ScReporter r;
  sc_reporter_begin(&r, t->options, SC_DOWNLOAD_STAGE_RESUMING, 0, t->part_bytes);
  if (!sc_download_hash_file(t->part_path, t->md5, &r, t->options, error))
    return FALSE;
  sc_reporter_end(&r);
  return TRUE;
}

/* Empties the .part: the server sends the whole file. */
static gboolean
start_over(Transfer *t, GError **error)
{
  g_autoptr(GError) io_error = NULL;
  if (t->part_bytes > 0
      && !g_seekable_truncate(G_SEEKABLE(t->out), 0, t->options->cancellable, &io_error)) {
    sc_download_set_write_error(error, io_error, t->part_path);
    return FALSE;
  }
  t->part_bytes = 0;
  g_checksum_reset(t->md5);
  return TRUE;
}

/* connected: the server answered, so bytes may have arrived in this run. */
static void
set_network_error(GError **error, const Transfer *t, const GError *cause, gboolean connected,
                  guint64 total)
{
  if (g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_CANCELLED) && t->part_bytes == 0) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CANCELLED,
                "Download cancelled before any byte arrived");
  } else if (g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CANCELLED,
                "Download cancelled after %" G_GUINT64_FORMAT " bytes: they are kept in %s "
                "and the next download resumes from there", t->part_bytes, t->part_path);
  } else if (!connected || t->part_bytes == 0) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_NETWORK,
                "Could not download from %s: %s. Check the network connection (and proxy "
                "settings), then try again", t->host, cause->message);
  } else {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_NETWORK,
                "The connection to %s broke after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                " bytes: %s. Check the network connection and download again: it resumes "
                "from the bytes kept in %s", t->host, t->part_bytes, total, cause->message,
                t->part_path);
  }
}

static void
set_status_error(GError **error, const Transfer *t, SoupMessage *msg)
{
  guint status = soup_message_get_status(msg);
  const char *advice =
      status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_GONE
          ? "The file is no longer at this address: import an archive obtained another way"
      : status >= 500 ? "The server has a problem: try again later"
                      : "Try again later, or import an archive obtained another way";
  g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_HTTP,
              "The server %s answered %u %s for %s. %s", t->host, status,
              soup_message_get_reason_phrase(msg), t->source->url, advice);
}

static void
set_size_error(GError **error, const Transfer *t, guint64 offered)
{
  g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CHECKSUM,
              "The server %s offers %" G_GUINT64_FORMAT " bytes for %s, expected %"
              G_GUINT64_FORMAT ": the file there is not the expected one. Import an archive "
              "obtained another way", t->host, offered, t->source->url,
              t->source->archive_bytes);
}

/* Checks the response to a request for bytes part_bytes.. and prepares the
 * .part for what follows; *total_out gets the whole file's size (0 unknown). */
static gboolean
accept_response(Transfer *t, SoupMessage *msg, guint64 *total_out, GError **error)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers(msg);
  guint status = soup_message_get_status(msg);
  guint64 expected = t->source->archive_bytes;
  guint64 total = 0;
  if (status == SOUP_STATUS_PARTIAL_CONTENT) {
    goffset start, end, length;
    if (!soup_message_headers_get_content_range(headers, &start, &end, &length)
        || (guint64)start != t->part_bytes) {
      g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_HTTP,
                  "The server %s sent a part that does not start at byte %" G_GUINT64_FORMAT
                  " as asked. Delete %s and download again", t->host, t->part_bytes,
                  t->part_path);
      return FALSE;
    }
    total = length > 0 ? (guint64)length : 0;
  } else if (status == SOUP_STATUS_OK) {
    if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH)
      total = (guint64)soup_message_headers_get_content_length(headers);
    if (expected != 0 && total != 0 && total != expected) {
      set_size_error(error, t, total); /* before start_over: the kept bytes stay */
      return FALSE;
    }
    if (t->part_bytes > 0)
      g_debug("%s ignored the range request: starting over", t->host);
    if (!start_over(t, error))
      return FALSE;
  } else {
    set_status_error(error, t, msg);
    return FALSE;
  }
  if (expected != 0 && total != 0 && total != expected) {
    set_size_error(error, t, total);
    return FALSE;
  }
  *total_out = expected != 0 ? expected : total;
  return TRUE;
}

/* Sends the request, asking for the rest of the .part when it holds bytes.
 * A server that finds the range unsatisfiable (416) is asked again for all. */
static GInputStream *
send_request(Transfer *t, SoupSession *session, SoupMessage **msg_out, GError **error)
{
  for (int attempt = 0; attempt < 2; attempt++) {
    g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_GET, t->source->url);
    if (t->part_bytes > 0)
      soup_message_headers_set_range(soup_message_get_request_headers(msg),
                                     (goffset)t->part_bytes, -1);
    g_autoptr(GError) net_error = NULL;
    g_autoptr(GInputStream) in =
        soup_session_send(session, msg, t->options->cancellable, &net_error);
    if (in == NULL) {
      set_network_error(error, t, net_error, FALSE, t->source->archive_bytes);
      return NULL;
    }
    if (soup_message_get_status(msg) == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE
        && t->part_bytes > 0) {
      g_debug("%s: range from byte %" G_GUINT64_FORMAT " not satisfiable, starting over",
              t->host, t->part_bytes);
      g_input_stream_close(in, NULL, NULL);
      if (!start_over(t, error))
        return NULL;
      continue;
    }
    *msg_out = g_steal_pointer(&msg);
    return g_steal_pointer(&in);
  }
  g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_HTTP,
              "The server %s refused the whole file of %s (416). Try again later", t->host,
              t->source->url);
  return NULL;
}

/* Copies the response body to the .part, hashing it on the way. */
static gboolean
receive_body(Transfer *t, GInputStream *in, guint64 total, GError **error)
{
  ScReporter r;
  sc_reporter_begin(&r, t->options, SC_DOWNLOAD_STAGE_DOWNLOADING, t->part_bytes, total);
  g_autofree guint8 *buf = g_malloc(BLOCK_BYTES);
  for (;;) {
    g_autoptr(GError) io_error = NULL;
    gssize n = g_input_stream_read(in, buf, BLOCK_BYTES, t->options->cancellable, &io_error);
    if (n < 0) {
      set_network_error(error, t, io_error, TRUE, total);
      return FALSE;
    }
    if (n == 0)
      break;
    /* Not cancellable: a cancel is seen at the next read, after this block
     * is whole on disk and counted. */
    if (!g_output_stream_write_all(G_OUTPUT_STREAM(t->out), buf, (gsize)n, NULL, NULL,
                                   &io_error)) {
      sc_download_set_write_error(error, io_error, t->part_path);
      return FALSE;
    }
    g_checksum_update(t->md5, buf, n);
    t->part_bytes += (guint64)n;
    sc_reporter_update(&r, t->part_bytes);
  }
  sc_reporter_end(&r);
  return TRUE;
}

/* Brings the .part to the whole archive (the size and MD5 still unchecked). */
static gboolean
fetch_part(Transfer *t, GError **error)
{
  guint64 expected = t->source->archive_bytes;
  if (expected != 0 && t->part_bytes == expected)
    return TRUE; /* an earlier run received everything */
  if (expected != 0 && t->part_bytes > expected && !start_over(t, error))
    return FALSE;
  g_autoptr(SoupSession) session = soup_session_new_with_options(
      "timeout", IO_TIMEOUT_S, "user-agent", "SimCLR-Studio/" SC_VERSION, NULL);
  /* The archive is stored as sent: no transparent gunzip of a .gz that a
   * server labels Content-Encoding: gzip, which would also break ranges. */
  soup_session_remove_feature_by_type(session, SOUP_TYPE_CONTENT_DECODER);
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) in = send_request(t, session, &msg, error);
  guint64 total = 0;
  if (in == NULL || !accept_response(t, msg, &total, error))
    return FALSE;
  if (!receive_body(t, in, total, error))
    return FALSE;
  g_input_stream_close(in, NULL, NULL);
  if (total != 0 && t->part_bytes != total) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_NETWORK,
                "The server %s stopped sending after %" G_GUINT64_FORMAT " of %"
                G_GUINT64_FORMAT " bytes. Download again: it resumes from the bytes kept in "
                "%s", t->host, t->part_bytes, total, t->part_path);
    return FALSE;
  }
  return TRUE;
}

/* Closes the .part and checks its size and MD5; a damaged one is deleted. */
static gboolean
finish_part(Transfer *t, GError **error)
{
  g_autoptr(GError) io_error = NULL;
  if (!g_output_stream_close(G_OUTPUT_STREAM(t->out), t->options->cancellable, &io_error)) {
    sc_download_set_write_error(error, io_error, t->part_path);
    return FALSE;
  }
  guint64 expected = t->source->archive_bytes;
  if (expected != 0 && t->part_bytes != expected) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CHECKSUM,
                "%s holds %" G_GUINT64_FORMAT " bytes, expected %" G_GUINT64_FORMAT
                ". Download again", t->part_path, t->part_bytes, expected);
    return FALSE;
  }
  if (!sc_download_check_md5(t->md5, t->source->archive_md5, t->part_path,
                             "It was deleted: download again", error)) {
    g_unlink(t->part_path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_url(const ScDownloadSource *source, char **host, GError **error)
{
  g_autoptr(GUri) uri = g_uri_parse(source->url, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
  if (scheme == NULL || g_uri_get_host(uri) == NULL
      || (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_INVALID,
                "The address %s is not an http:// or https:// URL", source->url);
    return FALSE;
  }
  *host = g_strdup(g_uri_get_host(uri));
  return TRUE;
}

/* Downloads dest/<archive_name>, checked. */
static gboolean
download_archive(const ScDownloadSource *source, const char *dest_dir, const char *archive,
                 const ScDownloadOptions *options, GError **error)
{
  g_autofree char *part = g_strconcat(archive, ".part", NULL);
  Transfer t = { .source = source, .options = options, .part_path = part };
  gboolean ok = check_url(source, &t.host, error) && open_part(&t, error);
  guint64 unpacked = sc_download_source_unpacked_bytes(source);
  guint64 left = source->archive_bytes > t.part_bytes ? source->archive_bytes - t.part_bytes : 0;
  ok = ok && sc_download_check_free_space(dest_dir, left + unpacked,
                                          "the download and the unpacked files", error)
       && fetch_part(&t, error) && finish_part(&t, error);
  transfer_clear(&t);
  GStatBuf st;
  if (!ok && g_lstat(part, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
    g_unlink(part); /* nothing received: leave no empty .part behind */
  if (ok && g_rename(part, archive) != 0) {
    g_autoptr(GError) cause = g_error_new_literal(G_IO_ERROR, g_io_error_from_errno(errno),
                                                  g_strerror(errno));
    sc_download_set_write_error(error, cause, archive);
    return FALSE;
  }
  return ok;
}

/* An archive already in the destination (kept, or left by a run that
 * stopped while unpacking) is checked and used instead of a download. */
static gboolean
import_kept_archive(const ScDownloadSource *source, const char *dest_dir, const char *archive,
                    const ScDownloadOptions *options, GError **error)
{
  g_autoptr(GError) import_error = NULL;
  if (sc_import_archive(source, archive, dest_dir, options, NULL, &import_error))
    return TRUE;
  if (import_error->code == SC_DOWNLOAD_ERROR_CHECKSUM)
    g_prefix_error(&import_error, "%s was already in the destination; delete it before "
                   "downloading again. ", archive);
  g_propagate_error(error, g_steal_pointer(&import_error));
  return FALSE;
}

gboolean
sc_download_dataset(const ScDownloadSource *source, const char *dest_dir,
                    const ScDownloadOptions *options, char **dataset_path, GError **error)
{
  static const ScDownloadOptions defaults = { 0 };
  g_return_val_if_fail(dest_dir != NULL, FALSE);
  source = source != NULL ? source : sc_download_source_stl10();
  options = options != NULL ? options : &defaults;

  if (g_mkdir_with_parents(dest_dir, 0755) != 0) {
    g_autoptr(GError) cause = g_error_new_literal(G_IO_ERROR, g_io_error_from_errno(errno),
                                                  g_strerror(errno));
    sc_download_set_write_error(error, cause, dest_dir);
    return FALSE;
  }
  gboolean present;
  if (!sc_download_find_existing(source, dest_dir, &present, error))
    return FALSE;
  if (!present) {
    g_autofree char *archive = g_build_filename(dest_dir, source->archive_name, NULL);
    gboolean ok = g_file_test(archive, G_FILE_TEST_EXISTS)
                      ? import_kept_archive(source, dest_dir, archive, options, error)
                      : download_archive(source, dest_dir, archive, options, error)
                            && sc_download_install_archive(source, archive, dest_dir, options,
                                                           error);
    if (!ok)
      return FALSE;
    if (!options->keep_archive && g_unlink(archive) != 0)
      g_warning("Failed to remove %s: %s", archive, g_strerror(errno));
  }
  if (dataset_path != NULL)
    *dataset_path = g_build_filename(dest_dir, source->folder_name, NULL);
  return TRUE;
}
