/* Getting a data set onto the disk: download of an official archive, import
 * of an archive or a folder already there, and the checks that make sure
 * what ends up in the destination is a whole data set. STL-10 (reference
 * section 1.1) is the default source; tests pass their own.
 *
 * Every function here blocks: call it from a worker thread (a GThread, or
 * g_task_run_in_thread). The progress callback runs on that same thread, so
 * a UI forwards the values to its main loop itself. Cancel from any thread
 * with the GCancellable in the options.
 *
 * sc_download_dataset(source, DEST, ...) does, in the folder DEST:
 *   1. DEST/<archive_name>.part receives the bytes. A .part left by a cut or
 *      cancelled run is resumed with an HTTP Range request; a server that
 *      answers 200 instead of 206 Partial Content makes it start over.
 *   2. The size and MD5 are checked; the .part becomes DEST/<archive_name>.
 *   3. The archive is unpacked into a hidden DEST/.<folder_name>.partial-XXXXXX
 *      next to the destination, the folder is checked (file sizes) and opened
 *      with sc_dataset_open, and only then renamed to DEST/<folder_name>. A
 *      folder of that name therefore only ever holds a whole data set.
 *   4. The archive is deleted unless options->keep_archive is set.
 * When DEST/<folder_name> already holds a whole data set nothing is fetched.
 * Run one download per destination at a time: a second run there removes the
 * first one's hidden partial folder.
 *
 * Errors come in SC_DOWNLOAD_ERROR; each message says what happened (with the
 * file, address, byte counts or status) and what to do next. */
#pragma once

#include <gio/gio.h>

#include "dataset.h"

G_BEGIN_DECLS

#define SC_DOWNLOAD_ERROR (sc_download_error_quark())
GQuark sc_download_error_quark(void);

typedef enum {
  SC_DOWNLOAD_ERROR_INVALID,   /* a bad argument, e.g. an address that is not http(s) */
  SC_DOWNLOAD_ERROR_NETWORK,   /* the server could not be reached, or the connection broke */
  SC_DOWNLOAD_ERROR_HTTP,      /* the server answered with an error status */
  SC_DOWNLOAD_ERROR_CHECKSUM,  /* a size or MD5 differs from the expected one */
  SC_DOWNLOAD_ERROR_WRITE,     /* a file or folder could not be created or written */
  SC_DOWNLOAD_ERROR_DISK_FULL, /* not enough free space in the destination */
  SC_DOWNLOAD_ERROR_ARCHIVE,   /* the archive cannot be read or holds unsafe paths */
  SC_DOWNLOAD_ERROR_DATASET,   /* the files do not form the expected data set */
  SC_DOWNLOAD_ERROR_CANCELLED, /* the cancellable was triggered */
} ScDownloadError;

/* A file the data set folder must hold. */
typedef struct {
  const char *name;  /* relative to the folder, e.g. "train_X.bin" */
  guint64 bytes;     /* exact size */
  const char *md5;   /* lower-case hex, or NULL: only the size is checked */
} ScDownloadFile;

/* Where a data set comes from and what it must look like. */
typedef struct {
  const char *url;              /* http:// or https:// address of the archive */
  const char *archive_name;     /* file name in the destination, e.g. "stl10_binary.tar.gz" */
  guint64 archive_bytes;        /* exact size of the archive; 0: not checked */
  const char *archive_md5;      /* lower-case hex MD5 of the archive; NULL: not checked */
  const char *folder_name;      /* the folder the archive unpacks to, e.g. "stl10_binary" */
  ScDataFormat format;          /* how sc_dataset_open must read that folder */
  const ScDownloadFile *files;  /* files the folder must hold, ended by { NULL }; may be NULL */
} ScDownloadSource;

/* The official STL-10 binary archive at Stanford: its address, size, MD5,
 * and the sizes and MD5s of the five .bin files it unpacks to. */
const ScDownloadSource *sc_download_source_stl10(void);

/* Bytes the unpacked folder takes: the sum of source->files. */
guint64 sc_download_source_unpacked_bytes(const ScDownloadSource *source);

typedef enum {
  SC_DOWNLOAD_STAGE_RESUMING,    /* hashing the bytes kept from an earlier download */
  SC_DOWNLOAD_STAGE_DOWNLOADING, /* receiving the archive */
  SC_DOWNLOAD_STAGE_VERIFYING,   /* hashing an archive or folder being imported */
  SC_DOWNLOAD_STAGE_EXTRACTING,  /* unpacking (bytes: of the archive read so far) */
  SC_DOWNLOAD_STAGE_OPENING,     /* opening the unpacked folder as a data set */
} ScDownloadStage;

typedef struct {
  ScDownloadStage stage;
  guint64 done_bytes;      /* so far in this stage; a resumed download counts its kept part */
  guint64 total_bytes;     /* this stage's total, 0 when unknown */
  double rate_bytes_per_s; /* average since the stage began, 0 until it can be measured */
  double eta_s;            /* seconds left in this stage, < 0 when unknown */
} ScDownloadProgress;

/* Called at the start and end of each stage, when its first bytes moved, and
 * at most every 100 ms between (on the calling thread). */
typedef void (*ScDownloadProgressFunc)(const ScDownloadProgress *progress,
                                       gpointer user_data);

typedef struct {
  ScDownloadProgressFunc progress; /* may be NULL */
  gpointer user_data;
  GCancellable *cancellable;       /* may be NULL */
  gboolean keep_archive;           /* keep DEST/<archive_name> after unpacking */
} ScDownloadOptions;

/* Downloads source (NULL: STL-10) into dest_dir (created when missing) as
 * described at the top. On success *dataset_path (when not NULL) gets the
 * folder to pass to sc_dataset_open, e.g. DEST/stl10_binary. A failed or
 * cancelled download keeps its .part for the next run, except after an MD5
 * mismatch, where the .part is deleted. options may be NULL. */
gboolean sc_download_dataset(const ScDownloadSource *source, const char *dest_dir,
                             const ScDownloadOptions *options, char **dataset_path,
                             GError **error);

/* Imports an archive already on disk (e.g. downloaded with a browser): checks
 * its size and MD5, then unpacks it into dest_dir (NULL: the archive's own
 * folder) as in steps 3 of sc_download_dataset. The archive is left where it
 * is. */
gboolean sc_import_archive(const ScDownloadSource *source, const char *archive_path,
                           const char *dest_dir, const ScDownloadOptions *options,
                           char **dataset_path, GError **error);

/* Checks a folder unpacked by hand, in place: `folder` is the data set folder
 * or its parent holding source->folder_name. Every file of source->files must
 * be there with its size and MD5, and the folder must open as a data set.
 * Nothing is copied; *dataset_path gets the folder that was checked. */
gboolean sc_import_folder(const ScDownloadSource *source, const char *folder,
                          const ScDownloadOptions *options, char **dataset_path,
                          GError **error);

G_END_DECLS
