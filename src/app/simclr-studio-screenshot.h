/* Pictures of widgets: a widget's current look rendered to a texture with
 * its window's renderer, and saved as PNG. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The widget as drawn now, at its allocated size, or NULL (with error) when
 * it is not realized or has no size. */
GdkTexture *simclr_studio_render_widget(GtkWidget *widget, GError **error);

/* Renders the widget and writes it to path as PNG; the error names path. */
gboolean simclr_studio_save_widget_png(GtkWidget *widget, const char *path, GError **error);

G_END_DECLS
