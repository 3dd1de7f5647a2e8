/* Splits (images in HWC or STL-10's column-major records) and data sets. */
#include "readers.h"

#include <string.h>

#include "sc-error.h"

typedef enum {
  LAYOUT_HWC,   /* (n, h, w, c) as stored */
  LAYOUT_STL10, /* (n, c, w, h): planes column-major, transposed on access */
} Layout;

struct ScSplit {
  char *name;
  Layout layout;
  GBytes *pixels;     /* owns the memory (decoded, or a mapped file) */
  const guint8 *data; /* g_bytes_get_data(pixels) */
  size_t count;
  int height, width, channels;
  int32_t *labels;    /* (count) or NULL */
};

static ScSplit *
split_new(const char *name, Layout layout, GBytes *pixels, size_t n, int h, int w, int c,
          int32_t *labels)
{
  ScSplit *s = g_new0(ScSplit, 1);
  s->name = g_strdup(name);
  s->layout = layout;
  s->pixels = g_bytes_ref(pixels);
  s->data = g_bytes_get_data(pixels, NULL);
  s->count = n;
  s->height = h;
  s->width = w;
  s->channels = c;
  s->labels = labels;
  return s;
}

ScSplit *
sc_split_new_hwc(const char *name, GBytes *pixels, size_t n, int h, int w, int c,
                 int32_t *labels)
{
  g_return_val_if_fail(pixels != NULL && h > 0 && w > 0 && c > 0, NULL);
  g_return_val_if_fail(g_bytes_get_size(pixels) >= n * h * w * c, NULL);
  return split_new(name, LAYOUT_HWC, pixels, n, h, w, c, labels);
}

ScSplit *
sc_split_new_stl10(const char *name, GBytes *records, size_t n, int32_t *labels)
{
  g_return_val_if_fail(records != NULL, NULL);
  g_return_val_if_fail(g_bytes_get_size(records) >= n * SC_STL10_RECORD_BYTES, NULL);
  return split_new(name, LAYOUT_STL10, records, n, SC_STL10_SIDE, SC_STL10_SIDE, 3, labels);
}

void
sc_split_free(ScSplit *split)
{
  if (split == NULL)
    return;
  g_free(split->name);
  g_bytes_unref(split->pixels);
  g_free(split->labels);
  g_free(split);
}

const char *
sc_split_name(const ScSplit *split)
{
  g_return_val_if_fail(split != NULL, NULL);
  return split->name;
}

size_t
sc_split_count(const ScSplit *split)
{
  g_return_val_if_fail(split != NULL, 0);
  return split->count;
}

int
sc_split_height(const ScSplit *split)
{
  g_return_val_if_fail(split != NULL, 0);
  return split->height;
}

int
sc_split_width(const ScSplit *split)
{
  g_return_val_if_fail(split != NULL, 0);
  return split->width;
}

int
sc_split_channels(const ScSplit *split)
{
  g_return_val_if_fail(split != NULL, 0);
  return split->channels;
}

size_t
sc_split_image_bytes(const ScSplit *split)
{
  g_return_val_if_fail(split != NULL, 0);
  return (size_t)split->height * split->width * split->channels;
}

const int32_t *
sc_split_labels(const ScSplit *split)
{
  g_return_val_if_fail(split != NULL, NULL);
  return split->labels;
}

const uint8_t *
sc_split_peek_hwc(const ScSplit *split)
{
  g_return_val_if_fail(split != NULL, NULL);
  return split->layout == LAYOUT_HWC ? split->data : NULL;
}

/* One STL-10 record (c, w, h) -> (h, w, c): byte ch*H*W + col*H + row holds
 * pixel (row, col, ch). Reads each plane in order, writes with stride c. */
static void
stl10_transpose(const guint8 *record, int h, int w, int c, guint8 *hwc)
{
  for (int ch = 0; ch < c; ch++) {
    const guint8 *plane = record + (size_t)ch * h * w;
    for (int col = 0; col < w; col++) {
      const guint8 *column = plane + (size_t)col * h;
      guint8 *dst = hwc + (size_t)col * c + ch;
      for (int row = 0; row < h; row++)
        dst[(size_t)row * w * c] = column[row];
    }
  }
}

