/* simclr-train's flags: GOptionContext entries with the defaults in their
 * help, then checks that name the flag at fault. */
#include "cli-options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sc-error.h"

/* The file the trainer writes into its checkpoint folder (trainer.h). */
#define CHECKPOINT_FILE "checkpoint.safetensors"

/* Flag values before checks: strings as typed, numbers at their defaults. */
typedef struct {
  char *data, *format, *strong, *weak, *runs, *backend, *seed, *out, *resume, *preview;
  char *download;
  int labeled, input_size, epochs, batch_size, width, threads;
  gint64 unlabeled, subset;
  double temperature, lr, contrastive_lr;
  gboolean knn;
} RawFlags;

static void
raw_flags_init(RawFlags *f, const ScTrainConfig *d)
{
  *f = (RawFlags){
    .labeled = d->labeled_per_class,
    .input_size = d->input_size,
    .epochs = d->epochs,
    .batch_size = d->batch_size,
    .width = d->width,
    .threads = d->threads,
    .unlabeled = (gint64)d->unlabeled_cap,
    .subset = (gint64)d->subset,
    .temperature = d->temperature,
    .lr = d->learning_rate,
    .contrastive_lr = d->contrastive_learning_rate,
    .knn = d->knn,
  };
}

static void
raw_flags_clear(RawFlags *f)
{
  char **strings[] = { &f->data,    &f->format, &f->strong, &f->weak, &f->runs,
                       &f->backend, &f->seed,   &f->out,    &f->resume, &f->preview,
                       &f->download };
  for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
    g_clear_pointer(strings[i], g_free);
}

static gboolean
has_png_suffix(const char *path)
{
  size_t n = strlen(path);
  return n > 4 && g_ascii_strcasecmp(path + n - 4, ".png") == 0;
}

static gboolean
bad_flag(GError **error, const char *flag, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
bad_flag(GError **error, const char *flag, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, args);
  va_end(args);
  g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s", flag, what);
  return FALSE;
}

/* "min_area,brightness,jitter" -> strength; the range checks come later. */
static gboolean
parse_strength(const char *text, const char *flag, ScAugmentStrength *out, GError **error)
{
  g_auto(GStrv) parts = g_strsplit(text, ",", -1);
  float v[3];
  if (g_strv_length(parts) != 3)
    return bad_flag(error, flag, "expected three numbers min_area,brightness,jitter "
                    "(e.g. 0.25,0.6,0.2), got \"%s\"", text);
  for (int i = 0; i < 3; i++) {
    char *end = NULL;
    g_strstrip(parts[i]);
    v[i] = (float)g_ascii_strtod(parts[i], &end);
    if (*parts[i] == '\0' || *end != '\0')
      return bad_flag(error, flag, "\"%s\" (number %d of min_area,brightness,jitter) "
                      "is not a number", parts[i], i + 1);
  }
  *out = (ScAugmentStrength){ v[0], v[1], v[2] };
  g_autoptr(GError) local = NULL;
  if (!sc_augment_strength_validate(out, flag, &local)) {
    g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, local->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_runs(const char *text, gboolean runs[SC_N_RUNS], GError **error)
{
  g_auto(GStrv) parts = g_strsplit(text, ",", -1);
  for (int r = 0; r < SC_N_RUNS; r++)
    runs[r] = FALSE;
  for (int i = 0; parts[i] != NULL; i++) {
    ScRunKind run;
    if (!sc_run_parse(g_strstrip(parts[i]), &run))
      return bad_flag(error, "--runs", "unknown run \"%s\" (expected a comma-separated "
                      "list of baseline, pretrain, finetune)", parts[i]);
    if (runs[run])
      return bad_flag(error, "--runs", "\"%s\" is listed twice (each run is done once, "
                      "in the order baseline, pretrain, finetune)", parts[i]);
    runs[run] = TRUE;
  }
  return TRUE;
}

static gboolean
parse_seed(const char *text, uint64_t *seed, GError **error)
{
  guint64 v;
  g_autoptr(GError) local = NULL;
  if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &v, &local))
    return bad_flag(error, "--seed", "expected an unsigned integer, got \"%s\"", text);
  *seed = v;
  return TRUE;
}

