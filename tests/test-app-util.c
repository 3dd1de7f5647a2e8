/* Application test helpers (see the header). */
#include "test-app-util.h"

#include <adwaita.h>
#include <stdio.h>
#include <stdlib.h>

#include "simclr-studio-application.h"

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
