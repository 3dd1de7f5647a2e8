/* simclr-train as a user runs it: bad flags exit 2 naming the flag, a tiny
 * run on every data format writes sane history and plots, Ctrl-C exits 130
 * with a resumable checkpoint and the command that resumes it. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "preview.h"
#include "test-data-fixtures.h"
#include "test-util.h"
#include "sc-error.h"
#include "trainer.h"

#define CHART_W 800
#define CHART_H 500
#define EPOCHS 2

static char *
cli_path(void)
{
  return g_test_build_filename(G_TEST_BUILT, "..", "src", "cli", "simclr-train", NULL);
}

/* simclr-train's path followed by args (NULL-terminated), NULL-terminated. */
static GPtrArray *
cli_argv(const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(argv, cli_path());
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(args[i]));
  g_ptr_array_add(argv, NULL);
  return argv;
}

/* Runs simclr-train with args (NULL-terminated); returns the exit status. */
static int
run_cli(const char *const *args, char **out, char **err)
{
  g_autoptr(GPtrArray) argv = cli_argv(args);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) p = g_subprocess_newv(
    (const char *const *)argv->pdata,
    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error(error);
  g_subprocess_communicate_utf8(p, NULL, NULL, out, err, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(p));
  return g_subprocess_get_exit_status(p);
}

static void
assert_bad_flag(const char *const *args, const char *flag)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = run_cli(args, &out, &err);
  if (status != 2 || strstr(err, flag) == NULL)
    g_test_fail_printf("%s %s: exit %d, stderr \"%s\"; expected 2 naming %s", args[0],
                       args[1], status, g_strchomp(err), flag);
}

