/* Inside the data module: split constructors and the readers' parsers.
 *
 * Each binary reader parses buffers in memory (GBytes), so the same code
 * runs on memory-mapped files and on fuzzer inputs. Every parser checks the
 * sizes it was given before touching a byte and fails with a GError in
 * SC_DATA_ERROR naming the file, the record or byte offset, and expected
 * versus found. */
#pragma once

#include "dataset.h"

G_BEGIN_DECLS

/* ---- Splits ---- */

/* pixels: (n, h, w, c) HWC bytes, referenced (not copied); labels: (n), taken,
 * may be NULL. */
ScSplit *sc_split_new_hwc(const char *name, GBytes *pixels, size_t n, int h, int w, int c,
                          int32_t *labels);
/* records: n STL-10 records (column-major planes), referenced; labels taken. */
ScSplit *sc_split_new_stl10(const char *name, GBytes *records, size_t n, int32_t *labels);
void sc_split_free(ScSplit *split);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScSplit, sc_split_free)

/* A file's contents, memory-mapped read-only. */
GBytes *sc_data_map_file(const char *path, GError **error);
/* The first of `names` present in `dir` (a newly allocated path), or NULL. */
char *sc_data_find_file(const char *dir, const char *const *names);
ScDataset *sc_dataset_new(ScDataFormat format, const char *path);

/* ---- Class names: one per line (class_names.txt, batches.meta.txt) ----
 * CR before LF and surrounding spaces are stripped and blank lines at the end
 * ignored. An empty file, a blank line before the last name, a name that is
 * not UTF-8 or a count other than `expected` is an error naming the line.
 * Returns a NULL-terminated array of `expected` names. */
char **sc_class_names_parse(const char *text, gsize len, const char *name, int expected,
                            GError **error);

/* ---- STL-10 ---- */
#define SC_STL10_SIDE 96
#define SC_STL10_PLANE_BYTES (96 * 96)
#define SC_STL10_RECORD_BYTES (3 * 96 * 96)
#define SC_STL10_CLASSES 10

/* Labels of a *_y.bin: bytes 1..10 -> 0..9 into a new array of *n_out. */
int32_t *sc_stl10_parse_labels(const guint8 *data, gsize len, const char *name,
                               size_t *n_out, GError **error);
/* A split from the contents of a *_X.bin and its *_y.bin (labels may be NULL). */
ScSplit *sc_stl10_split_from_bytes(const char *split_name, GBytes *records,
                                   const char *records_name, GBytes *labels,
                                   const char *labels_name, GError **error);
ScDataset *sc_stl10_open(const char *dir, GError **error);

/* ---- CIFAR-10 ---- */
#define SC_CIFAR10_SIDE 32
#define SC_CIFAR10_RECORD_BYTES (1 + 3 * 32 * 32)

/* A split decoded to HWC from the contents of batch files (records of a
 * label byte 0..n_classes-1 and three row-major planes R, G, B). */
ScSplit *sc_cifar10_split_from_bytes(const char *split_name, GBytes *const *files,
                                     const char *const *names, size_t n_files,
                                     int n_classes, GError **error);
ScDataset *sc_cifar10_open(const char *dir, GError **error);

/* ---- IDX ---- */
typedef struct {
  int n_dims;
  uint32_t dims[3];
  const guint8 *data; /* the payload after the header, borrowed */
  gsize data_len;     /* = product of dims */
} ScIdxHeader;

/* Checks the magic 00 00 08 <n_dims> (unsigned bytes only), the dimensions
 * and that the payload is exactly their product. */
gboolean sc_idx_parse(const guint8 *data, gsize len, const char *name, int n_dims,
                      ScIdxHeader *out, GError **error);
/* The decompressed contents when `bytes` starts with the gzip magic 1f 8b,
 * else a new reference to `bytes`. */
GBytes *sc_data_maybe_gunzip(GBytes *bytes, const char *name, GError **error);
/* A split from the (decompressed) contents of an images and a labels file. */
ScSplit *sc_idx_split_from_bytes(const char *split_name, GBytes *images,
                                 const char *images_name, GBytes *labels,
                                 const char *labels_name, GError **error);
ScDataset *sc_idx_open(const char *dir, GError **error);

/* ---- Folder of images ---- */
ScDataset *sc_folder_open(const char *dir, GError **error);

G_END_DECLS
