/* Progress, per-epoch log lines and the summary table of simclr-train. */
#include "cli-progress.h"

#include <math.h>
#include <stddef.h>

#define BAR_CELLS 24
#define REDRAW_US (G_USEC_PER_SEC / 10) /* terminal bar: at most 10 redraws/s */
#define PLAIN_EVERY_US (10 * G_USEC_PER_SEC) /* plain progress line every 10 s */

struct _CliProgress {
  FILE *out;
  gboolean terminal;
  gboolean bar_shown;      /* a bar is on the current line */
  gint64 last_draw_us;
  int n_runs;              /* selected runs */
  int run_index[SC_N_RUNS]; /* 1-based place of each among the selected runs */
  int started;             /* runs started by this process */
  double max_val_acc[SC_N_RUNS];
  char *last_checkpoint;
};

/* The metrics the reference logs for each run, in its order. */
typedef struct {
  const char *name;
  size_t offset;
} Field;

#define FIELD(f) { #f, offsetof(ScEpochMetrics, f) }
static const Field supervised_fields[] = {
  FIELD(loss), FIELD(acc), FIELD(val_loss), FIELD(val_acc),
};
static const Field pretrain_fields[] = {
  FIELD(c_loss), FIELD(c_acc), FIELD(p_loss), FIELD(p_acc),
  FIELD(val_p_loss), FIELD(val_p_acc), FIELD(knn_acc),
};
#undef FIELD

static const char *const run_titles[SC_N_RUNS] = {
  "supervised baseline",
  "contrastive pretraining with a linear probe",
  "finetuning the pretrained encoder",
};

CliProgress *
cli_progress_new(FILE *out, gboolean terminal, const ScTrainer *trainer)
{
  CliProgress *p = g_new0(CliProgress, 1);
  p->out = out;
  p->terminal = terminal;
  const ScTrainConfig *c = sc_trainer_get_config(trainer);
  for (int r = 0; r < SC_N_RUNS; r++) {
    p->n_runs += c->runs[r] ? 1 : 0;
    p->run_index[r] = p->n_runs;
    p->max_val_acc[r] = sc_trainer_max_val_acc(trainer, r);
  }
  return p;
}

void
cli_progress_free(CliProgress *p)
{
  if (p == NULL)
    return;
  g_free(p->last_checkpoint);
  g_free(p);
}

