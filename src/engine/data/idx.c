/* IDX files (reference 1.4): MNIST and Fashion-MNIST, raw or gzip. Raw
 * images stay mapped: an IDX payload of (N, rows, cols) bytes is already HWC
 * with one channel. */
#include "readers.h"

#include <string.h>

#include "sc-error.h"

#define IDX_TYPE_UBYTE 0x08
#define IDX_CLASSES 10
#define IDX_MAX_SIDE 16384 /* keeps h * w * c within an int */

static const char *const digit_names[] = {
  "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", NULL,
};
static const char *const fashion_names[] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot", NULL,
};

static const char *
type_name(guint8 type)
{
  switch (type) {
  case 0x08: return "unsigned byte";
  case 0x09: return "signed byte";
  case 0x0B: return "int16";
  case 0x0C: return "int32";
  case 0x0D: return "float32";
  case 0x0E: return "float64";
  default: return "unknown";
  }
}

static void
dims_text(const ScIdxHeader *h, char *buf, size_t size)
{
  int n = g_snprintf(buf, size, "%u", h->dims[0]);
  for (int i = 1; i < h->n_dims && n > 0 && (size_t)n < size; i++)
    n += g_snprintf(buf + n, size - n, " x %u", h->dims[i]);
}

gboolean
sc_idx_parse(const guint8 *data, gsize len, const char *name, int n_dims, ScIdxHeader *out,
             GError **error)
{
  g_return_val_if_fail(n_dims >= 1 && n_dims <= 3 && out != NULL, FALSE);
  g_return_val_if_fail(data != NULL || len == 0, FALSE);
  if (len == 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT, "%s is empty: expected an IDX file",
                name);
    return FALSE;
  }
  if (len < 4) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s is %zu bytes, shorter than the 4-byte IDX magic", name, len);
    return FALSE;
  }
  if (data[0] != 0 || data[1] != 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s: wrong magic %02x %02x %02x %02x at byte offset 0, expected "
                "00 00 08 %02x (an IDX file)", name, data[0], data[1], data[2], data[3],
                n_dims);
    return FALSE;
  }
  if (data[2] != IDX_TYPE_UBYTE) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s: IDX element type 0x%02x (%s) at byte offset 2, expected 0x08 "
                "(unsigned byte)", name, data[2], type_name(data[2]));
    return FALSE;
  }
  if (data[3] != n_dims) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s: %u dimensions at byte offset 3 (magic 0x%08x), expected %d (magic "
                "0x%08x, %s)", name, data[3], 0x800u | data[3], n_dims, 0x800u | n_dims,
                n_dims == 3 ? "images" : "labels");
    return FALSE;
  }
  gsize header = 4 + 4 * (gsize)n_dims;
  if (len < header) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s is %zu bytes, shorter than its %zu-byte IDX header", name, len, header);
    return FALSE;
  }
  out->n_dims = n_dims;
  guint64 product = 1;
  for (int i = 0; i < n_dims; i++) {
    const guint8 *p = data + 4 + 4 * i; /* big-endian */
    out->dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (out->dims[i] == 0) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s: dimension %d at byte offset %d is 0, expected at least 1", name, i,
                  4 + 4 * i);
      return FALSE;
    }
    product *= out->dims[i]; /* at most 2^96 for 3 dims: checked below */
    if (product > G_MAXSIZE / 2 || (i > 0 && out->dims[i] > IDX_MAX_SIDE)) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s: dimension %d at byte offset %d is %u, too large (at most %d per side, "
                  "%zu bytes in all)", name, i, 4 + 4 * i, out->dims[i], IDX_MAX_SIDE,
                  (gsize)G_MAXSIZE / 2);
      return FALSE;
    }
  }
  char shape[64];
  dims_text(out, shape, sizeof shape);
  gsize found = len - header;
  if (found != product) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s is %s: expected %" G_GUINT64_FORMAT " data bytes (%s) after the %zu-byte "
                "header, found %zu", name, found < product ? "truncated" : "oversized",
                product, shape, header, found);
    return FALSE;
  }
  out->data = data + header;
  out->data_len = found;
  return TRUE;
}

