/* Data sets: N images of one size as uint8 HWC (height, width, channels),
 * optional labels 0..K-1 and class names, in three splits.
 *
 * Formats (reference section 1):
 *   STL-10 binary   stl10_binary/ (or its parent): train_X/train_y, test_X/test_y,
 *                   unlabeled_X (optional), class_names.txt (optional). 96x96x3,
 *                   planes column-major, memory-mapped and transposed per image
 *                   on access; the 2.76 GB unlabeled file is never read whole.
 *   CIFAR-10 binary cifar-10-batches-bin/ (or its parent): data_batch_1..5.bin,
 *                   test_batch.bin, batches.meta.txt (optional). 32x32x3.
 *   IDX             MNIST / Fashion-MNIST: {train,t10k}-{images-idx3,labels-idx1}-ubyte,
 *                   raw or gzip. 28x28x1 (grey; the augmenter makes 3 channels).
 *                   Fashion-MNIST's class names when the folder's name contains
 *                   "fashion", else "0".."9".
 *   Folder          one sub-folder of PNG/JPEG images per class (sorted names are
 *                   the class names), at the top or all under `train/`, optional
 *                   `unlabeled/` (no labels) and `test/`
 *                   (holding class sub-folders). Without `test/`, 20% of each
 *                   class (at least one image of a class with two or more) is
 *                   held out as test with a fixed seed, so every run of the same
 *                   folder validates on the same images. The images' most
 *                   common size (from their headers; ties: the larger area,
 *                   then the first in file order) is the data set's; the
 *                   others are scaled to it (bilinear) and counted in
 *                   n_scaled. Alpha is dropped; grey images load as RGB.
 *
 * Splits are read-only after opening; every accessor is safe from any thread. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  SC_FORMAT_AUTO,
  SC_FORMAT_STL10,
  SC_FORMAT_CIFAR10,
  SC_FORMAT_IDX,
  SC_FORMAT_FOLDER,
} ScDataFormat;

/* N images of one split, uint8 HWC on access; labels optional. */
typedef struct ScSplit ScSplit;

/* "train", "test" or "unlabeled". */
const char *sc_split_name(const ScSplit *split);
size_t sc_split_count(const ScSplit *split);
int sc_split_height(const ScSplit *split);
int sc_split_width(const ScSplit *split);
int sc_split_channels(const ScSplit *split);
/* height * width * channels */
size_t sc_split_image_bytes(const ScSplit *split);
/* (count) labels 0..K-1, or NULL when the split has no labels. */
const int32_t *sc_split_labels(const ScSplit *split);
/* Image `index` as (h, w, c) bytes into hwc_out. */
void sc_split_get_image(const ScSplit *split, size_t index, uint8_t *hwc_out);
/* n images packed as (n, h, w, c) into out; indices must be < count. */
void sc_split_gather(const ScSplit *split, const int32_t *indices, size_t n, uint8_t *out);
/* All images as one (count, h, w, c) block when stored that way (CIFAR-10,
 * IDX, folders), NULL when the split is transposed on access (STL-10). Lets a
 * backend upload a split at once. */
const uint8_t *sc_split_peek_hwc(const ScSplit *split);

typedef struct {
  ScDataFormat format;
  char *path;          /* the folder actually read (e.g. .../stl10_binary) */
  ScSplit *train;      /* labeled */
  ScSplit *test;       /* labeled */
  ScSplit *unlabeled;  /* NULL if none */
  int n_classes;
  char **class_names;  /* n_classes names, NULL-terminated */
  size_t n_scaled;     /* images of another size scaled to the data set's (folders) */
} ScDataset;

/* Opens the data set in the folder `path`. SC_FORMAT_AUTO detects the format
 * from the folder's contents; the error then lists what was looked for. */
ScDataset *sc_dataset_open(const char *path, ScDataFormat format, GError **error);
void sc_dataset_free(ScDataset *dataset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScDataset, sc_dataset_free)

/* "auto", "stl10", "cifar10", "idx", "folder". */
const char *sc_data_format_name(ScDataFormat format);
/* Accepts the names above (case-insensitive) and "mnist", "fashion-mnist" for idx. */
gboolean sc_data_format_parse(const char *name, ScDataFormat *format, GError **error);

G_END_DECLS
