/* simclr-train: the reference's three runs from the command line. */
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>
#include <unistd.h>

#include "cli-download.h"
#include "cli-options.h"
#include "cli-output.h"
#include "cli-progress.h"
#include "cli-run.h"
#include "config.h"

static int
fail(const GError *error)
{
  gboolean usage = error->domain == G_OPTION_ERROR;
  g_printerr("simclr-train: %s\n", error->message);
  if (usage)
    g_printerr("Try 'simclr-train --help'.\n");
  return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
}

/* n with a comma between groups of three digits: 3,000. */
static char *
format_count(size_t n)
{
  g_autofree char *digits = g_strdup_printf("%zu", n);
  size_t len = strlen(digits);
  GString *s = g_string_new(NULL);
  for (size_t i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0)
      g_string_append_c(s, ',');
    g_string_append_c(s, digits[i]);
  }
  return g_string_free(s, FALSE);
}

/* One line when a folder's images came in other sizes than the most common
 * one and were scaled to it. */
static void
print_scaled(const ScDataset *d)
{
  if (d->n_scaled == 0)
    return;
  size_t total = sc_split_count(d->train) + sc_split_count(d->test)
                 + (d->unlabeled != NULL ? sc_split_count(d->unlabeled) : 0);
  g_autofree char *scaled = format_count(d->n_scaled);
  g_autofree char *all = format_count(total);
  g_print("Sizes: %s of %s images scaled to %dx%d, the most common size\n", scaled, all,
          sc_split_width(d->train), sc_split_height(d->train));
}

/* --preview FILE: the figure from the data set's images, nothing else. */
static int
write_preview_only(const CliOptions *o)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) data = sc_dataset_open(cli_options_data_dir(o), o->config.format,
                                              &error);
  if (data == NULL)
    return fail(error);
  print_scaled(data);
  if (!cli_output_write_preview(data, &o->config, o->preview_path, &error))
    return fail(error);
  g_print("Preview written: %s\n", o->preview_path);
  return CLI_EXIT_OK;
}

/* --download-stl10 DIR: progress on stderr, the data set's folder on stdout. */
static int
download_only(const CliOptions *o)
{
#if SC_HAVE_DOWNLOAD
  return cli_download_dataset(NULL, o->download_dir, isatty(STDERR_FILENO));
#else
  g_printerr("simclr-train: --download-stl10: this build has no download support "
             "(libsoup 3 and libarchive were missing)\n");
  return CLI_EXIT_FAILED;
#endif
}

static void
print_banner(const ScTrainer *trainer, const CliOptions *o)
{
  const ScTrainConfig *c = sc_trainer_get_config(trainer);
  const ScDataset *d = sc_trainer_get_dataset(trainer);
  const ScSplit *tr = d->train;
  size_t n_train = sc_split_count(tr), n_test = sc_split_count(d->test);
  if (c->subset == 0)
    g_print("Data: %s (%s, %d classes, %zu train and %zu test images of %dx%dx%d)\n",
            d->path, sc_data_format_name(d->format), d->n_classes, n_train, n_test,
            sc_split_height(tr), sc_split_width(tr), sc_split_channels(tr));
  else /* --subset caps each split first (split.h) */
    g_print("Data: %s (%s, %d classes, %zu of %zu train and %zu of %zu test images of "
            "%dx%dx%d, --subset %zu)\n", d->path, sc_data_format_name(d->format),
            d->n_classes, MIN(c->subset, n_train), n_train, MIN(c->subset, n_test), n_test,
            sc_split_height(tr), sc_split_width(tr), sc_split_channels(tr), c->subset);
  print_scaled(d);
  const ScSplitPlan *plan = sc_trainer_get_split_plan(trainer);
  g_print("Split: %zu labeled, %zu unlabeled and %zu test images\n", plan->labeled.count,
          plan->unlabeled.count, plan->test.count);
  g_print("Config: %d labeled per class, unlabeled cap %zu, input %d px, width %d, "
          "batch %d, %d epoch%s, %d step%s per epoch, temperature %g, lr %g, "
          "contrastive lr %g, seed %" G_GUINT64_FORMAT ", backend %s\n",
          c->labeled_per_class, c->unlabeled_cap, c->input_size, c->width, c->batch_size,
          c->epochs, c->epochs == 1 ? "" : "s", sc_trainer_get_steps_per_epoch(trainer),
          sc_trainer_get_steps_per_epoch(trainer) == 1 ? "" : "s", (double)c->temperature,
          (double)c->learning_rate, (double)c->contrastive_learning_rate, c->seed,
          c->backend);
  if (o->resume_dir != NULL) {
    gboolean complete = TRUE;
    for (int r = 0; r < SC_N_RUNS; r++)
      complete = complete && (!c->runs[r] || sc_trainer_get_epochs_done(trainer, r) >= c->epochs);
    if (complete)
      g_print("The training in %s is already complete: nothing is trained, its results are "
              "written again\n", o->resume_dir);
    else
      g_print("Resuming from %s with its configuration\n", o->resume_dir);
  }
}

/* The command line that continues an interrupted run: from the checkpoint
 * this invocation wrote last, else from the one it resumed. */
