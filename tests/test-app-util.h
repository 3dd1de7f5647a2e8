/* Helpers of the application tests: a display check, main-loop waits,
 * pixels of rendered widgets and a fixture holding a main window. */
#pragma once

#include <gtk/gtk.h>

#include "simclr-studio-chart-view.h"
#include "simclr-studio-window.h"

G_BEGIN_DECLS

/* gtk_init and adw_init for a test; FALSE (after printing a TAP skip line)
 * when there is no display to open. */
gboolean sc_app_test_init(int *argc, char ***argv);

/* Iterates the main loop until predicate(data) or timeout_s; FALSE on
 * timeout. */
gboolean sc_app_test_wait(gboolean (*predicate)(gpointer data), gpointer data,
                          double timeout_s);
/* Queues a redraw and waits until the widget's window has painted it. */
void sc_app_test_wait_frame(GtkWidget *widget);
/* Shows window and waits until it has been painted once. */
void sc_app_test_show(GtkWindow *window);

/* A texture's pixels as cairo ARGB32 (premultiplied, native endian). */
cairo_surface_t *sc_app_test_texture_surface(GdkTexture *texture);
/* Pixel (x, y) as 0xRRGGBB (opaque surfaces). */
guint32 sc_app_test_pixel(cairo_surface_t *surface, int x, int y);
/* Pixels of a and b (same size) whose channels differ by more than tol. */
size_t sc_app_test_count_differing(cairo_surface_t *a, cairo_surface_t *b, int tol);

/* A main window on settings in memory and a temporary data home. */
typedef struct {
  GSettings *settings;        /* in memory */
  SimclrStudioWindow *window; /* weak: NULL once finalized */
  char *data_home;            /* temporary folder, removed at tear-down */
  char *runs_root;            /* data_home/simclr-studio/runs */
} ScAppFixture;

void sc_app_fixture_set_up(ScAppFixture *f, gconstpointer data);
void sc_app_fixture_tear_down(ScAppFixture *f, gconstpointer data);
/* Adds test at path with f set up before and torn down after. */
void sc_app_fixture_add(const char *path, gconstpointer data,
                        void (*test)(ScAppFixture *f, gconstpointer data));
/* A new window in f->window (a previous one is destroyed), not shown; it
 * keeps the application's default runs root. */
SimclrStudioWindow *sc_app_fixture_new_window(ScAppFixture *f);
/* A new window on f->runs_root, shown once its data set has opened, as
 * after a start of the app. */
SimclrStudioWindow *sc_app_fixture_open_window(ScAppFixture *f);

/* The text of the window's log (free it). */
char *sc_app_test_log_text(SimclrStudioWindow *window);
/* How many points series of the view's chart holds. */
guint sc_app_test_n_points(SimclrStudioChartView *view, guint series);
/* Saves widget as $SC_TEST_SCREENSHOT_DIR/name.png once it has painted; does
 * nothing without that variable. */
void sc_app_test_save_screenshot(GtkWidget *widget, const char *name);

/* Whether window (a SimclrStudioWindow) has finished opening its data. */
gboolean sc_app_test_not_loading(gpointer window);
/* Whether the default data set is installed; if not, skips the test with a
 * message naming it, followed by install_hint where not NULL. */
gboolean sc_app_test_have_default_data(const char *install_hint);

G_END_DECLS
