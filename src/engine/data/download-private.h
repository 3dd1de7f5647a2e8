/* Inside the download module: progress reports, error wording and the
 * unpack-check-rename step shared by downloads and imports. */
#pragma once

#include "download.h"

G_BEGIN_DECLS

/* Progress of one stage, throttled to a report every 100 ms. */
typedef struct {
  const ScDownloadOptions *options;
  ScDownloadProgress p;
  gint64 start_us;      /* monotonic time the stage began */
  gint64 last_us;       /* of the last report */
  guint64 start_bytes;  /* done_bytes when the stage began (a resumed part) */
  gboolean updated;     /* an update was reported since the stage began */
} ScReporter;

void sc_reporter_begin(ScReporter *r, const ScDownloadOptions *options, ScDownloadStage stage,
                       guint64 done_bytes, guint64 total_bytes);
/* Reports the first update of a stage (the first bytes moved), then when
 * 100 ms have passed since the last report. */
void sc_reporter_update(ScReporter *r, guint64 done_bytes);
/* Reports now (the end of a stage). */
void sc_reporter_end(ScReporter *r);

/* TRUE when options ask to stop; sets a CANCELLED error saying `while`. */
gboolean sc_download_cancelled(const ScDownloadOptions *options, const char *while_doing,
                               GError **error);
/* A write failure on `path`: DISK_FULL for G_IO_ERROR_NO_SPACE, CANCELLED for
 * G_IO_ERROR_CANCELLED, WRITE otherwise. */
void sc_download_set_write_error(GError **error, const GError *cause, const char *path);
/* DISK_FULL unless the file system of `dir` has `needed_bytes` free (or does
 * not say how much it has). */
gboolean sc_download_check_free_space(const char *dir, guint64 needed_bytes, const char *what,
                                      GError **error);
/* Adds the bytes of `path` to checksum, reporting through r (whose done
 * counter grows by the file's size). */
gboolean sc_download_hash_file(const char *path, GChecksum *checksum, ScReporter *r,
                               const ScDownloadOptions *options, GError **error);
/* CHECKSUM unless the hex digest of checksum equals expected_md5 (NULL: TRUE). */
gboolean sc_download_check_md5(GChecksum *checksum, const char *expected_md5,
                               const char *path, const char *advice, GError **error);

/* When dest_dir/<folder_name> exists: *present = TRUE if it holds a whole
 * data set (sizes checked, opens), else FALSE with an error saying to move
 * it away. When it does not exist: *present = FALSE and TRUE. */
gboolean sc_download_find_existing(const ScDownloadSource *source, const char *dest_dir,
                                   gboolean *present, GError **error);
/* Unpacks archive_path into a hidden folder in dest_dir, checks and opens the
 * data set folder inside, and renames it to dest_dir/<folder_name>. */
gboolean sc_download_install_archive(const ScDownloadSource *source, const char *archive_path,
                                     const char *dest_dir, const ScDownloadOptions *options,
                                     GError **error);

G_END_DECLS
