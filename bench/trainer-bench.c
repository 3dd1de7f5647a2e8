/* Wall time of the trainer's epochs on real data, with the default
 * configuration unless flags change it:
 *
 *   trainer-bench [--data DIR] [--epochs 1] [--runs baseline,pretrain,finetune]
 *                 [--unlabeled N] [--labeled N] [--threads N] [--knn]
 *
 * One line per epoch: run, epoch, training seconds (as the history records
 * them), the epoch's whole wall time (validation, kNN and checkpoint
 * included), images per second and the validation accuracy; then the total. */
#include "trainer.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
  gint64 epoch_start;
} Clock;

static void
on_event(const ScTrainerEvent *ev, gpointer data)
{
  Clock *clock = data;
  gint64 now = g_get_monotonic_time();
  switch (ev->kind) {
  case SC_EVENT_RUN_STARTED:
    clock->epoch_start = now;
    break;
  case SC_EVENT_EPOCH_DONE:
    printf("%-8s epoch %2d  train %7.2f s  epoch %7.2f s  %8.1f img/s  val_acc %.4f",
           sc_run_name(ev->run), ev->epoch, ev->metrics.seconds,
           (now - clock->epoch_start) / 1e6, ev->metrics.images_per_s,
           sc_epoch_metrics_val_acc(ev->run, &ev->metrics));
    if (ev->run == SC_RUN_PRETRAIN)
      printf("  c_loss %.4f  c_acc %.4f  p_loss %.4f  p_acc %.4f  val_p_loss %.4f  knn %.4f",
             ev->metrics.c_loss, ev->metrics.c_acc, ev->metrics.p_loss, ev->metrics.p_acc,
             ev->metrics.val_p_loss, ev->metrics.knn_acc);
    printf("\n");
    fflush(stdout);
    clock->epoch_start = now;
    break;
  case SC_EVENT_STEP:
  case SC_EVENT_RUN_DONE:
  case SC_EVENT_CHECKPOINT:
  default:
    break;
  }
}

int
main(int argc, char **argv)
{
  g_autofree char *data = NULL, *runs = NULL;
  int epochs = 1, unlabeled = -1, labeled = -1, threads = 0;
  gboolean knn = FALSE;
  GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Data set folder", "DIR" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs per run (1)", "N" },
    { "runs", 0, 0, G_OPTION_ARG_STRING, &runs, "Runs, comma-separated (all)", "LIST" },
    { "unlabeled", 0, 0, G_OPTION_ARG_INT, &unlabeled, "Unlabeled cap", "N" },
    { "labeled", 0, 0, G_OPTION_ARG_INT, &labeled, "Labeled images per class", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU threads (0: default)", "N" },
    { "knn", 0, 0, G_OPTION_ARG_NONE, &knn, "kNN accuracy after pretraining epochs", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- time the trainer's epochs");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "%s\n", error->message);
    return 2;
  }

  ScTrainConfig c;
  sc_train_config_init_default(&c);
  c.data_path = g_strdup(data);
  c.epochs = epochs;
  c.threads = threads;
  c.knn = knn;
  if (unlabeled >= 0)
    c.unlabeled_cap = unlabeled;
  if (labeled >= 0)
    c.labeled_per_class = labeled;
  if (runs != NULL) {
    g_auto(GStrv) names = g_strsplit(runs, ",", -1);
    for (int r = 0; r < SC_N_RUNS; r++)
      c.runs[r] = FALSE;
    for (int i = 0; names[i] != NULL; i++) {
      ScRunKind run;
      if (!sc_run_parse(names[i], &run)) {
        fprintf(stderr, "--runs: unknown run '%s'\n", names[i]);
        return 2;
      }
      c.runs[run] = TRUE;
    }
  }

  gint64 start = g_get_monotonic_time();
  ScTrainer *t = sc_trainer_new(&c, NULL, &error);
  if (t == NULL) {
    fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  printf("setup %.2f s, %d steps per epoch\n", (g_get_monotonic_time() - start) / 1e6,
         sc_trainer_get_steps_per_epoch(t));
  Clock clock = { 0 };
  sc_trainer_set_callback(t, on_event, &clock);
  gboolean ok = sc_trainer_run(t, &error);
  printf("total %.2f s\n", (g_get_monotonic_time() - start) / 1e6);
  if (!ok)
    fprintf(stderr, "%s\n", error->message);
  sc_trainer_free(t);
  sc_train_config_clear(&c);
  return ok ? 0 : 1;
}