static void
test_bad_flags(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *missing = g_build_filename(dir, "no-such-folder", NULL);
  g_autofree char *file = g_build_filename(dir, "a-file", NULL);
  g_assert_true(g_file_set_contents(file, "x", 1, NULL));
  g_autofree char *used = g_build_filename(dir, "used", NULL);
  g_autofree char *used_ckpt = g_build_filename(used, "checkpoint.safetensors", NULL);
  g_assert_cmpint(g_mkdir_with_parents(used, 0755), ==, 0);
  g_assert_true(g_file_set_contents(used_ckpt, "x", 1, NULL));
  const struct {
    const char *args[5];
    const char *flag;
  } cases[] = {
    { { "--runs", "baseline,bogus" }, "--runs" },
    { { "--runs", "finetune" }, "--runs" },
    { { "--runs", "baseline,baseline" }, "--runs" },
    { { "--preview", "" }, "--preview" },
    { { "--preview", "figure.jpg" }, "--preview" }, /* it writes a PNG */
    { { "--preview", "figure" }, "--preview" },
    { { "--out", "" }, "--out" },
    { { "--temperature", "0" }, "--temperature" },
    { { "--temperature", "1e-5" }, "--temperature" },
    { { "--input-size", "4000" }, "--input-size" },
    { { "--threads", "100000" }, "--threads" },
    { { "--epochs", "-3" }, "--epochs" },
    { { "--epochs", "many" }, "--epochs" },
    { { "--epochs", "100001" }, "--epochs" },
    { { "--data", missing }, "--data" },
    { { "--strong", "0.25,0.6" }, "--strong" },
    { { "--strong", "0.25,bright,0.2" }, "--strong" },
    { { "--weak", "0,0.3,0.1" }, "--weak" },
    { { "--backend", "tpu" }, "--backend" },
    { { "--format", "tiff" }, "--format" },
    { { "--subset", "-1" }, "--subset" },
    { { "--seed", "-5" }, "--seed" },
    /* Flags that would be ignored in this combination. */
    { { "--knn", "--runs", "baseline" }, "--knn" },
    { { "--preview", file, "--out", dir }, "--preview" },
    { { "--preview", file, "--out", dir }, "--out" },
    { { "--out", file }, "--out" },
    { { "--resume", dir }, "--resume" },
    { { "--no-such-flag", NULL }, "--no-such-flag" },
    /* The checkpoint fixes everything but where to run and write. */
    { { "--resume", used, "--epochs", "3" }, "--epochs" },
    { { "--resume", used, "--data=/elsewhere" }, "--data" },
    { { "--resume", used, "--threads", "100000" }, "--threads" },
    /* Another run's checkpoint is not overwritten. */
    { { "--data", dir, "--out", used }, "--out" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
    assert_bad_flag(cases[i].args, cases[i].flag);
  /* A name of another format is refused before anything is read. */
  const char *jpg[] = { "--data", missing, "--preview", "figure.jpg", NULL };
  g_autofree char *so = NULL, *se = NULL;
  g_assert_cmpint(run_cli(jpg, &so, &se), ==, 2);
  g_assert_nonnull(strstr(se, "--preview: writes a PNG image, so FILE must end in .png, got "
                              "\"figure.jpg\" (for example figure.png)"));
  sc_test_rmtree(dir);
}

/* --help says what --labeled does: per class, from the train split, in
 * every format. */
static void
test_help(void)
{
  const char *args[] = { "--help", NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(run_cli(args, &out, &err), ==, 0);
  const char *labeled = strstr(out, "--labeled");
  g_assert_nonnull(labeled);
  g_autofree char *line = g_strndup(labeled, strcspn(labeled, "\n"));
  g_assert_nonnull(strstr(line, "PER CLASS, drawn from the train split"));
  g_assert_null(strstr(line, "uses its own"));  g_assert_nonnull(strstr(out, "143 by SIGTERM"));
}

/* A command line that parses but whose data cannot be read: status 1 and a
 * message naming the folder; no --out folder left behind. */
static void
test_failure_exit_1(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *data = g_build_filename(dir, "not-a-data-set", NULL);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  g_assert_cmpint(g_mkdir_with_parents(data, 0755), ==, 0);
  const char *args[] = { "--data", data, "--out", out, NULL };
  g_autofree char *so = NULL, *se = NULL;
  g_assert_cmpint(run_cli(args, &so, &se), ==, 1);
  g_assert_nonnull(strstr(se, data));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS)); /* made, then removed empty */

  /* One image per class, two asked for: the singular. */
  g_autofree char *tiny = g_build_filename(dir, "tiny", NULL);
  fx_idx_folder(tiny, 10, 10, 28, 28, FALSE);
  const char *labeled[] = { "--data", tiny, "--labeled", "2", NULL };
  g_autofree char *so2 = NULL, *se2 = NULL;
  g_assert_cmpint(run_cli(labeled, &so2, &se2), ==, 1);
  g_assert_nonnull(strstr(se2, "has 1 training image, fewer than the 2"));

  /* A step far larger than any machine's memory is refused up front. */
  g_autofree char *big = g_build_filename(dir, "big", NULL);
  fx_idx_folder(big, 1100, 10, 28, 28, FALSE);
  const char *huge[] = { "--data", big, "--input-size", "512", "--width", "4096", NULL };
  g_autofree char *so3 = NULL, *se3 = NULL;
  g_assert_cmpint(run_cli(huge, &so3, &se3), ==, 1);
  g_assert_nonnull(strstr(se3, "--input-size 512"));
  g_assert_nonnull(strstr(se3, "GiB"));

  /* The folder above data sets: the error names them. */
  const char *parent[] = { "--data", dir, NULL };
  g_autofree char *so4 = NULL, *se4 = NULL;
  g_assert_cmpint(run_cli(parent, &so4, &se4), ==, 1);
  g_autofree char *mean = g_strdup_printf("did you mean %s (idx) or %s (idx)?", big, tiny);
  g_assert_nonnull(strstr(se4, mean));

  /* A result file that cannot be written: its name and why, status 1. */
  g_autofree char *csv = g_build_filename(out, "history.csv", NULL);
  g_assert_cmpint(g_mkdir_with_parents(csv, 0755), ==, 0);
  const char *results[] = { "--data", big, "--runs", "baseline", "--epochs", "1",
                            "--width", "8", "--subset", "40", "--labeled", "1",
                            "--input-size", "32", "--batch-size", "10", "--threads", "1",
                            "--out", out, NULL };
  g_autofree char *so5 = NULL, *se5 = NULL;
  g_assert_cmpint(run_cli(results, &so5, &se5), ==, 1);
  g_autofree char *why = g_strdup_printf("Cannot write %s: %s is a folder", csv, csv);
  g_assert_nonnull(strstr(se5, why));
  sc_test_rmtree(dir);
}

/* ---- Reading the outputs ---- */

static guint32
be32(const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static void
assert_png_size(const char *path, guint32 w, guint32 h)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, >, 33);
  g_assert_cmpmem(data, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpmem(data + 12, 4, "IHDR", 4);
  g_assert_cmpuint(be32((const guint8 *)data + 16), ==, w);
  g_assert_cmpuint(be32((const guint8 *)data + 20), ==, h);
}

/* The number of attribute `name` of the root <svg> element. */
static double
svg_attribute(const char *svg, const char *name)
{
  const char *root = strstr(svg, "<svg");
  g_assert_nonnull(root);
  g_autofree char *key = g_strdup_printf(" %s=\"", name);
  const char *at = strstr(root, key);
  g_assert_nonnull(at);
  g_assert_true(at < strchr(root, '>'));
  return g_ascii_strtod(at + strlen(key), NULL);
}

static void
assert_svg_size(const char *path, double w, double h)
{
  g_autofree char *data = NULL;
  g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
  g_assert_cmpfloat(svg_attribute(data, "width"), ==, w);
  g_assert_cmpfloat(svg_attribute(data, "height"), ==, h);
  g_assert_nonnull(strstr(data, "</svg>"));
}

/* Rows of history.csv as name -> value tables (strings owned by rows). */
static GPtrArray *
read_csv(const char *path)
{
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(g_strchomp(text), "\n", -1);
  g_auto(GStrv) header = g_strsplit(lines[0], ",", -1);
  GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
  for (int i = 1; lines[i] != NULL; i++) {
    g_auto(GStrv) cells = g_strsplit(lines[i], ",", -1);
    g_assert_cmpuint(g_strv_length(cells), ==, g_strv_length(header));
    GHashTable *row = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (int k = 0; header[k] != NULL; k++)
      g_hash_table_insert(row, g_strdup(header[k]), g_strdup(cells[k]));
    g_ptr_array_add(rows, row);
  }
  return rows;
}

static double
cell(GHashTable *row, const char *name)
{
  const char *v = g_hash_table_lookup(row, name);
  g_assert_nonnull(v);
  g_assert_cmpstr(v, !=, "");
  char *end = NULL;
  double d = g_ascii_strtod(v, &end);
  g_assert_true(*end == '\0');
  return d;
}

static void
assert_accuracy(double a)
{
  g_assert_true(isfinite(a));
  g_assert_cmpfloat(a, >=, 0.0);
  g_assert_cmpfloat(a, <=, 1.0);
}

/* Two epochs of each run, in order, with accuracies in [0, 1]. */
static void
check_history_csv(const char *path)
{
  static const char *const runs[] = { "baseline", "pretrain", "finetune" };
  g_autoptr(GPtrArray) rows = read_csv(path);
  g_assert_cmpuint(rows->len, ==, 3 * EPOCHS);
  for (guint i = 0; i < rows->len; i++) {
    GHashTable *row = rows->pdata[i];
    gboolean pre = i / EPOCHS == 1;
    g_assert_cmpstr(g_hash_table_lookup(row, "run"), ==, runs[i / EPOCHS]);
    g_assert_cmpfloat(cell(row, "epoch"), ==, i % EPOCHS + 1);
    if (pre) {
      assert_accuracy(cell(row, "c_acc"));
      assert_accuracy(cell(row, "p_acc"));
      assert_accuracy(cell(row, "val_p_acc"));
      g_assert_true(isfinite(cell(row, "c_loss")) && cell(row, "c_loss") > 0);
    } else {
      assert_accuracy(cell(row, "acc"));
      assert_accuracy(cell(row, "val_acc"));
      g_assert_true(isfinite(cell(row, "val_loss")) && cell(row, "val_loss") > 0);
      g_assert_cmpstr(g_hash_table_lookup(row, "c_loss"), ==, "");
    }
  }
}

/* The same epochs as the CSV, and the configuration the command line gave. */
static void
check_history_json(const char *path, const char *csv_path)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_file(parser, path, &error));
  g_assert_no_error(error);
  JsonObject *root = json_node_get_object(json_parser_get_root(parser));
  JsonObject *config = json_object_get_object_member(root, "config");
  g_assert_cmpint(json_object_get_int_member(config, "epochs"), ==, EPOCHS);
  g_assert_cmpint(json_object_get_int_member(config, "input_size"), ==, 32);
  g_assert_cmpint(json_object_get_int_member(config, "width"), ==, 8);
  JsonObject *history = json_object_get_object_member(root, "history");
  g_autoptr(GPtrArray) rows = read_csv(csv_path);
  static const char *const runs[] = { "baseline", "pretrain", "finetune" };
  for (int r = 0; r < 3; r++) {
    JsonArray *epochs = json_object_get_array_member(history, runs[r]);
    g_assert_cmpuint(json_array_get_length(epochs), ==, EPOCHS);
    for (guint e = 0; e < EPOCHS; e++) {
      JsonObject *m = json_array_get_object_element(epochs, e);
      const char *key = r == 1 ? "val_p_acc" : "val_acc";
      double acc = json_object_get_double_member(m, key);
      assert_accuracy(acc);
      /* CSV rounds to 6 significant digits. */
      g_assert_cmpfloat_with_epsilon(acc, cell(rows->pdata[r * EPOCHS + e], key), 1e-5);
    }
  }
}