static gboolean
check_folder(const char *flag, const char *path, GError **error)
{
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return bad_flag(error, flag, "no such folder: %s", path);
  if (!g_file_test(path, G_FILE_TEST_IS_DIR))
    return bad_flag(error, flag, "%s is a file, expected a folder", path);
  return TRUE;
}

/* Flags into the configuration, each checked; the engine's own check of the
 * whole configuration comes last. */
static gboolean
apply_flags(RawFlags *f, CliOptions *o, GError **error)
{
  ScTrainConfig *c = &o->config;
  if (f->unlabeled < 0)
    return bad_flag(error, "--unlabeled", "must be >= 0, got %" G_GINT64_FORMAT,
                    f->unlabeled);
  if (f->subset < 0)
    return bad_flag(error, "--subset", "must be >= 0, got %" G_GINT64_FORMAT, f->subset);
  /* Checked here too: a resumed run skips the configuration check below. */
  if (f->threads < 0 || f->threads > SC_MAX_THREADS)
    return bad_flag(error, "--threads", "must be between 0 (the library's choice) and %d, "
                    "got %d", SC_MAX_THREADS, f->threads);
  c->labeled_per_class = f->labeled;
  c->unlabeled_cap = (size_t)f->unlabeled;
  c->subset = (size_t)f->subset;
  c->input_size = f->input_size;
  c->epochs = f->epochs;
  c->batch_size = f->batch_size;
  c->width = f->width;
  c->threads = f->threads;
  c->temperature = (float)f->temperature;
  c->learning_rate = (float)f->lr;
  c->contrastive_learning_rate = (float)f->contrastive_lr;
  c->knn = f->knn;

  if (f->format != NULL) {
    g_autoptr(GError) local = NULL;
    if (!sc_data_format_parse(f->format, &c->format, &local))
      return bad_flag(error, "--format", "%s", local->message);
  }
  if ((f->strong != NULL && !parse_strength(f->strong, "--strong", &c->strong, error))
      || (f->weak != NULL && !parse_strength(f->weak, "--weak", &c->weak, error))
      || (f->runs != NULL && !parse_runs(f->runs, c->runs, error))
      || (f->seed != NULL && !parse_seed(f->seed, &c->seed, error)))
    return FALSE;
  /* kNN accuracy is measured on the pretrained encoder only. */
  if (c->knn && !c->runs[SC_RUN_PRETRAIN])
    return bad_flag(error, "--knn", "measures the pretrained encoder, but --runs has no "
                    "pretrain run: add pretrain to --runs or drop --knn");
  if (f->preview != NULL && f->out != NULL)
    return bad_flag(error, "--preview", "only writes the preview figure to FILE and "
                    "exits, so --out would write nothing: drop --out, or drop --preview "
                    "(a training run writes preview.png into --out)");
  if (f->backend != NULL) {
    if (!sc_backend_name_valid(f->backend))
      return bad_flag(error, "--backend",
                      "expected cpu, cuda, cuda-fp32, cuda-tf32 or cuda-bf16, got \"%s\"",
                      f->backend);
    g_free(c->backend);
    c->backend = g_strdup(f->backend);
    o->backend_flag = g_strdup(f->backend);
  }
  o->threads_flag = f->threads;
  if (f->data != NULL)
    c->data_path = g_strdup(f->data);
  o->out_dir = g_steal_pointer(&f->out);
  o->resume_dir = g_steal_pointer(&f->resume);
  o->preview_path = g_steal_pointer(&f->preview);
  o->download_dir = g_steal_pointer(&f->download);
  const char *const empty[][2] = { { "--out", o->out_dir }, { "--resume", o->resume_dir },
                                   { "--preview", o->preview_path }, { "--data", f->data },
                                   { "--download-stl10", o->download_dir } };
  for (size_t i = 0; i < G_N_ELEMENTS(empty); i++)
    if (empty[i][1] != NULL && *empty[i][1] == '\0')
      return bad_flag(error, empty[i][0], "expected a path, got an empty one");
  /* The figure is a PNG whatever the name says; a .jpg name would mislead. */
  if (o->preview_path != NULL && !has_png_suffix(o->preview_path)) {
    g_autofree char *stem = g_strdup(o->preview_path);
    char *dot = strrchr(stem, '.'), *slash = strrchr(stem, G_DIR_SEPARATOR);
    if (dot != NULL && dot > stem && (slash == NULL || dot > slash + 1))
      *dot = '\0';
    return bad_flag(error, "--preview", "writes a PNG image, so FILE must end in .png, got "
                    "\"%s\" (for example %s.png)", o->preview_path, stem);
  }
  return TRUE;
}

