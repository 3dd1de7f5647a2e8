/* Checking, unpacking and importing data set archives and folders (see
 * download.h). Archives are read with libarchive; only folders and regular
 * files are written, and every path is checked to stay inside the hidden
 * partial folder. */
#include "download-private.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define REPORT_INTERVAL_US (100 * 1000)
#define BLOCK_BYTES (256 * 1024)

G_DEFINE_QUARK(sc-download-error-quark, sc_download_error)

/* ---- Progress ---- */

static void
reporter_emit(ScReporter *r, gint64 now_us)
{
  double elapsed_s = (now_us - r->start_us) / 1e6;
  guint64 moved = r->p.done_bytes - r->start_bytes;
  r->p.rate_bytes_per_s = elapsed_s >= 0.2 ? moved / elapsed_s : 0.0;
  r->p.eta_s = -1.0;
  if (r->p.rate_bytes_per_s > 0 && r->p.total_bytes >= r->p.done_bytes)
    r->p.eta_s = (r->p.total_bytes - r->p.done_bytes) / r->p.rate_bytes_per_s;
  r->last_us = now_us;
  if (r->options->progress != NULL)
    r->options->progress(&r->p, r->options->user_data);
}

void
sc_reporter_begin(ScReporter *r, const ScDownloadOptions *options, ScDownloadStage stage,
                  guint64 done_bytes, guint64 total_bytes)
{
  *r = (ScReporter){ .options = options, .start_bytes = done_bytes };
  r->p.stage = stage;
  r->p.done_bytes = done_bytes;
  r->p.total_bytes = total_bytes;
  r->start_us = g_get_monotonic_time();
  reporter_emit(r, r->start_us);
}

void
sc_reporter_update(ScReporter *r, guint64 done_bytes)
{
  r->p.done_bytes = done_bytes;
  gint64 now_us = g_get_monotonic_time();
  if (!r->updated || now_us - r->last_us >= REPORT_INTERVAL_US) {
    r->updated = TRUE;
    reporter_emit(r, now_us);
  }
}

void
sc_reporter_end(ScReporter *r)
{
  reporter_emit(r, g_get_monotonic_time());
}

/* ---- Errors ---- */

gboolean
sc_download_cancelled(const ScDownloadOptions *options, const char *while_doing,
                      GError **error)
{
  if (options->cancellable == NULL || !g_cancellable_is_cancelled(options->cancellable))
    return FALSE;
  g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CANCELLED, "Cancelled while %s",
              while_doing);
  return TRUE;
}

void
sc_download_set_write_error(GError **error, const GError *cause, const char *path)
{
  if (g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CANCELLED,
                "Cancelled while writing %s", path);
  } else if (g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DISK_FULL,
                "The disk is full: writing %s failed (%s). Free some space or choose "
                "another folder, then try again", path, cause->message);
  } else {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_WRITE,
                "Could not write %s: %s. Check that the folder exists and is writable, "
                "or choose another one", path, cause->message);
  }
}

static void
set_errno_write_error(GError **error, int saved_errno, const char *path)
{
  g_autoptr(GError) cause = g_error_new_literal(G_IO_ERROR, g_io_error_from_errno(saved_errno),
                                                g_strerror(saved_errno));
  sc_download_set_write_error(error, cause, path);
}

gboolean
sc_download_check_free_space(const char *dir, guint64 needed_bytes, const char *what,
                             GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path(dir);
  g_autoptr(GFileInfo) info =
      g_file_query_filesystem_info(file, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, NULL, NULL);
  if (info == NULL || !g_file_info_has_attribute(info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE))
    return TRUE; /* unknown: the writes will tell */
  guint64 free_bytes = g_file_info_get_attribute_uint64(info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE);
  if (free_bytes >= needed_bytes)
    return TRUE;
  g_autofree char *free_text = g_format_size(free_bytes);
  g_autofree char *needed_text = g_format_size(needed_bytes);
  g_autofree char *missing_text = g_format_size(needed_bytes - free_bytes);
  g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DISK_FULL,
              "Not enough free space in %s: %s (%" G_GUINT64_FORMAT " bytes) are needed for "
              "%s, but only %s are free. Free at least %s or choose another folder", dir,
              needed_text, needed_bytes, what, free_text, missing_text);
  return FALSE;
}