static void
check_outputs(const char *out)
{
  g_autofree char *csv = g_build_filename(out, "history.csv", NULL);
  g_autofree char *json = g_build_filename(out, "history.json", NULL);
  check_history_csv(csv);
  check_history_json(json, csv);
  static const char *const stems[] = { "accuracy", "loss" };
  for (int i = 0; i < 2; i++) {
    g_autofree char *png_name = g_strconcat(stems[i], ".png", NULL);
    g_autofree char *svg_name = g_strconcat(stems[i], ".svg", NULL);
    g_autofree char *png = g_build_filename(out, png_name, NULL);
    g_autofree char *svg = g_build_filename(out, svg_name, NULL);
    assert_png_size(png, CHART_W, CHART_H);
    assert_svg_size(svg, CHART_W, CHART_H);
  }
  static const char *const files[] = { "checkpoint.safetensors", "encoder.safetensors",
                                       "preview.png" };
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *path = g_build_filename(out, files[i], NULL);
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  }
  /* The preview at the model's input size, 32 px cells enlarged 3 times. */
  static const uint8_t pixel[3];
  ScPreviewSpec spec = { .images = pixel, .h = 1, .w = 1, .c = 3, .out_size = 32,
                         .weak = SC_AUGMENT_WEAK, .strong = SC_AUGMENT_STRONG };
  int w, h;
  sc_preview_figure_size(&spec, &w, &h);
  g_autofree char *preview = g_build_filename(out, "preview.png", NULL);
  assert_png_size(preview, 3 * w, 3 * h);
}