void
sc_split_get_image(const ScSplit *split, size_t index, uint8_t *hwc_out)
{
  g_return_if_fail(split != NULL && hwc_out != NULL);
  g_return_if_fail(index < split->count);
  size_t bytes = sc_split_image_bytes(split);
  const guint8 *src = split->data + index * bytes;
  if (split->layout == LAYOUT_HWC)
    memcpy(hwc_out, src, bytes);
  else
    stl10_transpose(src, split->height, split->width, split->channels, hwc_out);
}

void
sc_split_gather(const ScSplit *split, const int32_t *indices, size_t n, uint8_t *out)
{
  g_return_if_fail(split != NULL && (n == 0 || (indices != NULL && out != NULL)));
  size_t bytes = sc_split_image_bytes(split);
  for (size_t i = 0; i < n; i++)
    g_return_if_fail(indices[i] >= 0 && (size_t)indices[i] < split->count);
  /* Transposing is worth threads (a whole STL-10 split goes to the GPU
   * this way); copying HWC images is not. */
  const gboolean transposed = split->layout != LAYOUT_HWC;
#pragma omp parallel for schedule(static) if (transposed && n >= 64)
  for (size_t i = 0; i < n; i++)
    sc_split_get_image(split, (size_t)indices[i], out + i * bytes);
}

/* ---- Files ---- */

GBytes *
sc_data_map_file(const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  GMappedFile *file = g_mapped_file_new(path, FALSE, &local);
  if (file == NULL) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_IO, "Could not open %s: %s", path,
                local->message);
    return NULL;
  }
  /* The bytes keep the mapping alive; an empty file maps to no memory. */
  GBytes *bytes = g_mapped_file_get_length(file) > 0 ? g_mapped_file_get_bytes(file)
                                                     : g_bytes_new(NULL, 0);
  g_mapped_file_unref(file);
  return bytes;
}

char *
sc_data_find_file(const char *dir, const char *const *names)
{
  for (size_t i = 0; names[i] != NULL; i++) {
    char *path = g_build_filename(dir, names[i], NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      return path;
    g_free(path);
  }
  return NULL;
}

/* ---- Data sets ---- */

ScDataset *
sc_dataset_new(ScDataFormat format, const char *path)
{
  ScDataset *d = g_new0(ScDataset, 1);
  d->format = format;
  d->path = g_strdup(path);
  return d;
}

void
sc_dataset_free(ScDataset *dataset)
{
  if (dataset == NULL)
    return;
  g_free(dataset->path);
  sc_split_free(dataset->train);
  sc_split_free(dataset->test);
  sc_split_free(dataset->unlabeled);
  g_strfreev(dataset->class_names);
  g_free(dataset);
}

static const struct {
  const char *name;
  ScDataFormat format;
} format_names[] = {
  { "auto", SC_FORMAT_AUTO },
  { "stl10", SC_FORMAT_STL10 },
  { "cifar10", SC_FORMAT_CIFAR10 },
  { "idx", SC_FORMAT_IDX },
  { "folder", SC_FORMAT_FOLDER },
  /* aliases */
  { "stl-10", SC_FORMAT_STL10 },
  { "cifar-10", SC_FORMAT_CIFAR10 },
  { "mnist", SC_FORMAT_IDX },
  { "fashion-mnist", SC_FORMAT_IDX },
};

const char *
sc_data_format_name(ScDataFormat format)
{
  for (size_t i = 0; i < G_N_ELEMENTS(format_names); i++)
    if (format_names[i].format == format)
      return format_names[i].name;
  g_return_val_if_reached(NULL);
}

gboolean
sc_data_format_parse(const char *name, ScDataFormat *format, GError **error)
{
  g_return_val_if_fail(format != NULL, FALSE);
  for (size_t i = 0; name != NULL && i < G_N_ELEMENTS(format_names); i++) {
    if (g_ascii_strcasecmp(name, format_names[i].name) == 0) {
      *format = format_names[i].format;
      return TRUE;
    }
  }
  g_set_error(error, SC_DATA_ERROR, SC_ERROR_INVALID_ARGUMENT,
              "Unknown data format \"%s\": expected auto, stl10, cifar10, idx (mnist, "
              "fashion-mnist) or folder", name != NULL ? name : "(null)");
  return FALSE;
}
