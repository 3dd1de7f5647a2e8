/* Opening a data set: format detection and the checks common to readers. */
#include "readers.h"

#include <string.h>

#include "sc-error.h"

static gboolean
has_file(const char *dir, const char *a, const char *b)
{
  g_autofree char *path = g_build_filename(dir, a, b, NULL);
  return g_file_test(path, G_FILE_TEST_EXISTS);
}

static gboolean
is_image_name(const char *name)
{
  const char *dot = strrchr(name, '.');
  return name[0] != '.' && dot != NULL
         && (g_ascii_strcasecmp(dot, ".png") == 0 || g_ascii_strcasecmp(dot, ".jpg") == 0
             || g_ascii_strcasecmp(dot, ".jpeg") == 0);
}

/* A non-hidden sub-folder holding a .png/.jpg/.jpeg file directly or, with
 * depth 2, in a sub-folder of its own (as train/<class>/): every layout
 * the folder reader opens or explains. */
static gboolean
has_image_subfolder(const char *dir, int depth)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *sub = g_build_filename(dir, name, NULL);
    if (name[0] == '.' || !g_file_test(sub, G_FILE_TEST_IS_DIR))
      continue;
    g_autoptr(GDir) sd = g_dir_open(sub, 0, NULL);
    const char *file;
    while (sd != NULL && (file = g_dir_read_name(sd)) != NULL) {
      if (is_image_name(file))
        return TRUE;
    }
    if (depth > 1 && has_image_subfolder(sub, depth - 1))
      return TRUE;
  }
  return FALSE;
}

/* The format of the data set in dir, from the names of its files. */
static gboolean
detect_format(const char *dir, ScDataFormat *format)
{
  if (has_file(dir, "train_X.bin", NULL) || has_file(dir, "stl10_binary", "train_X.bin"))
    *format = SC_FORMAT_STL10;
  else if (has_file(dir, "data_batch_1.bin", NULL)
           || has_file(dir, "cifar-10-batches-bin", "data_batch_1.bin"))
    *format = SC_FORMAT_CIFAR10;
  else if (has_file(dir, "train-images-idx3-ubyte", NULL)
           || has_file(dir, "train-images-idx3-ubyte.gz", NULL)
           || has_file(dir, "train-images.idx3-ubyte", NULL))
    *format = SC_FORMAT_IDX;
  else if (has_image_subfolder(dir, 2))
    *format = SC_FORMAT_FOLDER;
  else
    return FALSE;
  return TRUE;
}

static int
compare_strings(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether dir holds a data set the readers open, not merely one that
 * detection would pick and the folder reader explain: a folder data set then
 * needs images in dir/<class>/ or dir/train/<class>/. */
static gboolean
holds_dataset(const char *dir, ScDataFormat *format)
{
  if (!detect_format(dir, format))
    return FALSE;
  if (*format != SC_FORMAT_FOLDER || has_image_subfolder(dir, 1))
    return TRUE;
  g_autofree char *train = g_build_filename(dir, "train", NULL);
  return has_image_subfolder(train, 1);
}

/* "DIR/a (idx) or DIR/b (folder)": the sub-folders of dir that hold a data
 * set (giving the folder above one is an easy slip), or NULL if none does. */
static char *
find_subfolder_datasets(const char *dir, guint *count)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *sub = g_build_filename(dir, name, NULL);
    ScDataFormat format;
    if (name[0] != '.' && g_file_test(sub, G_FILE_TEST_IS_DIR) && holds_dataset(sub, &format))
      g_ptr_array_add(found, g_strdup_printf("%s (%s)", sub, sc_data_format_name(format)));
  }
  *count = found->len;
  if (found->len == 0)
    return NULL;
  g_ptr_array_sort(found, compare_strings);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < found->len; i++)
    g_string_append_printf(s, "%s%s", i == 0 ? "" : i + 1 == found->len ? " or " : ", ",
                           (const char *)found->pdata[i]);
  return g_string_free(s, FALSE);
}