/* Paths: the data folder must exist, --out must not be a file, --resume
 * must hold a checkpoint. */
static gboolean
check_paths(CliOptions *o, GError **error)
{
  const char *data = cli_options_data_dir(o);
  /* A resumed run reads the data its checkpoint names. */
  if (o->resume_dir != NULL)
    data = NULL;
  else if (!g_file_test(data, G_FILE_TEST_IS_DIR) && o->config.data_path == NULL)
    return bad_flag(error, "--data", "the default data set %s is missing: install "
                    "Debian's dataset-fashion-mnist or give --data DIR", data);
  if (data != NULL && !check_folder("--data", data, error))
    return FALSE;
  if (o->resume_dir != NULL) {
    if (!check_folder("--resume", o->resume_dir, error))
      return FALSE;
    g_autofree char *ckpt = cli_checkpoint_path(o->resume_dir);
    if (!g_file_test(ckpt, G_FILE_TEST_IS_REGULAR))
      return bad_flag(error, "--resume", "%s holds no checkpoint (%s)", o->resume_dir,
                      CHECKPOINT_FILE);
    /* Resumed runs keep writing where they left off. */
    if (o->out_dir == NULL)
      o->out_dir = g_strdup(o->resume_dir);
  }
  if (o->out_dir != NULL && g_file_test(o->out_dir, G_FILE_TEST_EXISTS)
      && !g_file_test(o->out_dir, G_FILE_TEST_IS_DIR))
    return bad_flag(error, "--out", "%s is a file, not a folder: give a folder to write "
                    "the results into", o->out_dir);
  /* Another run's checkpoint is never overwritten unasked. */
  if (o->out_dir != NULL && o->preview_path == NULL) {
    g_autofree char *ckpt = cli_checkpoint_path(o->out_dir);
    g_autofree char *out = g_canonicalize_filename(o->out_dir, NULL);
    g_autofree char *from = o->resume_dir != NULL
                              ? g_canonicalize_filename(o->resume_dir, NULL) : NULL;
    if (g_file_test(ckpt, G_FILE_TEST_EXISTS) && g_strcmp0(out, from) != 0) {
      g_autofree char *quoted = g_shell_quote(o->out_dir);
      return bad_flag(error, "--out", "%s already holds a checkpoint (%s) of another run: "
                      "continue it with --resume %s, or give a new --out folder",
                      o->out_dir, CHECKPOINT_FILE, quoted);
    }
  }
  return TRUE;
}

/* The long flags on the command line, as "--name", before parsing takes them
 * out of argv; a value that happens to look like a flag of ours counts too,
 * which can only make a --resume refuse, never accept, a command. */
static GPtrArray *
given_flags(int argc, char **argv, const GOptionEntry *entries)
{
  GPtrArray *given = g_ptr_array_new_with_free_func(g_free);
  for (int i = 1; i < argc && g_strcmp0(argv[i], "--") != 0; i++) {
    if (!g_str_has_prefix(argv[i], "--"))
      continue;
    g_autofree char *name = g_strndup(argv[i] + 2, strcspn(argv[i] + 2, "="));
    for (const GOptionEntry *e = entries; e->long_name != NULL; e++)
      if (strcmp(e->long_name, name) == 0)
        g_ptr_array_add(given, g_strconcat("--", name, NULL));
  }
  return given;
}

/* A resumed run takes its configuration from the checkpoint: only where to
 * run and where to write may be given. */