/* ---- Fixtures: a few dozen images in each format, ten classes ---- */

static void
cifar10_fixture(const char *dir)
{
  for (int b = 1; b <= 5; b++) {
    guint8 labels[12];
    for (int i = 0; i < 12; i++)
      labels[i] = (guint8)(i % 10);
    g_autoptr(GByteArray) recs = fx_cifar10_records(12, (size_t)b * 12, labels);
    g_autofree char *name = g_strdup_printf("data_batch_%d.bin", b);
    fx_write(dir, name, recs->data, recs->len);
  }
  guint8 test_labels[20];
  for (int i = 0; i < 20; i++)
    test_labels[i] = (guint8)(i % 10);
  g_autoptr(GByteArray) test = fx_cifar10_records(20, 500, test_labels);
  fx_write(dir, "test_batch.bin", test->data, test->len);
}

/* Three classes of plain-coloured images, shades varying per image; two of
 * them of other sizes, as photos come (scaled to the common 36x36). */
static void
folder_fixture(const char *dir)
{
  static const char *const classes[] = { "red", "green", "blue" };
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 10; i++) {
      guint8 rgb[3] = { 40, 40, 40 };
      rgb[k] = (guint8)(150 + 10 * i);
      g_autofree char *name = g_strdup_printf("%s/%02d.png", classes[k], i);
      g_autofree char *path = g_build_filename(dir, name, NULL);
      g_autofree char *parent = g_path_get_dirname(path);
      g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
      int w = 36, h = 36;
      if (k == 1 && i == 3) {
        w = 80;
        h = 60;
      } else if (k == 2 && i == 5) {
        w = 20;
        h = 15;
      }
      fx_write_image(path, w, h, rgb, FALSE);
    }
}

static void
make_fixture(const char *format, const char *dir)
{
  if (g_str_equal(format, "idx"))
    fx_idx_folder(dir, 60, 30, 28, 28, TRUE);
  else if (g_str_equal(format, "cifar10"))
    cifar10_fixture(dir);
  else if (g_str_equal(format, "stl10"))
    fx_stl10_folder(dir, 40, 20, 40);
  else
    folder_fixture(dir);
}

