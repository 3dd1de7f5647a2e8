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
#include "sc-chart.h"

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

typedef enum { CHART_ACCURACY, CHART_LOSS } ChartKind;

/* The runs' validation curves overlaid: val_acc (the probe's val_p_acc for
 * pretraining) or the matching loss; kNN accuracy dashed when measured. */
static ScChart *
build_chart(const ScTrainer *trainer, ChartKind kind)
{
  const ScTrainConfig *c = sc_trainer_get_config(trainer);
  gboolean acc = kind == CHART_ACCURACY;
  ScChart *chart = sc_chart_new(acc ? "Validation accuracy" : "Validation loss", "epoch",
                                acc ? "accuracy" : "cross-entropy loss");
  sc_chart_set_y_from_zero(chart, TRUE);
  sc_chart_set_percent(chart, acc);
  sc_chart_set_x_extent(chart, c->epochs);
  for (int r = 0; r < SC_N_RUNS; r++) {
    if (!c->runs[r])
      continue;
    int n = 0;
    const ScEpochMetrics *h = sc_trainer_get_history(trainer, r, &n);
    if (n == 0)
      continue; /* no line, so no legend entry */
    double red, green, blue;
    sc_chart_palette(r, &red, &green, &blue);
    guint s = sc_chart_add_series(chart, r == SC_RUN_PRETRAIN ? "pretrain (linear probe)"
                                                              : sc_run_name(r),
                                  red, green, blue);
    for (int i = 0; i < n; i++)
      sc_chart_append(chart, s, h[i].epoch, acc ? sc_epoch_metrics_val_acc(r, &h[i])
                                                : sc_epoch_metrics_val_loss(r, &h[i]));
    if (r == SC_RUN_PRETRAIN && acc && c->knn) {
      guint k = sc_chart_add_series(chart, "pretrain (kNN, k = 20)", red, green, blue);
      sc_chart_set_series_style(chart, k, SC_LINE_DASHED);
      for (int i = 0; i < n; i++)
        sc_chart_append(chart, k, h[i].epoch, h[i].knn_acc);
    }
  }
  return chart;
}

static gboolean
write_chart(const ScTrainer *trainer, ChartKind kind, const char *dir, const char *stem,
            GError **error)
{
  g_autoptr(ScChart) chart = build_chart(trainer, kind);
  g_autofree char *png_name = g_strconcat(stem, ".png", NULL);
  g_autofree char *svg_name = g_strconcat(stem, ".svg", NULL);
  g_autofree char *png = g_build_filename(dir, png_name, NULL);
  g_autofree char *svg = g_build_filename(dir, svg_name, NULL);
  return sc_chart_write_png(chart, png, CLI_CHART_WIDTH_PX, CLI_CHART_HEIGHT_PX, error)
         && sc_chart_write_svg(chart, svg, CLI_CHART_WIDTH_PX, CLI_CHART_HEIGHT_PX, error);
}

gboolean
cli_output_write_results(const ScTrainer *trainer, const char *dir, gboolean with_encoder,
                         GError **error)
{
  g_autofree char *csv = g_build_filename(dir, "history.csv", NULL);
  g_autofree char *json = g_build_filename(dir, "history.json", NULL);
  g_autofree char *encoder = g_build_filename(dir, "encoder.safetensors", NULL);
  return sc_trainer_write_history_csv(trainer, csv, error)
         && sc_trainer_write_history_json(trainer, json, error)
         && write_chart(trainer, CHART_ACCURACY, dir, "accuracy", error)
         && write_chart(trainer, CHART_LOSS, dir, "loss", error)
         && (!with_encoder || sc_trainer_export_encoder(trainer, encoder, error));
}
