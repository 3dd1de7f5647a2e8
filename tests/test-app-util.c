/* Application test helpers (see the header). */
#include "config.h"

#include "test-app-util.h"

#include <adwaita.h>
#include <stdio.h>
#include <stdlib.h>

#include "simclr-studio-application.h"
#include "simclr-studio-run-folders.h"
#include "simclr-studio-screenshot.h"
#include "simclr-studio-settings.h"
#include "simclr-studio-window-private.h"
#include "test-util.h"

gboolean
sc_app_test_init(int *argc, char ***argv)
{
  g_test_init(argc, argv, NULL);
  /* The tests never touch the user's preferences or data. */
  g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
  if (!gtk_init_check()) {
    printf("1..0 # SKIP no display (run under xvfb-run, see tools/run-tests)\n");
    return FALSE;
  }
  adw_init();
  simclr_studio_register_resources();
  return TRUE;
}

typedef struct {
  gboolean timed_out;
} WaitState;

static gboolean
timeout_cb(gpointer data)
{
  ((WaitState *)data)->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
sc_app_test_wait(gboolean (*predicate)(gpointer data), gpointer data, double timeout_s)
{
  WaitState state = { FALSE };
  guint id = g_timeout_add((guint)(timeout_s * 1000), timeout_cb, &state);
  while (!predicate(data) && !state.timed_out)
    g_main_context_iteration(NULL, TRUE);
  if (!state.timed_out)
    g_source_remove(id);
  return !state.timed_out;
}

static void
painted_cb(GdkFrameClock *clock, gpointer data)
{
  *(gboolean *)data = TRUE;
}

static gboolean
is_true(gpointer data)
{
  return *(gboolean *)data;
}

void
sc_app_test_wait_frame(GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock(widget);
  g_assert_nonnull(clock);
  gboolean painted = FALSE;
  gulong id = g_signal_connect(clock, "after-paint", G_CALLBACK(painted_cb), &painted);
  gtk_widget_queue_draw(widget);
  g_assert_true(sc_app_test_wait(is_true, &painted, 30));
  g_signal_handler_disconnect(clock, id);
}

void
sc_app_test_show(GtkWindow *window)
{
  gtk_window_present(window);
  while (gtk_widget_get_frame_clock(GTK_WIDGET(window)) == NULL)
    g_main_context_iteration(NULL, TRUE);
  sc_app_test_wait_frame(GTK_WIDGET(window));
}

cairo_surface_t *
sc_app_test_texture_surface(GdkTexture *texture)
{
  int w = gdk_texture_get_width(texture), h = gdk_texture_get_height(texture);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_surface_flush(s);
  /* GDK's default download format is cairo's ARGB32. */
  gdk_texture_download(texture, cairo_image_surface_get_data(s),
                       cairo_image_surface_get_stride(s));
  cairo_surface_mark_dirty(s);
  return s;
}

guint32
sc_app_test_pixel(cairo_surface_t *s, int x, int y)
{
  const guint8 *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  return ((const guint32 *)(data + (size_t)y * stride))[x] & 0xFFFFFFu;
}

size_t
sc_app_test_count_differing(cairo_surface_t *a, cairo_surface_t *b, int tol)
{
  int w = cairo_image_surface_get_width(a), h = cairo_image_surface_get_height(a);
  g_assert_cmpint(w, ==, cairo_image_surface_get_width(b));
  g_assert_cmpint(h, ==, cairo_image_surface_get_height(b));
  size_t n = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint32 pa = sc_app_test_pixel(a, x, y), pb = sc_app_test_pixel(b, x, y);
      for (int shift = 0; shift < 24; shift += 8) {
        int d = (int)((pa >> shift) & 0xFF) - (int)((pb >> shift) & 0xFF);
        if (abs(d) > tol) {
          n++;
          break;
        }
      }
    }
  return n;
}

void
sc_app_fixture_set_up(ScAppFixture *f, gconstpointer data)
{
  f->data_home = sc_test_mkdtemp();
  f->runs_root = g_build_filename(f->data_home, "simclr-studio", "runs", NULL);
  g_autoptr(GError) error = NULL;
  f->settings = simclr_studio_settings_new(TRUE, &error);
  g_assert_no_error(error);
}

/* Destroys f->window, if any, without the weak pointer outliving f. */
static void
fixture_destroy_window(ScAppFixture *f)
{
  if (f->window == NULL)
    return;
  SimclrStudioWindow *window = f->window;
  g_object_remove_weak_pointer(G_OBJECT(window), (gpointer *)&f->window);
  f->window = NULL;
  gtk_window_destroy(GTK_WINDOW(window));
}

void
sc_app_fixture_tear_down(ScAppFixture *f, gconstpointer data)
{
  fixture_destroy_window(f);
  g_clear_object(&f->settings);
  sc_test_rmtree(f->data_home);
  g_free(f->data_home);
  g_free(f->runs_root);
}

void
sc_app_fixture_add(const char *path, gconstpointer data,
                   void (*test)(ScAppFixture *f, gconstpointer data))
{
  g_test_add(path, ScAppFixture, data, sc_app_fixture_set_up, test, sc_app_fixture_tear_down);
}

SimclrStudioWindow *
sc_app_fixture_new_window(ScAppFixture *f)
{
  fixture_destroy_window(f);
  f->window = simclr_studio_window_new(NULL, f->settings);
  g_object_add_weak_pointer(G_OBJECT(f->window), (gpointer *)&f->window);
  return f->window;
}

SimclrStudioWindow *
sc_app_fixture_open_window(ScAppFixture *f)
{
  SimclrStudioWindow *window = sc_app_fixture_new_window(f);
  /* GLib reads XDG_DATA_HOME once per process: each test names its own
   * runs root. */
  simclr_studio_window_set_runs_root(window, f->runs_root, SIMCLR_STUDIO_RUNS_KEPT);
  sc_app_test_show(GTK_WINDOW(window));
  g_assert_true(sc_app_test_wait(sc_app_test_not_loading, window, 60));
  return window;
}

gboolean
sc_app_test_not_loading(gpointer window)
{
  return !simclr_studio_window_get_loading(window);
}

gboolean
sc_app_test_have_default_data(const char *install_hint)
{
  if (g_file_test(SC_DEFAULT_DATA_DIR, G_FILE_TEST_IS_DIR))
    return TRUE;
  g_autofree char *message =
    g_strconcat("The default data set " SC_DEFAULT_DATA_DIR " is not installed",
                install_hint != NULL ? " " : NULL, install_hint, NULL);
  g_test_skip(message);
  return FALSE;
}

char *
sc_app_test_log_text(SimclrStudioWindow *window)
{
  GtkTextBuffer *log = gtk_text_view_get_buffer(window->log_view);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(log, &start, &end);
  return gtk_text_buffer_get_text(log, &start, &end, FALSE);
}

guint
sc_app_test_n_points(SimclrStudioChartView *view, guint series)
{
  return sc_chart_get_n_points(simclr_studio_chart_view_get_chart(view), series);
}

void
sc_app_test_save_screenshot(GtkWidget *widget, const char *name)
{
  const char *dir = g_getenv("SC_TEST_SCREENSHOT_DIR");
  if (dir == NULL)
    return;
  g_autofree char *file = g_strconcat(name, ".png", NULL);
  g_autofree char *path = g_build_filename(dir, file, NULL);
  g_autoptr(GError) error = NULL;
  sc_app_test_wait_frame(widget);
  simclr_studio_save_widget_png(widget, path, &error);
  g_assert_no_error(error);
}