/* ---- Checksums and checks ---- */

gboolean
sc_download_hash_file(const char *path, GChecksum *checksum, ScReporter *r,
                      const ScDownloadOptions *options, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path(path);
  g_autoptr(GError) io_error = NULL;
  g_autoptr(GFileInputStream) in = g_file_read(file, options->cancellable, &io_error);
  if (in == NULL) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DATASET, "Could not read %s: %s",
                path, io_error->message);
    return FALSE;
  }
  g_autofree guint8 *buf = g_malloc(BLOCK_BYTES);
  for (;;) {
    gssize n = g_input_stream_read(G_INPUT_STREAM(in), buf, BLOCK_BYTES, options->cancellable,
                                   &io_error);
    if (n < 0) {
      if (g_error_matches(io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CANCELLED,
                    "Cancelled while checking %s", path);
      else
        g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DATASET,
                    "Could not read %s at byte %" G_GUINT64_FORMAT ": %s", path,
                    r->p.done_bytes, io_error->message);
      return FALSE;
    }
    if (n == 0)
      return TRUE;
    g_checksum_update(checksum, buf, n);
    sc_reporter_update(r, r->p.done_bytes + n);
  }
}

gboolean
sc_download_check_md5(GChecksum *checksum, const char *expected_md5, const char *path,
                      const char *advice, GError **error)
{
  if (expected_md5 == NULL)
    return TRUE;
  const char *found = g_checksum_get_string(checksum);
  if (g_ascii_strcasecmp(found, expected_md5) == 0)
    return TRUE;
  g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CHECKSUM,
              "The MD5 of %s is %s, expected %s: the file is damaged or not the expected "
              "one. %s", path, found, expected_md5, advice);
  return FALSE;
}

guint64
sc_download_source_unpacked_bytes(const ScDownloadSource *source)
{
  g_return_val_if_fail(source != NULL, 0);
  guint64 total = 0;
  for (const ScDownloadFile *f = source->files; f != NULL && f->name != NULL; f++)
    total += f->bytes;
  return total;
}

/* Each file of source->files is in folder with its size (and MD5 when
 * check_md5). */
static gboolean
check_files(const ScDownloadSource *source, const char *folder, gboolean check_md5,
            const ScDownloadOptions *options, GError **error)
{
  ScReporter r;
  if (check_md5)
    sc_reporter_begin(&r, options, SC_DOWNLOAD_STAGE_VERIFYING, 0,
                      sc_download_source_unpacked_bytes(source));
  for (const ScDownloadFile *f = source->files; f != NULL && f->name != NULL; f++) {
    g_autofree char *path = g_build_filename(folder, f->name, NULL);
    GStatBuf st;
    if (g_stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
      g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DATASET,
                  "%s has no file %s (expected %" G_GUINT64_FORMAT " bytes): the folder is "
                  "incomplete. Unpack the archive again or download it again", folder,
                  f->name, f->bytes);
      return FALSE;
    }
    if ((guint64)st.st_size != f->bytes) {
      g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DATASET,
                  "%s is %" G_GUINT64_FORMAT " bytes, expected %" G_GUINT64_FORMAT ": the "
                  "file is cut short or not the expected one. Unpack the archive again or "
                  "download it again", path, (guint64)st.st_size, f->bytes);
      return FALSE;
    }
    if (!check_md5 || f->md5 == NULL)
      continue;
    g_autoptr(GChecksum) md5 = g_checksum_new(G_CHECKSUM_MD5);
    if (!sc_download_hash_file(path, md5, &r, options, error)
        || !sc_download_check_md5(md5, f->md5, path, "Download the data set again", error))
      return FALSE;
  }
  if (check_md5)
    sc_reporter_end(&r);
  return TRUE;
}

