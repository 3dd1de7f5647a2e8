/* STL-10 binary (reference 1.1): 96x96x3 records of three column-major
 * planes, labels 1..10 in separate files. The image files stay mapped and
 * each image is transposed when it is read. */
/* TODO: fold_indices.txt (the ten official training folds) is not read. */
/* TODO: no madvise(MADV_RANDOM) on the unlabeled mapping; measure page-cache
 * behaviour on the real 2.76 GB file before tuning. */
#include "readers.h"

#include "sc-error.h"

static const char *const stl10_default_names[] = {
  "airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck", NULL,
};

int32_t *
sc_stl10_parse_labels(const guint8 *data, gsize len, const char *name, size_t *n_out,
                      GError **error)
{
  g_return_val_if_fail(n_out != NULL && (data != NULL || len == 0), NULL);
  if (len == 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s is empty: expected one label byte (1..10) per image", name);
    return NULL;
  }
  int32_t *labels = g_new(int32_t, len);
  for (gsize i = 0; i < len; i++) {
    if (data[i] < 1 || data[i] > SC_STL10_CLASSES) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s record %zu (byte offset %zu): label %u is outside 1..%d", name, i, i,
                  data[i], SC_STL10_CLASSES);
      g_free(labels);
      return NULL;
    }
    labels[i] = data[i] - 1;
  }
  *n_out = len;
  return labels;
}

ScSplit *
sc_stl10_split_from_bytes(const char *split_name, GBytes *records, const char *records_name,
                          GBytes *labels, const char *labels_name, GError **error)
{
  gsize size = g_bytes_get_size(records);
  if (size == 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s is empty: expected %d-byte images (3 x 96 x 96)", records_name,
                SC_STL10_RECORD_BYTES);
    return NULL;
  }
  if (size % SC_STL10_RECORD_BYTES != 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s is %zu bytes, not a whole number of %d-byte images (3 x 96 x 96): "
                "%zu whole images and %zu bytes over", records_name, size,
                SC_STL10_RECORD_BYTES, size / SC_STL10_RECORD_BYTES,
                size % SC_STL10_RECORD_BYTES);
    return NULL;
  }
  size_t n = size / SC_STL10_RECORD_BYTES;
  int32_t *label_array = NULL;
  if (labels != NULL) {
    gsize labels_len;
    const guint8 *label_bytes = g_bytes_get_data(labels, &labels_len);
    size_t n_labels;
    label_array = sc_stl10_parse_labels(label_bytes, labels_len, labels_name, &n_labels, error);
    if (label_array == NULL)
      return NULL;
    if (n_labels != n) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s holds %zu labels, expected %zu (one per image of %s)", labels_name,
                  n_labels, n, records_name);
      g_free(label_array);
      return NULL;
    }
  }
  return sc_split_new_stl10(split_name, records, n, label_array);
}

/* Maps dir/file, failing with a message that names the folder when absent. */
static GBytes *
map_in(const char *dir, const char *file, const char *what, GError **error)
{
  g_autofree char *path = g_build_filename(dir, file, NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_IO, "The %s folder %s has no %s", what, dir,
                file);
    return NULL;
  }
  return sc_data_map_file(path, error);
}

static ScSplit *
open_split(const char *dir, const char *split_name, const char *x_file, const char *y_file,
           GError **error)
{
  g_autoptr(GBytes) records = map_in(dir, x_file, "STL-10", error);
  if (records == NULL)
    return NULL;
  g_autoptr(GBytes) labels = NULL;
  if (y_file != NULL && !(labels = map_in(dir, y_file, "STL-10", error)))
    return NULL;
  g_autofree char *x_path = g_build_filename(dir, x_file, NULL);
  g_autofree char *y_path = y_file != NULL ? g_build_filename(dir, y_file, NULL) : NULL;
  return sc_stl10_split_from_bytes(split_name, records, x_path, labels, y_path, error);
}

static char **
read_class_names(const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename(dir, "class_names.txt", NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_debug("%s: no class_names.txt, using STL-10's names", dir);
    return g_strdupv((char **)stl10_default_names);
  }
  g_autoptr(GBytes) text = sc_data_map_file(path, error);
  if (text == NULL)
    return NULL;
  gsize len;
  const char *data = g_bytes_get_data(text, &len);
  return sc_class_names_parse(data, len, path, SC_STL10_CLASSES, error);
}

ScDataset *
sc_stl10_open(const char *dir, GError **error)
{
  /* The archive's folder or the folder it was unpacked into. */
  g_autofree char *inner = g_build_filename(dir, "stl10_binary", NULL);
  g_autofree char *probe = g_build_filename(dir, "train_X.bin", NULL);
  const char *root = !g_file_test(probe, G_FILE_TEST_EXISTS)
                         && g_file_test(inner, G_FILE_TEST_IS_DIR) ? inner : dir;

  g_autoptr(ScDataset) d = sc_dataset_new(SC_FORMAT_STL10, root);
  d->n_classes = SC_STL10_CLASSES;
  if (!(d->train = open_split(root, "train", "train_X.bin", "train_y.bin", error))
      || !(d->test = open_split(root, "test", "test_X.bin", "test_y.bin", error))
      || !(d->class_names = read_class_names(root, error)))
    return NULL;
  /* Stanford's page calls it unlabeled.bin; the archive holds unlabeled_X.bin. */
  static const char *const unlabeled_names[] = { "unlabeled_X.bin", "unlabeled.bin", NULL };
  g_autofree char *unlabeled = sc_data_find_file(root, unlabeled_names);
  g_autofree char *unlabeled_file = unlabeled != NULL ? g_path_get_basename(unlabeled) : NULL;
  if (unlabeled != NULL
      && !(d->unlabeled = open_split(root, "unlabeled", unlabeled_file, NULL, error)))
    return NULL;
  return g_steal_pointer(&d);
}