static void
test_end_to_end(gconstpointer data)
{
  const char *format = data;
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *data_dir = g_build_filename(dir, "data", NULL);
  /* A fresh, nested --out folder: simclr-train creates it. */
  g_autofree char *out = g_build_filename(dir, "results", "run1", NULL);
  make_fixture(format, data_dir);
  g_autofree char *epochs = g_strdup_printf("%d", EPOCHS);
  const char *args[] = { "--data", data_dir, "--format", format, "--subset", "40",
                         "--labeled", "1", "--epochs", epochs, "--width", "8",
                         "--input-size", "32", "--batch-size", "10", "--threads", "1",
                         "--out", out, NULL };
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;
  int status = run_cli(args, &stdout_text, &stderr_text);
  if (status != 0)
    g_error("simclr-train on %s exited %d: %s", format, status, stderr_text);
  /* Not a terminal: plain lines, one per epoch, and the summary table. */
  g_assert_null(strchr(stdout_text, '\r'));
  g_assert_nonnull(strstr(stdout_text, "Epoch 2/2"));
  g_assert_nonnull(strstr(stdout_text, "max val acc"));
  g_assert_nonnull(strstr(stdout_text, "wall time"));
  /* The banner counts what --subset keeps: 60 and 30 IDX images, 10 classes
   * of one labeled image, the other 30 capped train images unlabeled. */
  if (g_str_equal(format, "idx")) {
    g_assert_nonnull(strstr(stdout_text, "40 of 60 train and 30 of 30 test images"));
    g_assert_nonnull(strstr(stdout_text, "--subset 40)"));
    g_assert_nonnull(strstr(stdout_text, "Split: 10 labeled, 30 unlabeled and 30 test"));
  }
  if (g_str_equal(format, "folder"))
    g_assert_nonnull(strstr(stdout_text, "Sizes: 2 of 30 images scaled to 36x36"));
  check_outputs(out);
  sc_test_rmtree(dir);
}

/* ---- Ctrl-C and resume ---- */

static GSubprocess *
spawn_cli_in(const char *cwd, const char *const *args, const char *stdout_path,
             const char *stderr_path)
{
  g_autoptr(GPtrArray) argv = cli_argv(args);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(0);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd(launcher, cwd);
  g_subprocess_launcher_set_stdout_file_path(launcher, stdout_path);
  g_subprocess_launcher_set_stderr_file_path(launcher, stderr_path);
  g_autoptr(GError) error = NULL;
  GSubprocess *p = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata,
                                                &error);
  g_assert_no_error(error);
  return p;
}

static GSubprocess *
spawn_cli(const char *const *args, const char *stdout_path, const char *stderr_path)
{
  return spawn_cli_in(NULL, args, stdout_path, stderr_path);
}

static void
wait_exit(GSubprocess *p, int status)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(g_subprocess_wait(p, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(p)); /* not killed by the signal */
  g_assert_cmpint(g_subprocess_get_exit_status(p), ==, status);
}

static guint
csv_rows(const char *out)
{
  g_autofree char *csv = g_build_filename(out, "history.csv", NULL);
  g_autoptr(GPtrArray) rows = read_csv(csv);
  return rows->len;
}

