/* simclr-train's files: history, the two charts in PNG and SVG, the
 * exported encoder and the augmentation preview. */
#include "cli-output.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sys/file.h>
#include <unistd.h>

#include "preview.h"
#include "sc-results.h"

/* Smallest side of a preview cell in preview.png, in pixels. */
#define PREVIEW_MIN_CELL 96

gboolean
cli_output_prepare_dir(const char *dir, const char *flag, GError **error)
{
  if (g_file_test(dir, G_FILE_TEST_EXISTS) && !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "%s: %s is a file, not a folder: give a folder to write the results into",
                flag, dir);
    return FALSE;
  }
  if (g_mkdir_with_parents(dir, 0777) != 0) {
    int err = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
                "%s: cannot create the folder %s: %s", flag, dir, g_strerror(err));
    return FALSE;
  }
  return TRUE;
}

gboolean
cli_output_lock_dir(const char *dir, const char *flag, GError **error)
{
  /* A lock on the folder itself leaves no file behind; the descriptor stays
   * open on purpose until the process ends. */
  int fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
                "%s: cannot open the folder %s: %s", flag, dir, g_strerror(err));
    return FALSE;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                  "%s: another simclr-train is writing into %s: wait for it to end, "
                  "or give another folder", flag, dir);
    } else {
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
                  "%s: cannot lock the folder %s: %s", flag, dir, g_strerror(err));
    }
    return FALSE;
  }
  return TRUE;
}

static gboolean
contains(const size_t *values, int n, size_t value)
{
  for (int i = 0; i < n; i++)
    if (values[i] == value)
      return TRUE;
  return FALSE;
}

/* Indices of n training images: the first of each class while classes last,
 * then the next images in file order, repeated when there are fewer than n. */
static void
pick_preview_images(const ScSplit *train, int n_classes, size_t *picked, int n)
{
  const int32_t *labels = sc_split_labels(train);
  size_t count = sc_split_count(train);
  int got = 0;
  for (int k = 0; labels != NULL && k < n_classes && got < n; k++)
    for (size_t i = 0; i < count; i++)
      if (labels[i] == k) {
        picked[got++] = i;
        break;
      }
  for (size_t i = 0; i < count && got < n; i++)
    if (!contains(picked, got, i))
      picked[got++] = i;
  for (int j = 0; got < n; j++)
    picked[got++] = picked[j];
}

gboolean
cli_output_write_preview(const ScDataset *data, const ScTrainConfig *config,
                         const char *path, GError **error)
{
  const ScSplit *train = data->train;
  if (sc_split_count(train) == 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "Cannot draw the preview %s: the training split of %s is empty", path,
                data->path);
    return FALSE;
  }
  size_t picked[SC_PREVIEW_COLUMNS];
  pick_preview_images(train, data->n_classes, picked, SC_PREVIEW_COLUMNS);
  size_t bytes = sc_split_image_bytes(train);
  g_autofree uint8_t *images = g_new(uint8_t, SC_PREVIEW_COLUMNS * bytes); /* (8, h, w, c) */
  for (int i = 0; i < SC_PREVIEW_COLUMNS; i++)
    sc_split_get_image(train, picked[i], images + i * bytes);

  ScPreviewSpec spec = {
    .images = images,
    .h = sc_split_height(train),
    .w = sc_split_width(train),
    .c = sc_split_channels(train),
    .out_size = config->input_size,
    .weak = config->weak,
    .strong = config->strong,
    .seed = config->seed,
  };
  /* Small inputs (28 to 64 px) would give a thumbnail: enlarge by a whole
   * factor until cells are at least PREVIEW_MIN_CELL pixels. */
  int scale = CLAMP((PREVIEW_MIN_CELL + spec.out_size - 1) / spec.out_size, 1,
                    SC_PREVIEW_MAX_SCALE);
  return sc_preview_spec_validate(&spec, error)
         && sc_preview_write_png_scaled(&spec, scale, path, error);
}

gboolean
cli_output_write_results(const ScTrainer *trainer, const char *dir, gboolean with_encoder,
                         GError **error)
{
  return sc_results_write(trainer, dir, with_encoder, error);
}
