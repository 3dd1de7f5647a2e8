/* How responsive the window stays while it trains: runs one training in the
 * real window (under a display, e.g. xvfb-run) and prints the longest
 * main-loop stall measured by a 10 ms timer, the step reports the worker
 * sent and the UI updates they were coalesced into.
 *
 *   xvfb-run -a build/bench/app-stall-bench --epochs 1 --unlabeled 5000
 *
 * It renders with cairo (GSK_RENDERER=cairo) unless GSK_RENDERER says
 * otherwise: Xvfb has no GPU, and GL there is emulated on the same CPUs as
 * the training, which measures the emulation rather than the window. */
#include "config.h"

#include <adwaita.h>
#include <stdio.h>

#include "simclr-studio-application.h"
#include "simclr-studio-run-folders.h"
#include "simclr-studio-settings.h"
#include "simclr-studio-window-private.h"

typedef struct {
  guint n_events;
  guint n_steps;
} Counts;

static void
event_cb(SimclrStudioWindow *window, const ScTrainerEvent *e, Counts *counts)
{
  counts->n_events++;
  counts->n_steps += e->kind == SC_EVENT_STEP;
}

static void
finished_cb(SimclrStudioWindow *window, gboolean completed, gboolean *done)
{
  *done = TRUE;
}

int
main(int argc, char *argv[])
{
  int epochs = 1, unlabeled = 5000, subset = 0, batch = 525, width = 128;
  const char *runs = "all";
  GOptionEntry entries[] = {
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs per run (1)", "N" },
    { "unlabeled", 0, 0, G_OPTION_ARG_INT, &unlabeled, "Unlabeled images (5000)", "N" },
    { "subset", 0, 0, G_OPTION_ARG_INT, &subset, "Images per split, 0 all (0)", "N" },
    { "batch-size", 0, 0, G_OPTION_ARG_INT, &batch, "Contrastive batch (525)", "N" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Model width (128)", "N" },
    { "runs", 0, 0, G_OPTION_ARG_STRING, &runs, "all, baseline, pretrain, finetune", "R" },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- main-loop stalls while training");
  g_option_context_add_main_entries(context, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "app-stall-bench: %s\n", error->message);
    return 2;
  }
  g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv("GSK_RENDERER", "cairo", FALSE);
  g_setenv("GTK_A11Y", "none", FALSE);
  if (!gtk_init_check()) {
    fprintf(stderr, "app-stall-bench: no display; run it under xvfb-run -a\n");
    return 1;
  }
  adw_init();
  simclr_studio_register_resources();
  g_autoptr(GSettings) settings = simclr_studio_settings_new(TRUE, &error);
  if (settings == NULL) {
    fprintf(stderr, "app-stall-bench: %s\n", error->message);
    return 1;
  }
  g_settings_set_int(settings, SC_KEY_EPOCHS, epochs);
  g_settings_set_int(settings, SC_KEY_UNLABELED_CAP, unlabeled);
  g_settings_set_int(settings, SC_KEY_SUBSET, subset);
  g_settings_set_int(settings, SC_KEY_BATCH_SIZE, batch);
  g_settings_set_int(settings, SC_KEY_WIDTH, width);
  if (!g_settings_set_string(settings, SC_KEY_RUNS, runs)) {
    fprintf(stderr, "app-stall-bench: --runs %s: expected all, baseline, pretrain or "
            "finetune\n", runs);
    return 2;
  }

  /* The bench's checkpoints go to a folder removed at the end. */
  g_autofree char *runs_root = g_dir_make_tmp("app-stall-bench-XXXXXX", &error);
  if (runs_root == NULL) {
    fprintf(stderr, "app-stall-bench: %s\n", error->message);
    return 1;
  }
  SimclrStudioWindow *window = simclr_studio_window_new(NULL, settings);
  simclr_studio_window_set_runs_root(window, runs_root, 0);
  gtk_window_present(GTK_WINDOW(window));
  while (simclr_studio_window_get_loading(window) || !gtk_widget_get_mapped(GTK_WIDGET(window)))
    g_main_context_iteration(NULL, TRUE);
  /* Let the first frames pass, as a user would before pressing Train. */
  gint64 settle_until = g_get_monotonic_time() + G_USEC_PER_SEC;
  while (g_get_monotonic_time() < settle_until)
    g_main_context_iteration(NULL, FALSE);

  Counts counts = { 0 };
  gboolean done = FALSE;
  g_signal_connect(window, "training-event", G_CALLBACK(event_cb), &counts);
  g_signal_connect(window, "training-finished", G_CALLBACK(finished_cb), &done);
  gint64 start = g_get_monotonic_time();
  if (!simclr_studio_window_start_training(window, &error)) {
    fprintf(stderr, "app-stall-bench: %s\n", error->message);
    simclr_studio_remove_tree(runs_root, NULL);
    return 1;
  }
  while (!done)
    g_main_context_iteration(NULL, TRUE);
  double seconds = (g_get_monotonic_time() - start) / 1e6;

  printf("training: %.1f s, %u step reports shown, %u UI updates (coalesced)\n", seconds,
         counts.n_steps, simclr_studio_runner_get_n_updates(window->runner));
  printf("longest main-loop stall: %.1f ms (GSK_RENDERER=%s)\n",
         simclr_studio_window_get_max_stall_ms(window), g_getenv("GSK_RENDERER"));
  gtk_window_destroy(GTK_WINDOW(window));
  if (!simclr_studio_remove_tree(runs_root, &error)) {
    fprintf(stderr, "app-stall-bench: %s\n", error->message);
    return 1;
  }
  return 0;
}
