/* The application's widgets drawn for real: the chart view with edge-case
 * series, the value under the pointer, the augmentation preview, the
 * export of the curves, the settings' defaults against the engine's, and
 * the pruning of old run folders (never one a training has locked). */
#include <adwaita.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simclr-studio-chart-view.h"
#include "simclr-studio-export.h"
#include "simclr-studio-preview.h"
#include "simclr-studio-run-folders.h"
#include "simclr-studio-screenshot.h"
#include "simclr-studio-settings.h"
#include "test-app-util.h"
#include "test-util.h"

#define CHART_W 640
#define CHART_H 400

/* A window holding child at exactly width x height. */
static GtkWindow *
window_for(GtkWidget *child, int width, int height)
{
  GtkWindow *window = GTK_WINDOW(gtk_window_new());
  gtk_window_set_decorated(window, FALSE);
  gtk_window_set_default_size(window, width, height);
  gtk_window_set_child(window, child);
  sc_app_test_show(window);
  g_assert_cmpint(gtk_widget_get_width(child), ==, width);
  g_assert_cmpint(gtk_widget_get_height(child), ==, height);
  return window;
}

/* Series: none, one point, many, constant, a NaN in the middle. */
static ScChart *
edge_case_chart(void)
{
  ScChart *chart = sc_chart_new("Edge cases", "epoch", "value");
  const char *names[] = { "empty", "one", "many", "constant", "nan" };
  for (guint s = 0; s < G_N_ELEMENTS(names); s++) {
    double r, g, b;
    sc_chart_palette(s, &r, &g, &b);
    sc_chart_add_series(chart, names[s], r, g, b);
  }
  sc_chart_append(chart, 1, 3, 0.5);
  for (int i = 1; i <= 20; i++) {
    sc_chart_append(chart, 2, i, 0.3 + 0.02 * i);
    sc_chart_append(chart, 3, i, 0.25);
    sc_chart_append(chart, 4, i, i == 10 ? NAN : 0.1 + 0.01 * i);
  }
  return chart;
}

static cairo_surface_t *
render_surface(GtkWidget *widget)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = simclr_studio_render_widget(widget, &error);
  g_assert_no_error(error);
  return sc_app_test_texture_surface(texture);
}

