/* A training's result files: history, charts and encoder (see the header). */
#include "sc-results.h"

#include "sc-chart.h"

typedef enum { CHART_ACCURACY, CHART_LOSS } ChartKind;

const char *
sc_results_series_name(ScRunKind run)
{
  static const char *const names[SC_N_RUNS] = { "baseline", "pretraining (linear probe)",
                                                 "finetuning" };
  g_return_val_if_fail(run >= 0 && run < SC_N_RUNS, "");
  return names[run];
}

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
    guint s = sc_chart_add_series(chart, sc_results_series_name(r), red, green, blue);
    for (int i = 0; i < n; i++)
      sc_chart_append(chart, s, h[i].epoch, acc ? sc_epoch_metrics_val_acc(r, &h[i])
                                                : sc_epoch_metrics_val_loss(r, &h[i]));
    if (r == SC_RUN_PRETRAIN && acc && c->knn) {
      guint k = sc_chart_add_series(chart, "pretraining (kNN, k = 20)", red, green, blue);
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
  return sc_chart_write_png(chart, png, SC_RESULTS_CHART_WIDTH_PX,
                            SC_RESULTS_CHART_HEIGHT_PX, error)
         && sc_chart_write_svg(chart, svg, SC_RESULTS_CHART_WIDTH_PX,
                               SC_RESULTS_CHART_HEIGHT_PX, error);
}

gboolean
sc_results_write(const ScTrainer *trainer, const char *dir, gboolean with_encoder,
                 GError **error)
{
  g_return_val_if_fail(trainer != NULL && dir != NULL, FALSE);
  g_autofree char *csv = g_build_filename(dir, "history.csv", NULL);
  g_autofree char *json = g_build_filename(dir, "history.json", NULL);
  g_autofree char *encoder = g_build_filename(dir, "encoder.safetensors", NULL);
  return sc_trainer_write_history_csv(trainer, csv, error)
         && sc_trainer_write_history_json(trainer, json, error)
         && write_chart(trainer, CHART_ACCURACY, dir, "accuracy", error)
         && write_chart(trainer, CHART_LOSS, dir, "loss", error)
         && (!with_encoder || sc_trainer_export_encoder(trainer, encoder, error));
}
