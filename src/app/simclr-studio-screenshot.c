/* Widget pictures: paintable -> snapshot -> render node -> texture. */
#include "simclr-studio-screenshot.h"

GdkTexture *
simclr_studio_render_widget(GtkWidget *widget, GError **error)
{
  g_return_val_if_fail(GTK_IS_WIDGET(widget), NULL);
  int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
  GtkNative *native = gtk_widget_get_native(widget);
  GskRenderer *renderer = native != NULL ? gtk_native_get_renderer(native) : NULL;
  if (renderer == NULL || width <= 0 || height <= 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                "The %s is not shown yet (size %dx%d), so it cannot be drawn",
                G_OBJECT_TYPE_NAME(widget), width, height);
    return NULL;
  }

  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new(widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, snapshot, width, height);
  g_autoptr(GskRenderNode) node = gtk_snapshot_free_to_node(g_steal_pointer(&snapshot));
  if (node == NULL) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "The %s drew nothing", G_OBJECT_TYPE_NAME(widget));
    return NULL;
  }
  /* The whole allocation, even where the widget left it transparent. */
  graphene_rect_t viewport = GRAPHENE_RECT_INIT(0, 0, width, height);
  return gsk_renderer_render_texture(renderer, node, &viewport);
}

gboolean
simclr_studio_save_widget_png(GtkWidget *widget, const char *path, GError **error)
{
  g_autoptr(GdkTexture) texture = simclr_studio_render_widget(widget, error);
  if (texture == NULL)
    return FALSE;
  if (!gdk_texture_save_to_png(texture, path)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "Could not write the picture to %s (is the folder there and writable?)",
                path);
    return FALSE;
  }
  return TRUE;
}