static gboolean
open_dataset(const ScDownloadSource *source, const char *folder,
             const ScDownloadOptions *options, GError **error)
{
  ScReporter r;
  sc_reporter_begin(&r, options, SC_DOWNLOAD_STAGE_OPENING, 0, 0);
  g_autoptr(GError) open_error = NULL;
  g_autoptr(ScDataset) dataset = sc_dataset_open(folder, source->format, &open_error);
  if (dataset == NULL) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DATASET,
                "%s does not open as a %s data set: %s", folder,
                sc_data_format_name(source->format), open_error->message);
    return FALSE;
  }
  sc_reporter_end(&r);
  return TRUE;
}

gboolean
sc_download_find_existing(const ScDownloadSource *source, const char *dest_dir,
                          gboolean *present, GError **error)
{
  static const ScDownloadOptions quiet = { 0 };
  g_autofree char *final = g_build_filename(dest_dir, source->folder_name, NULL);
  *present = FALSE;
  if (!g_file_test(final, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autoptr(GError) why = NULL;
  if (!check_files(source, final, FALSE, &quiet, &why)
      || !open_dataset(source, final, &quiet, &why)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DATASET,
                "%s already exists but is not a whole data set (%s). Move it away or "
                "delete it, then try again", final, why->message);
    return FALSE;
  }
  *present = TRUE;
  return TRUE;
}

/* ---- Unpacking ---- */

static void
rmtree(const char *path)
{
  GDir *dir = g_dir_open(path, 0, NULL);
  if (dir != NULL) {
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
        rmtree(child);
      else if (g_unlink(child) != 0)
        g_warning("Failed to remove %s: %s", child, g_strerror(errno));
    }
    g_dir_close(dir);
  }
  if (g_rmdir(path) != 0 && errno != ENOENT)
    g_warning("Failed to remove %s: %s", path, g_strerror(errno));
}

/* A relative path with no "..", no empty or absolute start: it stays inside
 * the folder it is unpacked into. */
static gboolean
entry_path_is_safe(const char *path)
{
  if (path[0] == '\0' || path[0] == '/')
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(path, "/", -1);
  for (char **p = parts; *p != NULL; p++)
    if (strcmp(*p, "..") == 0)
      return FALSE;
  return TRUE;
}

static gboolean
set_archive_error(GError **error, struct archive *a, const char *archive_path,
                  const char *entry)
{
  const char *why = archive_error_string(a);
  g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_ARCHIVE,
              "%s cannot be unpacked%s%s: %s. The archive is damaged or not a tar.gz; "
              "download it again", archive_path, entry != NULL ? " at entry " : "",
              entry != NULL ? entry : "", why != NULL ? why : "unknown libarchive error");
  return FALSE;
}

static gboolean
write_all_fd(int fd, const guint8 *data, gsize len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return FALSE;
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

/* The current entry's data into the new file `path`. */
static gboolean
unpack_file(struct archive *a, const char *path, const char *entry, const char *archive_path,
            guint8 *buf, ScReporter *r, GError **error)
{
  int fd = g_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    set_errno_write_error(error, errno, path);
    return FALSE;
  }
  gboolean ok = TRUE;
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, BLOCK_BYTES);
    if (n < 0) {
      ok = set_archive_error(error, a, archive_path, entry);
      break;
    }
    if (n == 0)
      break;
    if (!write_all_fd(fd, buf, (gsize)n)) {
      set_errno_write_error(error, errno, path);
      ok = FALSE;
      break;
    }
    sc_reporter_update(r, (guint64)archive_filter_bytes(a, -1));
    if (sc_download_cancelled(r->options, "unpacking the archive", error)) {
      ok = FALSE;
      break;
    }
  }
  if (close(fd) != 0 && ok) {
    set_errno_write_error(error, errno, path);
    ok = FALSE;
  }
  return ok;
}