static gboolean
check_resume_flags(const GPtrArray *given, GError **error)
{
  static const char *const allowed[] = { "--resume", "--out", "--backend", "--threads" };
  for (guint i = 0; i < given->len; i++) {
    const char *flag = g_ptr_array_index(given, i);
    gboolean ok = FALSE;
    for (size_t k = 0; k < G_N_ELEMENTS(allowed); k++)
      ok = ok || strcmp(flag, allowed[k]) == 0;
    if (!ok)
      return bad_flag(error, flag, "cannot be given with --resume: the checkpoint fixes "
                      "the data and the configuration (only --out, --backend and "
                      "--threads may go with --resume; start a new run with a new --out "
                      "to change it)");
  }
  return TRUE;
}

/* Help texts with the defaults in them; owned by `strings`. */
static const char *
help(GPtrArray *strings, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static const char *
help(GPtrArray *strings, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  char *s = g_strdup_vprintf(fmt, args);
  va_end(args);
  g_ptr_array_add(strings, s);
  return s;
}

#define STRENGTH_ARGS(s) (double)(s).min_area, (double)(s).brightness, (double)(s).jitter

static GOptionContext *
new_context(RawFlags *f, const ScTrainConfig *d, GPtrArray *s, int argc, char **argv,
            GPtrArray **given)
{
  const GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &f->data,
      help(s, "Data set folder (default %s)", SC_DEFAULT_DATA_DIR), "DIR" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &f->format,
      "Data format: auto, stl10, cifar10, idx or folder (default auto)", "FMT" },
    { "labeled", 0, 0, G_OPTION_ARG_INT, &f->labeled,
      help(s, "Labeled images PER CLASS, drawn from the train split (default %d; "
           "in every format, STL-10 too)", d->labeled_per_class), "N" },
    { "unlabeled", 0, 0, G_OPTION_ARG_INT64, &f->unlabeled,
      help(s, "At most N unlabeled images, 0 for all (default %zu): STL-10's unlabeled "
           "split, else the train images not labeled", d->unlabeled_cap), "N" },
    { "subset", 0, 0, G_OPTION_ARG_INT64, &f->subset,
      "At most N images from each split, for quick demos (default 0: all)", "N" },
    { "input-size", 0, 0, G_OPTION_ARG_INT, &f->input_size,
      help(s, "Model input side in pixels, 31 to %d (default %d)", SC_MAX_INPUT_SIZE,
           d->input_size), "PX" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &f->epochs,
      help(s, "Epochs of each run (default %d)", d->epochs), "N" },
    { "batch-size", 0, 0, G_OPTION_ARG_INT, &f->batch_size,
      help(s, "Contrastive batch, unlabeled + labeled (default %d)", d->batch_size), "N" },
    { "width", 0, 0, G_OPTION_ARG_INT, &f->width,
      help(s, "Encoder and projection width (default %d)", d->width), "N" },
    { "temperature", 0, 0, G_OPTION_ARG_DOUBLE, &f->temperature,
      help(s, "Contrastive temperature, >= %g (default %g)", SC_MIN_TEMPERATURE,
           (double)d->temperature), "T" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &f->lr,
      help(s, "Learning rate of the supervised runs and the probe (default %g)",
           (double)d->learning_rate), "LR" },
    { "contrastive-lr", 0, 0, G_OPTION_ARG_DOUBLE, &f->contrastive_lr,
      help(s, "Learning rate of pretraining (default %g)",
           (double)d->contrastive_learning_rate), "LR" },
    { "strong", 0, 0, G_OPTION_ARG_STRING, &f->strong,
      help(s, "Contrastive augmentation (default %g,%g,%g)", STRENGTH_ARGS(d->strong)),
      "MIN_AREA,BRIGHTNESS,JITTER" },
    { "weak", 0, 0, G_OPTION_ARG_STRING, &f->weak,
      help(s, "Classification augmentation (default %g,%g,%g)", STRENGTH_ARGS(d->weak)),
      "MIN_AREA,BRIGHTNESS,JITTER" },
    { "runs", 0, 0, G_OPTION_ARG_STRING, &f->runs,
      "Runs to do (default baseline,pretrain,finetune)", "LIST" },
    { "knn", 0, 0, G_OPTION_ARG_NONE, &f->knn,
      "Also measure kNN accuracy (k = 20, cosine) after each pretraining epoch", NULL },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &f->backend,
      help(s, "cpu or cuda (default %s); cuda-fp32, cuda-tf32 (as cuda) or cuda-bf16 "
              "choose the GPU's arithmetic", d->backend), "NAME" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &f->threads,
      help(s, "CPU threads, 0 for the library's choice, at most %d (default 0)",
           SC_MAX_THREADS), "N" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &f->seed,
      help(s, "Seed of every random draw (default %" G_GUINT64_FORMAT ")", d->seed), "N" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &f->out,
      "Folder for history, plots, checkpoints and the encoder (default: no files)", "DIR" },
    { "resume", 0, 0, G_OPTION_ARG_FILENAME, &f->resume,
      "Continue from the checkpoint in DIR with its configuration (--out defaults to DIR)",
      "DIR" },
    { "preview", 0, 0, G_OPTION_ARG_FILENAME, &f->preview,
      "Only write the augmentation preview figure (PNG) of the data and exit", "FILE" },
    { "download-stl10", 0, 0, G_OPTION_ARG_FILENAME, &f->download,
      "Only download STL-10 (2.6 GB, resumable) and unpack it into DIR/stl10_binary",
      "DIR" },
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *ctx = g_option_context_new("- train SimCLR and its baselines");
  g_option_context_add_main_entries(ctx, entries, NULL);
  *given = given_flags(argc, argv, entries);
  g_option_context_set_summary(ctx,
    "Runs the supervised baseline, contrastive pretraining with a linear probe and\n"
    "finetuning, and prints the maximal validation accuracy of each.");
  g_option_context_set_description(ctx,
    "In --out: history.csv, history.json, accuracy.png/.svg, loss.png/.svg,\n"
    "checkpoint.safetensors (after every epoch), encoder.safetensors, preview.png.\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 bad command line, 130 interrupted by Ctrl-C,\n"
    "143 by SIGTERM (either stops after the current step and prints the command\n"
    "that resumes; checkpoints are written after each epoch, so a resume restarts\n"
    "the unfinished epoch from its start; a second signal stops without writing\n"
    "history and charts).");
  return ctx;
}