static void
test_interrupt_and_resume(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *data_dir = g_build_filename(dir, "data", NULL);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  g_autofree char *ckpt = g_build_filename(out, "checkpoint.safetensors", NULL);
  g_autofree char *log = g_build_filename(dir, "stdout.txt", NULL);
  g_autofree char *errlog = g_build_filename(dir, "stderr.txt", NULL);
  fx_idx_folder(data_dir, 400, 100, 28, 28, FALSE);
  /* --data and --out relative to the folder it runs in; the resume command
   * printed works from anywhere, the checkpoint naming the data absolutely. */
  const char *args[] = { "--data", "data", "--labeled", "10", "--epochs", "6",
                         "--width", "16", "--input-size", "32", "--batch-size", "40",
                         "--threads", "1", "--out", "out", NULL };
  g_autoptr(GSubprocess) p = spawn_cli_in(dir, args, log, errlog);

  /* The checkpoint appears whole (written atomically) after epoch 1. */
  gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
  while (!g_file_test(ckpt, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
    g_usleep(2000);
  g_assert_true(g_file_test(ckpt, G_FILE_TEST_EXISTS));
  g_subprocess_send_signal(p, SIGINT);
  wait_exit(p, 130);

  /* Stopped early, its history so far written, the resume command printed. */
  guint rows_done = csv_rows(out);
  g_assert_cmpuint(rows_done, >=, 1);
  g_assert_cmpuint(rows_done, <, 18);
  g_autofree char *err = NULL;
  g_assert_true(g_file_get_contents(errlog, &err, NULL, NULL));
  const char *line = strstr(err, "To resume, run:\n  ");
  g_assert_nonnull(line);
  line += strlen("To resume, run:\n  ");
  g_autofree char *command = g_strndup(line, strcspn(line, "\n"));
  g_autofree char *quoted_out = g_shell_quote(out);
  g_autofree char *want = g_strdup_printf("--resume %s --threads 1", quoted_out);
  g_assert_true(g_str_has_suffix(command, want));

  /* The printed command finishes the three runs from the checkpoint. */
  g_auto(GStrv) resume_argv = NULL;
  g_assert_true(g_shell_parse_argv(command, NULL, &resume_argv, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) r = g_subprocess_newv((const char *const *)resume_argv,
                                               G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_wait_check(r, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(csv_rows(out), ==, 18);
  g_autofree char *encoder = g_build_filename(out, "encoder.safetensors", NULL);
  g_assert_true(g_file_test(encoder, G_FILE_TEST_IS_REGULAR));

  /* Once more: it says the training is complete, and trains nothing. */
  g_autoptr(GSubprocess) again = g_subprocess_newv((const char *const *)resume_argv,
                                                   G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error(error);
  g_autofree char *said = NULL;
  g_assert_true(g_subprocess_communicate_utf8(again, NULL, NULL, &said, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_successful(again));
  g_assert_nonnull(strstr(said, "is already complete: nothing is trained"));
  g_assert_null(strstr(said, "Epoch "));
  g_assert_cmpuint(csv_rows(out), ==, 18);
  sc_test_rmtree(dir);
}

/* Waits up to a minute for `text` in the file at path. */
static gboolean
wait_for_text(const char *path, const char *text)
{
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < deadline) {
    g_autofree char *got = NULL;
    if (g_file_get_contents(path, &got, NULL, NULL) && strstr(got, text) != NULL)
      return TRUE;
    g_usleep(1000);
  }
  return FALSE;
}

/* Only the files simclr-train writes, no temporary ones. */
static void
assert_no_temporaries(const char *out)
{
  static const char *const known[] = {
    "accuracy.png", "accuracy.svg", "loss.png", "loss.svg", "history.csv",
    "history.json", "checkpoint.safetensors", "encoder.safetensors", "preview.png",
  };
  g_autoptr(GDir) d = g_dir_open(out, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL)
    if (!g_strv_contains(known, name))
      g_test_fail_printf("%s holds the unexpected file %s", out, name);
}

/* A pretraining run into `out` on data made in DIR/data, its stdout in
 * `log` and stderr beside it; its 256 px views make a step long enough for
 * signals and a second run to land while it trains. Returns once training
 * has started. */
static GSubprocess *
spawn_slow_pretrain(const char *dir, const char *out, const char *log)
{
  g_autofree char *data_dir = g_build_filename(dir, "data", NULL);
  g_autofree char *errlog = g_build_filename(dir, "stderr.txt", NULL);
  fx_idx_folder(data_dir, 400, 20, 28, 28, FALSE);
  const char *args[] = { "--data", data_dir, "--labeled", "10", "--epochs", "3",
                         "--width", "32", "--input-size", "256", "--batch-size", "40",
                         "--runs", "pretrain", "--threads", "1", "--out", out, NULL };
  GSubprocess *p = spawn_cli(args, log, errlog);
  g_assert_true(wait_for_text(log, "Run 1 of 1"));
  return p;
}

/* SIGTERM, then Ctrl-C: the second signal stops at once, yet prints the
 * summary into a file and leaves no temporary file behind; the status is
 * that of the first signal, 128 + 15. */
static void
test_interrupt_twice(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  g_autofree char *log = g_build_filename(dir, "stdout.txt", NULL);
  g_autoptr(GSubprocess) p = spawn_slow_pretrain(dir, out, log);
  g_subprocess_send_signal(p, SIGTERM);
  g_assert_true(wait_for_text(log, "Interrupted by SIGTERM:"));
  g_subprocess_send_signal(p, SIGINT);
  wait_exit(p, 143);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
  /* Checkpoints are per epoch: the message says what a resume redoes. */
  g_assert_nonnull(strstr(text, "restarts this epoch from its start"));
  g_assert_null(strstr(text, "press Ctrl-C again"));
  /* Stopped in its first epoch: no accuracy and no best epoch. */
  const char *row = g_strrstr(text, "\npretrain ");
  g_assert_nonnull(row);
  g_autofree char *row_text = g_strndup(row + 1, strcspn(row + 1, "\n"));
  g_auto(GStrv) cells = g_strsplit_set(row_text, " ", -1);
  GPtrArray *words = g_ptr_array_new();
  for (int i = 0; cells[i] != NULL; i++)
    if (*cells[i] != '\0')
      g_ptr_array_add(words, cells[i]);
  g_assert_cmpuint(words->len, >=, 4);
  g_assert_cmpstr(g_ptr_array_index(words, 1), ==, "-");
  g_assert_cmpstr(g_ptr_array_index(words, 2), ==, "-");
  g_assert_cmpstr(g_ptr_array_index(words, 3), ==, "0/3");
  g_ptr_array_free(words, TRUE);
  g_assert_nonnull(strstr(text, "Stopping at once"));
  g_assert_nonnull(strstr(text, "wall time:"));
  assert_no_temporaries(out);
  sc_test_rmtree(dir);
}

/* A second run into the folder a first one is writing is refused at once
 * (status 1, naming the folder) and leaves the first run's files alone. */
static void
test_out_locked(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  g_autofree char *log = g_build_filename(dir, "stdout.txt", NULL);
  g_autoptr(GSubprocess) first = spawn_slow_pretrain(dir, out, log);
  g_autofree char *data_dir = g_build_filename(dir, "data", NULL);

  const char *again[] = { "--data", data_dir, "--labeled", "10", "--epochs", "1",
                          "--width", "8", "--input-size", "32", "--batch-size", "40",
                          "--runs", "baseline", "--seed", "7", "--out", out, NULL };
  g_autofree char *err = NULL;
  g_assert_cmpint(run_cli(again, NULL, &err), ==, 1);
  g_assert_nonnull(strstr(err, "another simclr-train is writing into"));
  g_assert_nonnull(strstr(err, out));

  g_subprocess_send_signal(first, SIGINT);
  wait_exit(first, 130);
  sc_test_rmtree(dir);
}

/* Ctrl-C while the data is read: a message, status 130, no empty --out. */
static void
test_interrupt_early(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *data_dir = g_build_filename(dir, "data", NULL);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  g_autofree char *log = g_build_filename(dir, "stdout.txt", NULL);
  g_autofree char *errlog = g_build_filename(dir, "stderr.txt", NULL);
  fx_idx_folder(data_dir, 20000, 100, 28, 28, TRUE);
  const char *args[] = { "--data", data_dir, "--epochs", "1", "--width", "8",
                         "--threads", "1", "--out", out, NULL };
  g_autoptr(GSubprocess) p = spawn_cli(args, log, errlog);
  /* --out is made once Ctrl-C is handled, before the data is read. */
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (!g_file_test(out, G_FILE_TEST_IS_DIR) && g_get_monotonic_time() < deadline)
    g_usleep(200);
  g_subprocess_send_signal(p, SIGINT);
  wait_exit(p, 130);
  g_autofree char *err = NULL;
  g_assert_true(g_file_get_contents(errlog, &err, NULL, NULL));
  g_assert_nonnull(strstr(err, "Interrupted"));
  if (g_file_test(out, G_FILE_TEST_IS_DIR)) {
    /* The signal came once training ran: its files, none temporary. */
    g_autoptr(GDir) d = g_dir_open(out, 0, NULL);
    g_assert_nonnull(g_dir_read_name(d));
    assert_no_temporaries(out);
  }
  sc_test_rmtree(dir);
}

static void
cancel_after_baseline(const ScTrainerEvent *ev, gpointer trainer)
{
  if (ev->kind == SC_EVENT_CHECKPOINT && ev->run == SC_RUN_BASELINE)
    sc_trainer_cancel(trainer);
}

/* A resume after the baseline numbers pretraining as the second run. */
static void
test_resume_numbering(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *data_dir = g_build_filename(dir, "data", NULL);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  fx_idx_folder(data_dir, 40, 12, 28, 28, FALSE);
  ScTrainConfig c;
  sc_train_config_init_default(&c);
  c.data_path = g_strdup(data_dir);
  c.labeled_per_class = 1;
  c.unlabeled_cap = 0;
  c.width = 8;
  c.epochs = 1;
  c.batch_size = 8;
  c.threads = 1;
  c.runs[SC_RUN_FINETUNE] = FALSE;
  g_autoptr(GError) error = NULL;
  ScTrainer *t = sc_trainer_new(&c, NULL, &error);
  g_assert_no_error(error);
  sc_trainer_set_checkpoint_dir(t, out);
  sc_trainer_set_callback(t, cancel_after_baseline, t);
  g_assert_false(sc_trainer_run(t, &error));
  g_assert_error(error, SC_TRAINER_ERROR, SC_ERROR_CANCELLED);
  sc_trainer_free(t);
  sc_train_config_clear(&c);

  const char *args[] = { "--resume", out, NULL };
  g_autofree char *so = NULL, *se = NULL;
  g_assert_cmpint(run_cli(args, &so, &se), ==, 0);
  g_assert_nonnull(strstr(so, "Run 2 of 2: pretrain"));
  /* One epoch, in the singular. */
  g_assert_nonnull(strstr(so, ", 1 epoch\n"));
  g_assert_null(strstr(so, " 1 epochs"));
  g_assert_null(strstr(so, "Run 1 of 2"));
  sc_test_rmtree(dir);
}

/* ---- --preview ---- */

static void
test_preview_only(void)
{
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *data_dir = g_build_filename(dir, "data", NULL);
  g_autofree char *png = g_build_filename(dir, "figure.png", NULL);
  fx_idx_folder(data_dir, 30, 10, 28, 28, TRUE);
  const char *args[] = { "--data", data_dir, "--input-size", "40", "--preview", png, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(run_cli(args, &out, &err), ==, 0);
  static const uint8_t pixel[3];
  ScPreviewSpec spec = { .images = pixel, .h = 1, .w = 1, .c = 3, .out_size = 40,
                         .weak = SC_AUGMENT_WEAK, .strong = SC_AUGMENT_STRONG };
  int w, h;
  sc_preview_figure_size(&spec, &w, &h);
  /* 40 px cells, enlarged 3 times to be at least 96 px. */
  assert_png_size(png, 3 * w, 3 * h);
  /* Nothing else is written beside it. */
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  int entries = 0;
  while (g_dir_read_name(d) != NULL)
    entries++;
  g_assert_cmpint(entries, ==, 2);

  /* An unwritable place fails with status 1 and names the path. */
  g_autofree char *bad = g_build_filename(dir, "missing", "figure.png", NULL);
  const char *bad_args[] = { "--data", data_dir, "--preview", bad, NULL };
  g_autofree char *out2 = NULL, *err2 = NULL;
  g_assert_cmpint(run_cli(bad_args, &out2, &err2), ==, 1);
  g_autofree char *missing = g_path_get_dirname(bad);
  g_autofree char *why = g_strdup_printf("Cannot write %s: its folder %s does not exist", bad,
                                         missing);
  g_assert_nonnull(strstr(err2, why));
  g_assert_null(strstr(err2, "figure.png.")); /* no temporary file's name */
  sc_test_rmtree(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli/bad-flags", test_bad_flags);
  g_test_add_func("/cli/failure-exit-1", test_failure_exit_1);
  g_test_add_func("/cli/help", test_help);
  static const char *const formats[] = { "idx", "cifar10", "stl10", "folder" };
  for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
    g_autofree char *name = g_strdup_printf("/cli/end-to-end/%s", formats[i]);
    g_test_add_data_func(name, formats[i], test_end_to_end);
  }
  g_test_add_func("/cli/interrupt-and-resume", test_interrupt_and_resume);
  g_test_add_func("/cli/interrupt-twice", test_interrupt_twice);
  g_test_add_func("/cli/interrupt-early", test_interrupt_early);
  g_test_add_func("/cli/out-locked", test_out_locked);
  g_test_add_func("/cli/resume-numbering", test_resume_numbering);
  g_test_add_func("/cli/preview-only", test_preview_only);
  return g_test_run();
}