char *
cli_format_duration(double seconds)
{
  if (!isfinite(seconds) || seconds < 0)
    return g_strdup("--:--");
  long s = lround(seconds);
  if (s >= 3600)
    return g_strdup_printf("%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return g_strdup_printf("%ld:%02ld", s / 60, s % 60);
}

static void
clear_bar(CliProgress *p)
{
  if (p->bar_shown)
    fputs("\r\033[K", p->out);
  p->bar_shown = FALSE;
}

void
cli_progress_print(CliProgress *p, const char *fmt, ...)
{
  clear_bar(p);
  va_list args;
  va_start(args, fmt);
  vfprintf(p->out, fmt, args);
  va_end(args);
  fputc('\n', p->out);
  fflush(p->out);
}

const char *
cli_progress_last_checkpoint(const CliProgress *p)
{
  return p->last_checkpoint;
}

/* pretrain  epoch 3/20 [=========>      ] 12/38  412 img/s  loss 3.2101  ETA 2:31 */
static void
draw_step(CliProgress *p, const ScTrainerEvent *e)
{
  gint64 now = g_get_monotonic_time();
  gboolean last = e->step == e->steps;
  if (p->terminal && !last && now - p->last_draw_us < REDRAW_US)
    return;
  if (!p->terminal && now - p->last_draw_us < PLAIN_EVERY_US)
    return;
  p->last_draw_us = now;

  g_autofree char *eta = cli_format_duration(e->eta_s);
  g_autofree char *head = g_strdup_printf("%s  epoch %d/%d", sc_run_name(e->run),
                                          e->epoch, e->epochs);
  g_autofree char *tail = g_strdup_printf("%d/%d  %.0f img/s  loss %.4f  ETA %s", e->step,
                                          e->steps, e->images_per_s, e->step_loss, eta);
  if (!p->terminal) {
    fprintf(p->out, "%s  step %s\n", head, tail);
    fflush(p->out);
    return;
  }
  char bar[BAR_CELLS + 1];
  int filled = e->steps > 0 ? (int)((long)BAR_CELLS * e->step / e->steps) : 0;
  for (int i = 0; i < BAR_CELLS; i++)
    bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
  bar[BAR_CELLS] = '\0';
  fprintf(p->out, "\r\033[K%s [%s] %s", head, bar, tail);
  fflush(p->out);
  p->bar_shown = TRUE;
}

/* Epoch 3/20 - 21s - 412 img/s - c_loss: 1.3921 - c_acc: 0.7712 - ... */
static void
print_epoch(CliProgress *p, const ScTrainerEvent *e)
{
  const ScEpochMetrics *m = &e->metrics;
  gboolean pre = e->run == SC_RUN_PRETRAIN;
  const Field *fields = pre ? pretrain_fields : supervised_fields;
  size_t n = pre ? G_N_ELEMENTS(pretrain_fields) : G_N_ELEMENTS(supervised_fields);
  g_autoptr(GString) line = g_string_new(NULL);
  g_string_append_printf(line, "Epoch %d/%d - %.0fs - %.0f img/s", m->epoch, e->epochs,
                         m->seconds, m->images_per_s);
  for (size_t i = 0; i < n; i++) {
    double v = *(const double *)((const char *)m + fields[i].offset);
    if (!isnan(v))
      g_string_append_printf(line, " - %s: %.4f", fields[i].name, v);
  }
  cli_progress_print(p, "%s", line->str);

  double acc = sc_epoch_metrics_val_acc(e->run, m);
  if (isfinite(acc) && !(acc <= p->max_val_acc[e->run]))
    p->max_val_acc[e->run] = acc;
}

void
cli_progress_event(CliProgress *p, const ScTrainerEvent *e)
{
  switch (e->kind) {
  case SC_EVENT_RUN_STARTED:
    /* Numbered among all selected runs: a resumed run keeps its number. */
    cli_progress_print(p, "%sRun %d of %d: %s (%s), %d epoch%s",
                       p->started++ > 0 ? "\n" : "", p->run_index[e->run], p->n_runs,
                       sc_run_name(e->run), run_titles[e->run], e->epochs,
                       e->epochs == 1 ? "" : "s");
    break;
  case SC_EVENT_STEP:
    draw_step(p, e);
    break;
  case SC_EVENT_EPOCH_DONE:
    print_epoch(p, e);
    break;
  case SC_EVENT_RUN_DONE:
    cli_progress_print(p, "Maximal validation accuracy: %.2f%%",
                       100.0 * p->max_val_acc[e->run]);
    break;
  case SC_EVENT_CHECKPOINT:
    g_free(p->last_checkpoint);
    p->last_checkpoint = g_strdup(e->path);
    if (!p->terminal)
      cli_progress_print(p, "Checkpoint written: %s", e->path);
    break;
  }
}

void
cli_progress_summary(CliProgress *p, const ScTrainer *trainer, double wall_s)
{
  const ScTrainConfig *c = sc_trainer_get_config(trainer);
  cli_progress_print(p, "\n%-10s %12s %11s %7s", "run", "max val acc", "best epoch",
                     "epochs");
  double best[SC_N_RUNS];
  for (int r = 0; r < SC_N_RUNS; r++) {
    best[r] = NAN;
    if (!c->runs[r])
      continue;
    int n = 0, best_epoch = 0;
    const ScEpochMetrics *h = sc_trainer_get_history(trainer, r, &n);
    for (int i = 0; i < n; i++) {
      double acc = sc_epoch_metrics_val_acc(r, &h[i]);
      if (isfinite(acc) && !(acc <= best[r])) {
        best[r] = acc;
        best_epoch = h[i].epoch;
      }
    }
    g_autofree char *acc_text = isfinite(best[r]) ? g_strdup_printf("%.2f%%", 100 * best[r])
                                                  : g_strdup("-");
    /* A run that measured no epoch has no best one either. */
    g_autofree char *epoch_text = isfinite(best[r]) ? g_strdup_printf("%d", best_epoch)
                                                    : g_strdup("-");
    g_autofree char *epochs = g_strdup_printf("%d/%d", n, c->epochs);
    cli_progress_print(p, "%-10s %12s %11s %7s%s", sc_run_name(r), acc_text, epoch_text,
                       epochs, r == SC_RUN_PRETRAIN ? "  (linear probe)" : "");
  }
  if (isfinite(best[SC_RUN_BASELINE]) && isfinite(best[SC_RUN_FINETUNE]))
    cli_progress_print(p, "finetune - baseline: %+.2f points",
                       100 * (best[SC_RUN_FINETUNE] - best[SC_RUN_BASELINE]));
  g_autofree char *wall = cli_format_duration(wall_s);
  cli_progress_print(p, "wall time: %s (%.0f s)", wall, wall_s);
}