gboolean
cli_options_parse(int *argc, char ***argv, CliOptions *o, GError **error)
{
  *o = (CliOptions){ 0 };
  sc_train_config_init_default(&o->config);
  RawFlags f;
  raw_flags_init(&f, &o->config);
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) given = NULL;
  GOptionContext *ctx = new_context(&f, &o->config, strings, *argc, *argv, &given);
  gboolean ok = g_option_context_parse(ctx, argc, argv, error);
  g_option_context_free(ctx);
  if (ok && *argc > 1)
    ok = bad_flag(error, (*argv)[1], "unexpected argument (every value goes with a flag; "
                  "see --help)");
  ok = ok && apply_flags(&f, o, error)
       && (o->resume_dir == NULL || check_resume_flags(given, error))
       && (o->download_dir != NULL || check_paths(o, error));
  /* A resumed run takes the checkpoint's configuration, checked there. */
  if (ok && o->resume_dir == NULL && o->preview_path == NULL && o->download_dir == NULL) {
    g_autoptr(GError) local = NULL;
    if (!sc_train_config_validate(&o->config, &local)) {
      g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, local->message);
      ok = FALSE;
    }
  }
  raw_flags_clear(&f);
  return ok;
}

void
cli_options_clear(CliOptions *o)
{
  sc_train_config_clear(&o->config);
  g_clear_pointer(&o->out_dir, g_free);
  g_clear_pointer(&o->resume_dir, g_free);
  g_clear_pointer(&o->preview_path, g_free);
  g_clear_pointer(&o->download_dir, g_free);
  g_clear_pointer(&o->backend_flag, g_free);
}

const char *
cli_options_data_dir(const CliOptions *o)
{
  return o->config.data_path != NULL ? o->config.data_path : SC_DEFAULT_DATA_DIR;
}

char *
cli_checkpoint_path(const char *dir)
{
  return g_build_filename(dir, CHECKPOINT_FILE, NULL);
}