/* Pixels within tol of the colour of palette entry i. */
static size_t
count_palette_pixels(cairo_surface_t *s, guint i, int tol)
{
  double r, g, b;
  sc_chart_palette(i, &r, &g, &b);
  int want[3] = { (int)lround(r * 255), (int)lround(g * 255), (int)lround(b * 255) };
  size_t n = 0;
  for (int y = 0; y < cairo_image_surface_get_height(s); y++)
    for (int x = 0; x < cairo_image_surface_get_width(s); x++) {
      guint32 p = sc_app_test_pixel(s, x, y);
      int got[3] = { (p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF };
      if (abs(got[0] - want[0]) <= tol && abs(got[1] - want[1]) <= tol
          && abs(got[2] - want[2]) <= tol)
        n++;
    }
  return n;
}

static void
test_chart_edge_cases(void)
{
  GtkWidget *view = simclr_studio_chart_view_new();
  simclr_studio_chart_view_set_chart(SIMCLR_STUDIO_CHART_VIEW(view), edge_case_chart());
  GtkWindow *window = window_for(view, CHART_W, CHART_H);

  /* To PNG at a fixed size and back. */
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "chart.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(simclr_studio_save_widget_png(view, path, &error));
  g_assert_no_error(error);
  g_autoptr(GdkTexture) loaded = gdk_texture_new_from_filename(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(gdk_texture_get_width(loaded), ==, CHART_W);
  g_assert_cmpint(gdk_texture_get_height(loaded), ==, CHART_H);

  /* The widget shows exactly what the chart draws with cairo alone. */
  cairo_surface_t *shown = sc_app_test_texture_surface(loaded);
  cairo_surface_t *direct = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, CHART_W, CHART_H);
  cairo_t *cr = cairo_create(direct);
  sc_chart_draw(simclr_studio_chart_view_get_chart(SIMCLR_STUDIO_CHART_VIEW(view)), cr,
                CHART_W, CHART_H);
  cairo_destroy(cr);
  cairo_surface_flush(direct);
  g_assert_cmpuint(sc_app_test_count_differing(shown, direct, 2), ==, 0);

  /* Every series with a finite point has its colour on screen (curve,
   * marker or legend); more pixels for the many-point curve than for the
   * single point. */
  size_t one = count_palette_pixels(shown, 1, 8), many = count_palette_pixels(shown, 2, 8);
  g_assert_cmpuint(one, >, 0);
  g_assert_cmpuint(many, >, one);
  g_assert_cmpuint(count_palette_pixels(shown, 3, 8), >, 100); /* a flat line across */
  g_assert_cmpuint(count_palette_pixels(shown, 4, 8), >, 100); /* broken at the NaN */

  cairo_surface_destroy(shown);
  cairo_surface_destroy(direct);
  sc_test_rmtree(dir);
  gtk_window_destroy(window);
}

static void
test_chart_no_points(void)
{
  GtkWidget *view = simclr_studio_chart_view_new();
  ScChart *chart = sc_chart_new("Empty", "epoch", "accuracy");
  sc_chart_add_series(chart, "baseline", 0, 0, 1);
  sc_chart_set_percent(chart, TRUE);
  simclr_studio_chart_view_set_chart(SIMCLR_STUDIO_CHART_VIEW(view), chart);
  GtkWindow *window = window_for(view, CHART_W / 2, CHART_H / 2);
  cairo_surface_t *s = render_surface(view);
  /* Axes and text, but no curve colour. */
  g_assert_cmpuint(count_palette_pixels(s, 0, 0), ==, 0);
  size_t dark = 0;
  for (int y = 0; y < CHART_H / 2; y++)
    for (int x = 0; x < CHART_W / 2; x++)
      dark += (sc_app_test_pixel(s, x, y) & 0xFF) < 128;
  g_assert_cmpuint(dark, >, 50);
  cairo_surface_destroy(s);
  gtk_window_destroy(window);
}

static void
test_chart_value_under_pointer(void)
{
  GtkWidget *view = simclr_studio_chart_view_new();
  simclr_studio_chart_view_set_chart(SIMCLR_STUDIO_CHART_VIEW(view), edge_case_chart());
  GtkWindow *window = window_for(view, CHART_W, CHART_H);
  cairo_surface_t *before = render_surface(view);

  /* The pointer over the single point of series 1. */
  ScChart *chart = simclr_studio_chart_view_get_chart(SIMCLR_STUDIO_CHART_VIEW(view));
  double px, py;
  sc_chart_map(chart, CHART_W, CHART_H, 3, 0.5, &px, &py);
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(view);
  GtkEventController *motion = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
    g_autoptr(GtkEventController) c = g_list_model_get_item(controllers, i);
    if (GTK_IS_EVENT_CONTROLLER_MOTION(c))
      motion = c;
  }
  g_assert_nonnull(motion);
  g_signal_emit_by_name(motion, "motion", px + 2, py - 1);
  sc_app_test_wait_frame(view);
  cairo_surface_t *hovered = render_surface(view);
  /* A label box appears: many pixels change, all near the point. */
  g_assert_cmpuint(sc_app_test_count_differing(before, hovered, 8), >, 200);

  g_signal_emit_by_name(motion, "leave");
  sc_app_test_wait_frame(view);
  cairo_surface_t *after = render_surface(view);
  g_assert_cmpuint(sc_app_test_count_differing(before, after, 0), ==, 0);

  cairo_surface_destroy(before);
  cairo_surface_destroy(hovered);
  cairo_surface_destroy(after);
  gtk_window_destroy(window);
}