static void
print_resume_command(const CliOptions *o, const char *argv0, gboolean wrote_checkpoint)
{
  const char *from = wrote_checkpoint ? o->out_dir : o->resume_dir;
  /* Absolute paths: the command also works when pasted in another folder.
   * A program found on PATH stays a bare name. */
  g_autofree char *prog_path =
    strchr(argv0, '/') != NULL ? g_canonicalize_filename(argv0, NULL) : g_strdup(argv0);
  g_autofree char *from_path = g_canonicalize_filename(from, NULL);
  g_autoptr(GString) cmd = g_string_new(NULL);
  g_autofree char *prog = g_shell_quote(prog_path);
  g_autofree char *dir = g_shell_quote(from_path);
  g_string_append_printf(cmd, "%s --resume %s", prog, dir);
  if (g_strcmp0(from, o->out_dir) != 0) {
    g_autofree char *out_path = g_canonicalize_filename(o->out_dir, NULL);
    g_autofree char *out = g_shell_quote(out_path);
    g_string_append_printf(cmd, " --out %s", out);
  }
  if (o->backend_flag != NULL)
    g_string_append_printf(cmd, " --backend %s", o->backend_flag);
  if (o->threads_flag > 0)
    g_string_append_printf(cmd, " --threads %d", o->threads_flag);
  g_printerr("To resume, run:\n  %s\n", cmd->str);
}

/* After Ctrl-C: how to go on, or why one cannot. */
static void
print_interrupted(const CliOptions *o, const CliProgress *progress, const char *argv0)
{
  gboolean wrote = cli_progress_last_checkpoint(progress) != NULL;
  if (o->out_dir == NULL)
    g_printerr("Interrupted; without --out no checkpoint was written.\n");
  else if (!wrote && o->resume_dir == NULL)
    g_printerr("Interrupted before the first epoch ended: no checkpoint to resume.\n");
  else
    print_resume_command(o, argv0, wrote);
}

/* An --out folder this invocation made and left empty is removed. */
static void
remove_if_empty(const char *dir, gboolean created)
{
  if (created)
    g_rmdir(dir); /* fails, as wanted, when anything was written */
}

static int
train(const CliOptions *o, const char *argv0)
{
  g_autoptr(GError) error = NULL;
  gint64 start_us = g_get_monotonic_time();
  /* From here on Ctrl-C never kills: it is answered between steps. */
  g_autoptr(CliSignals) signals = cli_signals_new();
  gboolean created = o->out_dir != NULL && !g_file_test(o->out_dir, G_FILE_TEST_EXISTS);
  if (o->out_dir != NULL && !cli_output_prepare_dir(o->out_dir, "--out", &error))
    return fail(error);
  if (o->out_dir != NULL && !cli_output_lock_dir(o->out_dir, "--out", &error)) {
    remove_if_empty(o->out_dir, created);
    return fail(error);
  }
  ScTrainer *trainer = sc_trainer_new(&o->config, o->resume_dir, &error);
  if (trainer == NULL) {
    remove_if_empty(o->out_dir, created);
    return fail(error);
  }
  if (cli_signals_count(signals) > 0) {
    g_printerr("Interrupted while reading the data, before training: nothing written.\n");
    sc_trainer_free(trainer);
    remove_if_empty(o->out_dir, created);
    return cli_signals_exit_status(signals);
  }
  print_banner(trainer, o);
  g_autofree char *preview = o->out_dir ? g_build_filename(o->out_dir, "preview.png", NULL)
                                        : NULL;
  if (preview != NULL && !cli_output_write_preview(sc_trainer_get_dataset(trainer),
                                                   sc_trainer_get_config(trainer), preview,
                                                   &error)) {
    sc_trainer_free(trainer);
    remove_if_empty(o->out_dir, created);
    return fail(error);
  }
  sc_trainer_set_checkpoint_dir(trainer, o->out_dir);

  g_autoptr(CliProgress) progress = cli_progress_new(stdout, isatty(STDOUT_FILENO), trainer);
  CliRunResult result = cli_run_trainer(trainer, progress, signals, &error);
  int status = result == CLI_RUN_DONE ? CLI_EXIT_OK
               : result == CLI_RUN_INTERRUPTED ? cli_signals_exit_status(signals)
                                               : fail(error);
  /* History and plots of the epochs done, whatever stopped the run, but for
   * a second Ctrl-C: stop at once. */
  gboolean at_once = cli_signals_count(signals) >= 2;
  g_autoptr(GError) write_error = NULL;
  if (o->out_dir != NULL && !at_once
      && !cli_output_write_results(trainer, o->out_dir, result == CLI_RUN_DONE,
                                   &write_error))
    status = fail(write_error);
  else if (o->out_dir != NULL && !at_once)
    g_print("Results written to %s\n", o->out_dir);
  cli_progress_summary(progress, trainer, (g_get_monotonic_time() - start_us) / 1e6);
  if (result == CLI_RUN_INTERRUPTED)
    print_interrupted(o, progress, argv0);
  sc_trainer_free(trainer);
  return status;
}

int
main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  /* Numbers in files and logs always use a decimal point. */
  setlocale(LC_NUMERIC, "C");
  g_autofree char *argv0 = g_strdup(argv[0]);
  CliOptions options;
  g_autoptr(GError) error = NULL;
  int status;
  if (!cli_options_parse(&argc, &argv, &options, &error))
    status = fail(error);
  else if (options.preview_path != NULL)
    status = write_preview_only(&options);
  else if (options.download_dir != NULL)
    status = download_only(&options);
  else
    status = train(&options, argv0);
  cli_options_clear(&options);
  return status;
}