/* One entry below root: folders and regular files only. */
static gboolean
unpack_entry(struct archive *a, struct archive_entry *entry, const char *root,
             const char *archive_path, guint8 *buf, ScReporter *r, GError **error)
{
  const char *name = archive_entry_pathname(entry);
  if (name == NULL || !entry_path_is_safe(name)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_ARCHIVE,
                "%s holds an entry with an unsafe path (%s): it would be written outside "
                "the destination. Use the official archive", archive_path,
                name != NULL ? name : "(none)");
    return FALSE;
  }
  g_autofree char *path = g_build_filename(root, name, NULL);
  mode_t type = archive_entry_filetype(entry);
  if ((type != AE_IFDIR && type != AE_IFREG) || archive_entry_hardlink(entry) != NULL) {
    g_debug("%s: skipping %s, neither a folder nor a regular file", archive_path, name);
    return TRUE;
  }
  g_autofree char *parent = type == AE_IFDIR ? g_strdup(path) : g_path_get_dirname(path);
  if (g_mkdir_with_parents(parent, 0755) != 0) {
    set_errno_write_error(error, errno, parent);
    return FALSE;
  }
  return type == AE_IFDIR || unpack_file(a, path, name, archive_path, buf, r, error);
}

static gboolean
unpack(const char *archive_path, const char *root, const ScDownloadOptions *options,
       GError **error)
{
  GStatBuf st;
  guint64 archive_bytes = g_stat(archive_path, &st) == 0 ? (guint64)st.st_size : 0;
  ScReporter r;
  sc_reporter_begin(&r, options, SC_DOWNLOAD_STAGE_EXTRACTING, 0, archive_bytes);

  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  g_autofree guint8 *buf = g_malloc(BLOCK_BYTES);
  gboolean ok = TRUE;
  if (archive_read_open_filename(a, archive_path, BLOCK_BYTES) != ARCHIVE_OK) {
    ok = set_archive_error(error, a, archive_path, NULL);
  } else {
    struct archive_entry *entry;
    int status;
    while (ok && (status = archive_read_next_header(a, &entry)) != ARCHIVE_EOF) {
      if (status < ARCHIVE_WARN)
        ok = set_archive_error(error, a, archive_path, NULL);
      else
        ok = unpack_entry(a, entry, root, archive_path, buf, &r, error);
    }
  }
  archive_read_free(a);
  if (ok) {
    r.p.done_bytes = archive_bytes;
    sc_reporter_end(&r);
  }
  return ok;
}

/* Hidden partial folders of earlier runs that stopped in the middle. */
static void
remove_stale_partials(const char *dest_dir, const char *prefix)
{
  GDir *dir = g_dir_open(dest_dir, 0, NULL);
  if (dir == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name(dir)) != NULL) {
    if (!g_str_has_prefix(name, prefix))
      continue;
    g_autofree char *path = g_build_filename(dest_dir, name, NULL);
    g_debug("removing %s, left by an interrupted run", path);
    rmtree(path);
  }
  g_dir_close(dir);
}

/* Unpacks into partial/, checks partial/<folder_name> and renames it. */
static gboolean
install_from(const ScDownloadSource *source, const char *archive_path, const char *partial,
             const char *final, const ScDownloadOptions *options, GError **error)
{
  if (!unpack(archive_path, partial, options, error))
    return FALSE;
  g_autofree char *inner = g_build_filename(partial, source->folder_name, NULL);
  if (!g_file_test(inner, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_ARCHIVE,
                "%s holds no folder %s/ at its top: it is not the expected archive",
                archive_path, source->folder_name);
    return FALSE;
  }
  if (!check_files(source, inner, FALSE, options, error)
      || !open_dataset(source, inner, options, error))
    return FALSE;
  if (g_rename(inner, final) != 0) {
    set_errno_write_error(error, errno, final);
    return FALSE;
  }
  return TRUE;
}