static gboolean
detect(const char *dir, ScDataFormat *format, GError **error)
{
  gboolean detected = detect_format(dir, format);
  /* Images two levels down are also what the folder above several folder
   * data sets looks like: name those rather than call each one a class. */
  ScDataFormat own;
  if (detected && (*format != SC_FORMAT_FOLDER || holds_dataset(dir, &own))) {
    g_debug("%s: detected format %s", dir, sc_data_format_name(*format));
    return TRUE;
  }
  guint n_below = 0;
  g_autofree char *below = find_subfolder_datasets(dir, &n_below);
  if (detected && below == NULL)
    return TRUE; /* the folder reader says what is wrong with the layout */
  if (below != NULL)
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "Could not tell the data format of %s: it holds no data set itself, but "
                "%s: did you mean %s?", dir,
                n_below > 1 ? "sub-folders do" : "a sub-folder does", below);
  else
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "Could not tell the data format of %s: looked for train_X.bin or "
                "stl10_binary/train_X.bin (STL-10), data_batch_1.bin or "
                "cifar-10-batches-bin/data_batch_1.bin (CIFAR-10), "
                "train-images-idx3-ubyte[.gz] (IDX: MNIST, Fashion-MNIST) and sub-folders "
                "of .png or .jpg images, one per class (folder)", dir);
  return FALSE;
}

/* Every split has the train split's image size. */
static gboolean
check_sizes(const ScDataset *d, GError **error)
{
  const ScSplit *splits[] = { d->test, d->unlabeled };
  for (size_t i = 0; i < G_N_ELEMENTS(splits); i++) {
    const ScSplit *s = splits[i];
    if (s == NULL)
      continue;
    if (sc_split_height(s) != sc_split_height(d->train)
        || sc_split_width(s) != sc_split_width(d->train)
        || sc_split_channels(s) != sc_split_channels(d->train)) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s: the %s images are %dx%dx%d (h x w x c), expected %dx%dx%d like the "
                  "train images", d->path, sc_split_name(s), sc_split_height(s),
                  sc_split_width(s), sc_split_channels(s), sc_split_height(d->train),
                  sc_split_width(d->train), sc_split_channels(d->train));
      return FALSE;
    }
  }
  return TRUE;
}

ScDataset *
sc_dataset_open(const char *path, ScDataFormat format, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_IO, "%s %s", path,
                g_file_test(path, G_FILE_TEST_EXISTS)
                    ? "is not a folder: expected the folder holding a data set"
                    : "does not exist");
    return NULL;
  }
  /* An unreadable folder would otherwise look like an unknown format. */
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) dir = g_dir_open(path, 0, &local);
  if (dir == NULL) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_IO,
                "Cannot read the data folder %s: %s (check its permissions)", path,
                local->message);
    return NULL;
  }
  if (format == SC_FORMAT_AUTO && !detect(path, &format, error))
    return NULL;
  ScDataset *d = NULL;
  switch (format) {
  case SC_FORMAT_STL10: d = sc_stl10_open(path, error); break;
  case SC_FORMAT_CIFAR10: d = sc_cifar10_open(path, error); break;
  case SC_FORMAT_IDX: d = sc_idx_open(path, error); break;
  case SC_FORMAT_FOLDER: d = sc_folder_open(path, error); break;
  case SC_FORMAT_AUTO:
  default: g_return_val_if_reached(NULL);
  }
  if (d != NULL && !check_sizes(d, error))
    g_clear_pointer(&d, sc_dataset_free);
  if (d != NULL)
    g_debug("%s: %s, %zu train, %zu test, %zu unlabeled images of %dx%dx%d, %d classes",
            d->path, sc_data_format_name(d->format), sc_split_count(d->train),
            sc_split_count(d->test), d->unlabeled ? sc_split_count(d->unlabeled) : 0,
            sc_split_height(d->train), sc_split_width(d->train),
            sc_split_channels(d->train), d->n_classes);
  return d;
}