/* 8 synthetic 20x20 grey images: a bright bar at a per-image position. */
static guint8 *
synthetic_images(int h, int w)
{
  guint8 *img = g_new(guint8, 8 * h * w);
  for (int i = 0; i < 8; i++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        img[(i * h + y) * w + x] =
          (x >= 2 * i && x < 2 * i + 5 && y > 3) ? 240 : (guint8)((x * 9 + y * 5) % 90);
  return img;
}

static void
test_preview_rows_differ(void)
{
  const int h = 20, w = 20, out = 32;
  g_autofree guint8 *images = synthetic_images(h, w);
  GtkWidget *widget = simclr_studio_preview_new();
  SimclrStudioPreview *preview = SIMCLR_STUDIO_PREVIEW(widget);
  simclr_studio_preview_set_images(preview, images, h, w, 1);
  simclr_studio_preview_set_out_size(preview, out);

  ScPreviewSpec spec = { .images = images, .h = h, .w = w, .c = 1, .out_size = out,
                         .weak = SC_AUGMENT_WEAK, .strong = SC_AUGMENT_STRONG, .seed = 42 };
  int fig_w, fig_h;
  sc_preview_figure_size(&spec, &fig_w, &fig_h);
  /* Twice the figure's size: every figure pixel becomes a 2x2 block. */
  GtkWindow *window = window_for(widget, 2 * fig_w, 2 * fig_h);
  cairo_surface_t *shown = render_surface(widget);

  /* The cells (layout of preview.c: gap = max(2, cell / 24), margin twice
   * that, cells right-aligned after the labels) are the 1:1 figure's, each
   * pixel a 2x2 block; the labels are set at the larger size. */
  int gap = MAX(2, out / 24), margin = 2 * gap;
  int left = fig_w - margin - (8 * out + 7 * gap);
  g_autoptr(GError) error = NULL;
  cairo_surface_t *figure = sc_preview_render(&spec, &error);
  g_assert_no_error(error);
  cairo_surface_flush(figure);
  size_t off = 0;
  for (int y = margin; y < fig_h - margin; y++)
    for (int x = left; x < fig_w - margin; x++)
      for (int k = 0; k < 4; k++)
        off += sc_app_test_pixel(shown, 2 * x + k % 2, 2 * y + k / 2)
               != sc_app_test_pixel(figure, x, y);
  g_assert_cmpuint(off, ==, 0);

  /* Rows of cells: not blank, and no two rows alike. */
  double row_mean[4];
  for (int r = 0; r < 4; r++) {
    int top = margin + r * (out + gap);
    double sum = 0, sum2 = 0;
    int n = 0;
    for (int y = top; y < top + out; y++)
      for (int x = left; x < fig_w - margin; x++) {
        double v = sc_app_test_pixel(shown, 2 * x, 2 * y) & 0xFF;
        sum += v;
        sum2 += v * v;
        n++;
      }
    row_mean[r] = sum / n;
    double var = sum2 / n - row_mean[r] * row_mean[r];
    g_assert_cmpfloat(var, >, 100.0); /* not blank */
  }
  for (int a = 0; a < 4; a++)
    for (int b = a + 1; b < 4; b++) {
      size_t differ = 0;
      for (int y = 0; y < out; y++)
        for (int x = left; x < fig_w - margin; x++) {
          guint32 pa = sc_app_test_pixel(shown, 2 * x, 2 * (margin + a * (out + gap) + y));
          guint32 pb = sc_app_test_pixel(shown, 2 * x, 2 * (margin + b * (out + gap) + y));
          differ += pa != pb;
        }
      g_assert_cmpuint(differ, >, (size_t)(out * out)); /* over a cell's worth */
    }

  cairo_surface_destroy(figure);
  cairo_surface_destroy(shown);
  gtk_window_destroy(window);
}

static void
test_export_png_svg(void)
{
  g_autoptr(ScChart) a = edge_case_chart();
  g_autoptr(ScChart) b = edge_case_chart();
  const ScChart *charts[2] = { a, b };
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *png = g_build_filename(dir, "curves.PNG", NULL);
  g_autofree char *svg = g_build_filename(dir, "curves.svg", NULL);
  g_autofree char *txt = g_build_filename(dir, "curves.txt", NULL);
  g_autoptr(GError) error = NULL;
  SimclrStudioExportFormat format;

  g_assert_true(simclr_studio_export_format_for_path(png, &format, &error));
  g_assert_cmpint(format, ==, SIMCLR_STUDIO_EXPORT_PNG);
  g_assert_true(simclr_studio_export_charts(charts, 2, 300, 200, format, png, &error));
  g_assert_no_error(error);
  g_autoptr(GdkTexture) loaded = gdk_texture_new_from_filename(png, &error);
  g_assert_no_error(error);
  g_assert_cmpint(gdk_texture_get_width(loaded), ==, 600);
  g_assert_cmpint(gdk_texture_get_height(loaded), ==, 200);

  g_assert_true(simclr_studio_export_format_for_path(svg, &format, &error));
  g_assert_true(simclr_studio_export_charts(charts, 2, 300, 200, format, svg, &error));
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(svg, &text, NULL, &error));
  g_assert_nonnull(strstr(text, "<svg"));
  g_assert_nonnull(strstr(text, "width=\"600\""));

  g_assert_false(simclr_studio_export_format_for_path(txt, &format, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
  g_assert_nonnull(strstr(error->message, txt));
  g_clear_error(&error);

  /* A folder that is not there: the error names the file. */
  g_autofree char *missing = g_build_filename(dir, "no-such-folder", "c.png", NULL);
  g_assert_false(simclr_studio_export_charts(charts, 2, 300, 200, SIMCLR_STUDIO_EXPORT_PNG,
                                             missing, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "c.png"));
  sc_test_rmtree(dir);
}

static void
test_settings_defaults_match_engine(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = simclr_studio_settings_new(TRUE, &error);
  g_assert_no_error(error);
  ScTrainConfig got, want;
  simclr_studio_settings_get_config(settings, &got);
  sc_train_config_init_default(&want);
  g_assert_null(got.data_path);
  g_assert_cmpint(got.epochs, ==, want.epochs);
  g_assert_cmpint(got.batch_size, ==, want.batch_size);
  g_assert_cmpint(got.width, ==, want.width);
  g_assert_cmpint(got.input_size, ==, want.input_size);
  g_assert_cmpint(got.labeled_per_class, ==, want.labeled_per_class);
  g_assert_cmpuint(got.unlabeled_cap, ==, want.unlabeled_cap);
  g_assert_cmpuint(got.subset, ==, want.subset);
  g_assert_cmpuint(got.seed, ==, want.seed);
  g_assert_cmpfloat(got.temperature, ==, want.temperature);
  g_assert_cmpfloat(got.learning_rate, ==, want.learning_rate);
  g_assert_cmpfloat(got.contrastive_learning_rate, ==, want.contrastive_learning_rate);
  g_assert_cmpint(got.cosine_schedule, ==, want.cosine_schedule);
  g_assert_cmpmem(&got.weak, sizeof got.weak, &want.weak, sizeof want.weak);
  g_assert_cmpmem(&got.strong, sizeof got.strong, &want.strong, sizeof want.strong);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_assert_cmpint(got.runs[r], ==, want.runs[r]);
  g_assert_cmpstr(got.backend, ==, want.backend);

  /* "Pretraining, then finetuning" selects both runs the trainer needs. */
  g_settings_set_enum(settings, SC_KEY_RUNS, SIMCLR_STUDIO_RUNS_FINETUNE);
  sc_train_config_clear(&got);
  simclr_studio_settings_get_config(settings, &got);
  g_assert_false(got.runs[SC_RUN_BASELINE]);
  g_assert_true(got.runs[SC_RUN_PRETRAIN] && got.runs[SC_RUN_FINETUNE]);
  g_assert_true(sc_train_config_validate(&got, &error));
  sc_train_config_clear(&got);
  sc_train_config_clear(&want);
}

static gboolean
exists(const char *root, const char *name)
{
  g_autofree char *path = g_build_filename(root, name, NULL);
  return g_file_test(path, G_FILE_TEST_EXISTS);
}

static guint
n_entries(const char *root)
{
  g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
  g_assert_nonnull(dir);
  guint n = 0;
  while (g_dir_read_name(dir) != NULL)
    n++;
  return n;
}

/* Marks a run folder as holding a checkpoint, as a finished epoch does. */
static void
put_checkpoint(const char *dir)
{
  g_autofree char *path = g_build_filename(dir, "checkpoint.safetensors", NULL);
  g_assert_true(g_file_set_contents(path, "x", 1, NULL));
}

/* Each new run folder leaves the newest KEEP of them, and nothing else of
 * the root is touched. */
static void
test_run_folders_pruned(void)
{
  g_autofree char *root = sc_test_mkdtemp();
  g_autoptr(GError) error = NULL;
  /* An old run with a checkpoint, and a folder and file of the user's. */
  g_autofree char *old = g_build_filename(root, "20200101-000000", NULL);
  g_assert_cmpint(g_mkdir(old, 0755), ==, 0);
  g_autofree char *old_file = g_build_filename(old, "checkpoint.safetensors", NULL);
  g_assert_true(g_file_set_contents(old_file, "x", 1, NULL));
  g_autofree char *notes = g_build_filename(root, "notes", NULL);
  g_assert_cmpint(g_mkdir(notes, 0755), ==, 0);
  g_autofree char *readme = g_build_filename(root, "20200101-000000.txt", NULL);
  g_assert_true(g_file_set_contents(readme, "keep", 4, NULL));

  g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; i < 3; i++) {
    char *dir = simclr_studio_run_folder_new(root, 3, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
    put_checkpoint(dir);
    g_ptr_array_add(made, dir);
  }
  /* Three new ones (the same second gets -2, -3) and keep 3: the old run
   * went, with its file. */
  g_assert_false(g_file_test(old, G_FILE_TEST_EXISTS));
  g_assert_cmpuint(n_entries(root), ==, 3 + 2);
  for (guint i = 0; i < made->len; i++)
    g_assert_true(g_file_test(made->pdata[i], G_FILE_TEST_IS_DIR));
  g_assert_true(exists(root, "notes"));
  g_assert_true(exists(root, "20200101-000000.txt"));

  /* One more: the first of the three goes, the newest stay. */
  g_autofree char *last = simclr_studio_run_folder_new(root, 3, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(n_entries(root), ==, 3 + 2);
  g_assert_true(g_file_test(last, G_FILE_TEST_IS_DIR));
  g_assert_true(g_file_test(made->pdata[2], G_FILE_TEST_IS_DIR));
  put_checkpoint(last);

  /* Runs that failed before saving anything leave empty folders: each new
   * folder clears them, so they never push out a run that can resume. */
  for (int i = 0; i < 4; i++) {
    g_autofree char *failed = simclr_studio_run_folder_new(root, 3, NULL, &error);
    g_assert_no_error(error);
  }
  g_assert_cmpuint(n_entries(root), ==, 3 + 2);
  g_assert_true(g_file_test(last, G_FILE_TEST_IS_DIR));
  g_assert_true(g_file_test(made->pdata[2], G_FILE_TEST_IS_DIR));
  g_autofree char *failed = simclr_studio_run_folder_new(root, 3, NULL, &error);
  g_assert_no_error(error);
  put_checkpoint(failed);

  /* Keep 0 removes nothing. */
  g_autofree char *extra = simclr_studio_run_folder_new(root, 0, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(n_entries(root), ==, 4 + 2);

  g_assert_true(simclr_studio_remove_tree(root, &error));
  g_assert_no_error(error);
  g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
}

/* An open descriptor holding the lock on dir, as a training holds its run
 * folder's. */
static int
lock_dir(const char *dir)
{
  int fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(flock(fd, LOCK_EX | LOCK_NB), ==, 0);
  return fd;
}

/* A folder locked by a training that has written no checkpoint yet (of
 * another window, or of another process) is never cleared; the new folder is
 * locked until its descriptor closes. */
static void
test_run_folders_locked(void)
{
  g_autofree char *root = sc_test_mkdtemp();
  g_autoptr(GError) error = NULL;
  g_autofree char *busy = g_build_filename(root, "20200101-000000", NULL);
  g_autofree char *failed = g_build_filename(root, "20200101-000001", NULL);
  g_autofree char *other = g_build_filename(root, "20200101-000002", NULL);
  g_assert_cmpint(g_mkdir(busy, 0755), ==, 0);
  g_assert_cmpint(g_mkdir(failed, 0755), ==, 0);
  g_assert_cmpint(g_mkdir(other, 0755), ==, 0);
  int busy_fd = lock_dir(busy);
  g_assert_true(simclr_studio_run_folder_is_locked(busy));
  g_assert_false(simclr_studio_run_folder_is_locked(failed));

  /* Another process holds `other` until its stdin closes. */
  g_autofree char *flock_exe = g_find_program_in_path("flock");
  GPid pid = 0;
  int child_in = -1, child_out = -1;
  if (flock_exe != NULL) {
    const char *argv[] = { flock_exe, "-n", other, "-c", "echo locked; read line", NULL };
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, &child_in, &child_out, NULL,
                                           &error));
    g_assert_no_error(error);
    char said[7] = { 0 };
    g_assert_cmpint(read(child_out, said, 6), ==, 6);
    g_assert_cmpstr(said, ==, "locked");
    g_assert_true(simclr_studio_run_folder_is_locked(other));
  } else {
    g_test_message("flock(1) not found: the other process is left out");
  }

  int fd = -1;
  g_autofree char *dir = simclr_studio_run_folder_new(root, 1, &fd, &error);
  g_assert_no_error(error);
  g_assert_cmpint(fd, >=, 0);
  /* The empty unlocked folder went; the locked ones stay, uncounted. */
  g_assert_false(g_file_test(failed, G_FILE_TEST_EXISTS));
  g_assert_true(g_file_test(busy, G_FILE_TEST_IS_DIR));
  g_assert_cmpint(g_file_test(other, G_FILE_TEST_IS_DIR), ==, flock_exe != NULL);
  g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
  g_assert_true(simclr_studio_run_folder_is_locked(dir));

  /* A second folder while the first still trains: neither locked one goes,
   * even with a checkpoint and keep 1. */
  put_checkpoint(busy);
  int fd2 = -1;
  g_autofree char *dir2 = simclr_studio_run_folder_new(root, 1, &fd2, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(dir2, !=, dir);
  g_assert_true(g_file_test(busy, G_FILE_TEST_IS_DIR));
  g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));

  /* Once the trainings end, the folders are pruned as usual. */
  close(fd);
  close(busy_fd);
  g_assert_false(simclr_studio_run_folder_is_locked(dir));
  if (flock_exe != NULL) {
    close(child_in);
    close(child_out);
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    g_assert_false(simclr_studio_run_folder_is_locked(other));
  }
  g_autofree char *dir3 = simclr_studio_run_folder_new(root, 1, NULL, &error);
  g_assert_no_error(error);
  g_assert_false(g_file_test(busy, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(other, G_FILE_TEST_EXISTS));
  g_assert_true(g_file_test(dir2, G_FILE_TEST_IS_DIR));
  g_assert_true(g_file_test(dir3, G_FILE_TEST_IS_DIR));
  close(fd2);
  sc_test_rmtree(root);
}

/* A root that cannot be created: the error names it. */
static void
test_run_folders_error(void)
{
  g_autofree char *root = sc_test_mkdtemp();
  g_autofree char *file = g_build_filename(root, "file", NULL);
  g_assert_true(g_file_set_contents(file, "", 0, NULL));
  g_autofree char *below = g_build_filename(file, "runs", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = simclr_studio_run_folder_new(below, 5, NULL, &error);
  g_assert_null(dir);
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, below));
  sc_test_rmtree(root);
}

int
main(int argc, char *argv[])
{
  if (!sc_app_test_init(&argc, &argv))
    return 0;
  g_test_add_func("/App/Chart/edge-cases", test_chart_edge_cases);
  g_test_add_func("/App/Chart/no-points", test_chart_no_points);
  g_test_add_func("/App/Chart/value-under-pointer", test_chart_value_under_pointer);
  g_test_add_func("/App/Preview/rows-differ", test_preview_rows_differ);
  g_test_add_func("/App/Export/png-svg", test_export_png_svg);
  g_test_add_func("/App/Settings/defaults-match-engine", test_settings_defaults_match_engine);
  g_test_add_func("/App/RunFolders/pruned", test_run_folders_pruned);
  g_test_add_func("/App/RunFolders/error", test_run_folders_error);
  g_test_add_func("/App/RunFolders/locked", test_run_folders_locked);
  return g_test_run();
}
