/* Helpers of the application tests: a display check, main-loop waits and
 * pixels of rendered widgets. */
#pragma once

#include <gtk/gtk.h>

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

G_END_DECLS