gboolean
sc_download_install_archive(const ScDownloadSource *source, const char *archive_path,
                            const char *dest_dir, const ScDownloadOptions *options,
                            GError **error)
{
  g_autofree char *prefix = g_strdup_printf(".%s.partial-", source->folder_name);
  remove_stale_partials(dest_dir, prefix);
  g_autofree char *partial = g_strdup_printf("%s/%sXXXXXX", dest_dir, prefix);
  if (g_mkdtemp(partial) == NULL) {
    set_errno_write_error(error, errno, dest_dir);
    return FALSE;
  }
  g_autofree char *final = g_build_filename(dest_dir, source->folder_name, NULL);
  gboolean ok = install_from(source, archive_path, partial, final, options, error);
  rmtree(partial);
  return ok;
}

/* ---- Imports ---- */

gboolean
sc_import_archive(const ScDownloadSource *source, const char *archive_path,
                  const char *dest_dir, const ScDownloadOptions *options, char **dataset_path,
                  GError **error)
{
  static const ScDownloadOptions defaults = { 0 };
  g_return_val_if_fail(archive_path != NULL, FALSE);
  source = source != NULL ? source : sc_download_source_stl10();
  options = options != NULL ? options : &defaults;
  g_autofree char *dest = dest_dir != NULL ? g_strdup(dest_dir) : g_path_get_dirname(archive_path);

  GStatBuf st;
  if (g_stat(archive_path, &st) != 0 || !S_ISREG(st.st_mode)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_ARCHIVE,
                "%s is not a readable file (%s). Choose the downloaded %s", archive_path,
                g_strerror(errno), source->archive_name);
    return FALSE;
  }
  if (source->archive_bytes != 0 && (guint64)st.st_size != source->archive_bytes) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CHECKSUM,
                "%s is %" G_GUINT64_FORMAT " bytes, expected %" G_GUINT64_FORMAT ": the "
                "download is incomplete or it is another file. Download it again",
                archive_path, (guint64)st.st_size, source->archive_bytes);
    return FALSE;
  }
  if (source->archive_md5 != NULL) {
    ScReporter r;
    sc_reporter_begin(&r, options, SC_DOWNLOAD_STAGE_VERIFYING, 0, (guint64)st.st_size);
    g_autoptr(GChecksum) md5 = g_checksum_new(G_CHECKSUM_MD5);
    if (!sc_download_hash_file(archive_path, md5, &r, options, error)
        || !sc_download_check_md5(md5, source->archive_md5, archive_path,
                                  "Download it again", error))
      return FALSE;
    sc_reporter_end(&r);
  }

  gboolean present;
  if (!sc_download_find_existing(source, dest, &present, error))
    return FALSE;
  if (!present
      && (!sc_download_check_free_space(dest, sc_download_source_unpacked_bytes(source),
                                        "the unpacked files", error)
          || !sc_download_install_archive(source, archive_path, dest, options, error)))
    return FALSE;
  if (dataset_path != NULL)
    *dataset_path = g_build_filename(dest, source->folder_name, NULL);
  return TRUE;
}

gboolean
sc_import_folder(const ScDownloadSource *source, const char *folder,
                 const ScDownloadOptions *options, char **dataset_path, GError **error)
{
  static const ScDownloadOptions defaults = { 0 };
  g_return_val_if_fail(folder != NULL, FALSE);
  source = source != NULL ? source : sc_download_source_stl10();
  options = options != NULL ? options : &defaults;
  if (!g_file_test(folder, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_DATASET,
                "%s is not a folder. Choose the unpacked %s folder or its parent", folder,
                source->folder_name);
    return FALSE;
  }
  /* The data set folder itself, or the folder it was unpacked into. */
  g_autofree char *inner = g_build_filename(folder, source->folder_name, NULL);
  const char *root = g_file_test(inner, G_FILE_TEST_IS_DIR) ? inner : folder;
  if (!check_files(source, root, TRUE, options, error)
      || !open_dataset(source, root, options, error))
    return FALSE;
  if (dataset_path != NULL)
    *dataset_path = g_strdup(root);
  return TRUE;
}