ScSplit *
sc_idx_split_from_bytes(const char *split_name, GBytes *images, const char *images_name,
                        GBytes *labels, const char *labels_name, GError **error)
{
  gsize images_len, labels_len;
  const guint8 *images_data = g_bytes_get_data(images, &images_len);
  const guint8 *labels_data = g_bytes_get_data(labels, &labels_len);
  ScIdxHeader ih, lh;
  if (!sc_idx_parse(images_data, images_len, images_name, 3, &ih, error)
      || !sc_idx_parse(labels_data, labels_len, labels_name, 1, &lh, error))
    return NULL;
  if (ih.dims[0] != lh.dims[0]) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s holds %u labels, expected %u (one per image of %s)", labels_name,
                lh.dims[0], ih.dims[0], images_name);
    return NULL;
  }
  size_t n = ih.dims[0];
  g_autofree int32_t *label_array = g_try_new(int32_t, n);
  if (label_array == NULL) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "Out of memory for %zu labels of %s", n, labels_name);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (lh.data[i] >= IDX_CLASSES) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s record %zu (byte offset %zu): label %u is outside 0..%d", labels_name,
                  i, (size_t)(lh.data - labels_data) + i, lh.data[i], IDX_CLASSES - 1);
      return NULL;
    }
    label_array[i] = lh.data[i];
  }
  /* A view of the payload: no copy, and it keeps the mapping alive. */
  g_autoptr(GBytes) pixels = g_bytes_new_from_bytes(images, ih.data - images_data,
                                                    ih.data_len);
  return sc_split_new_hwc(split_name, pixels, n, ih.dims[1], ih.dims[2], 1,
                          g_steal_pointer(&label_array));
}

/* The first of a file's usual spellings in dir, or NULL with an error that
 * lists them. */
static char *
find_idx_file(const char *dir, const char *stem, const char *dotted, GError **error)
{
  g_autofree char *gz = g_strconcat(stem, ".gz", NULL);
  const char *names[] = { stem, gz, dotted, NULL };
  char *path = sc_data_find_file(dir, names);
  if (path == NULL)
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_IO,
                "The IDX folder %s has none of %s, %s, %s", dir, stem, gz, dotted);
  return path;
}

static ScSplit *
open_split(const char *dir, const char *split_name, const char *prefix, GError **error)
{
  g_autofree char *images_stem = g_strconcat(prefix, "-images-idx3-ubyte", NULL);
  g_autofree char *images_dot = g_strconcat(prefix, "-images.idx3-ubyte", NULL);
  g_autofree char *labels_stem = g_strconcat(prefix, "-labels-idx1-ubyte", NULL);
  g_autofree char *labels_dot = g_strconcat(prefix, "-labels.idx1-ubyte", NULL);
  g_autofree char *images_path = find_idx_file(dir, images_stem, images_dot, error);
  if (images_path == NULL)
    return NULL;
  g_autofree char *labels_path = find_idx_file(dir, labels_stem, labels_dot, error);
  if (labels_path == NULL)
    return NULL;

  g_autoptr(GBytes) images_file = sc_data_map_file(images_path, error);
  g_autoptr(GBytes) labels_file = images_file ? sc_data_map_file(labels_path, error) : NULL;
  if (labels_file == NULL)
    return NULL;
  g_autoptr(GBytes) images = sc_data_maybe_gunzip(images_file, images_path, error);
  g_autoptr(GBytes) labels = images ? sc_data_maybe_gunzip(labels_file, labels_path, error)
                                    : NULL;
  if (labels == NULL)
    return NULL;
  return sc_idx_split_from_bytes(split_name, images, images_path, labels, labels_path,
                                 error);
}

ScDataset *
sc_idx_open(const char *dir, GError **error)
{
  g_autoptr(ScDataset) d = sc_dataset_new(SC_FORMAT_IDX, dir);
  d->n_classes = IDX_CLASSES;
  if (!(d->train = open_split(dir, "train", "train", error))
      || !(d->test = open_split(dir, "test", "t10k", error)))
    return NULL;
  /* Fashion-MNIST has MNIST's file names; only the folder tells them apart. */
  g_autofree char *base = g_path_get_basename(dir);
  g_autofree char *lower = g_ascii_strdown(base, -1);
  gboolean fashion = strstr(lower, "fashion") != NULL;
  d->class_names = g_strdupv((char **)(fashion ? fashion_names : digit_names));
  return g_steal_pointer(&d);
}
