/* CIFAR-10 binary (reference 1.3): 3073-byte records of a label byte and
 * three row-major 32x32 planes R, G, B. Decoded to HWC in memory (150 MB for
 * the whole set). */
/* TODO: CIFAR-100 (two label bytes per record) is not read. */
#include "readers.h"

#include <string.h>

#include "sc-error.h"

#define CIFAR10_CLASSES 10
#define CIFAR10_TRAIN_FILES 5
#define PLANE (SC_CIFAR10_SIDE * SC_CIFAR10_SIDE)

static const char *const cifar10_default_names[] = {
  "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
  NULL,
};

/* Checks a batch file's size; *n_out gets its record count. */
static gboolean
check_batch_size(gsize size, const char *name, size_t *n_out, GError **error)
{
  if (size == 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s is empty: expected %d-byte records (a label byte and 3 x 32 x 32 pixels)",
                name, SC_CIFAR10_RECORD_BYTES);
    return FALSE;
  }
  if (size % SC_CIFAR10_RECORD_BYTES != 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s is %zu bytes, not a whole number of %d-byte records: %zu whole records "
                "and %zu bytes over", name, size, SC_CIFAR10_RECORD_BYTES,
                size / SC_CIFAR10_RECORD_BYTES, size % SC_CIFAR10_RECORD_BYTES);
    return FALSE;
  }
  *n_out = size / SC_CIFAR10_RECORD_BYTES;
  return TRUE;
}

/* One record's planes (c, h, w) -> (h, w, c). */
static void
record_to_hwc(const guint8 *planes, guint8 *hwc)
{
  for (int ch = 0; ch < 3; ch++)
    for (int i = 0; i < PLANE; i++)
      hwc[i * 3 + ch] = planes[ch * PLANE + i];
}

ScSplit *
sc_cifar10_split_from_bytes(const char *split_name, GBytes *const *files,
                            const char *const *names, size_t n_files, int n_classes,
                            GError **error)
{
  g_return_val_if_fail(n_files > 0 && n_classes > 0 && n_classes <= 256, NULL);
  size_t total = 0;
  for (size_t f = 0; f < n_files; f++) {
    size_t n;
    if (!check_batch_size(g_bytes_get_size(files[f]), names[f], &n, error))
      return NULL;
    total += n;
  }
  const size_t image_bytes = 3 * PLANE;
  g_autofree guint8 *pixels = g_try_malloc(total * image_bytes); /* (total, 32, 32, 3) */
  g_autofree int32_t *labels = g_try_new(int32_t, total);
  if (pixels == NULL || labels == NULL) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "Out of memory for %zu CIFAR-10 images of %s", total, split_name);
    return NULL;
  }
  size_t out = 0;
  for (size_t f = 0; f < n_files; f++) {
    gsize size;
    const guint8 *data = g_bytes_get_data(files[f], &size);
    for (size_t r = 0; r < size / SC_CIFAR10_RECORD_BYTES; r++, out++) {
      const guint8 *rec = data + r * SC_CIFAR10_RECORD_BYTES;
      if (rec[0] >= n_classes) {
        g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                    "%s record %zu (byte offset %zu): label %u is outside 0..%d", names[f], r,
                    r * SC_CIFAR10_RECORD_BYTES, rec[0], n_classes - 1);
        return NULL;
      }
      labels[out] = rec[0];
      record_to_hwc(rec + 1, pixels + out * image_bytes);
    }
  }
  g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&pixels), total * image_bytes);
  return sc_split_new_hwc(split_name, bytes, total, SC_CIFAR10_SIDE, SC_CIFAR10_SIDE, 3,
                          g_steal_pointer(&labels));
}

static ScSplit *
open_split(const char *dir, const char *split_name, const char *const *files, size_t n_files,
           GError **error)
{
  GBytes *contents[CIFAR10_TRAIN_FILES] = { NULL };
  char *paths[CIFAR10_TRAIN_FILES] = { NULL };
  ScSplit *split = NULL;
  g_assert(n_files <= CIFAR10_TRAIN_FILES);
  for (size_t f = 0; f < n_files; f++) {
    paths[f] = g_build_filename(dir, files[f], NULL);
    if (!g_file_test(paths[f], G_FILE_TEST_EXISTS)) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_IO, "The CIFAR-10 folder %s has no %s", dir,
                  files[f]);
      goto out;
    }
    if (!(contents[f] = sc_data_map_file(paths[f], error)))
      goto out;
  }
  split = sc_cifar10_split_from_bytes(split_name, contents, (const char *const *)paths,
                                      n_files, CIFAR10_CLASSES, error);
out:
  for (size_t f = 0; f < n_files; f++) {
    g_clear_pointer(&contents[f], g_bytes_unref);
    g_free(paths[f]);
  }
  return split;
}

static char **
read_class_names(const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename(dir, "batches.meta.txt", NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_debug("%s: no batches.meta.txt, using CIFAR-10's names", dir);
    return g_strdupv((char **)cifar10_default_names);
  }
  g_autoptr(GBytes) text = sc_data_map_file(path, error);
  if (text == NULL)
    return NULL;
  gsize len;
  const char *data = g_bytes_get_data(text, &len);
  return sc_class_names_parse(data, len, path, CIFAR10_CLASSES, error);
}

ScDataset *
sc_cifar10_open(const char *dir, GError **error)
{
  g_autofree char *inner = g_build_filename(dir, "cifar-10-batches-bin", NULL);
  g_autofree char *probe = g_build_filename(dir, "data_batch_1.bin", NULL);
  const char *root = !g_file_test(probe, G_FILE_TEST_EXISTS)
                         && g_file_test(inner, G_FILE_TEST_IS_DIR) ? inner : dir;

  static const char *const train_files[] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
    "data_batch_5.bin",
  };
  static const char *const test_files[] = { "test_batch.bin" };
  g_autoptr(ScDataset) d = sc_dataset_new(SC_FORMAT_CIFAR10, root);
  d->n_classes = CIFAR10_CLASSES;
  if (!(d->train = open_split(root, "train", train_files, CIFAR10_TRAIN_FILES, error))
      || !(d->test = open_split(root, "test", test_files, 1, error))
      || !(d->class_names = read_class_names(root, error)))
    return NULL;
  return g_steal_pointer(&d);
}
