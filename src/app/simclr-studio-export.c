/* Chart export: cairo into memory, then one atomic write. */
#include "simclr-studio-export.h"

#include <cairo-svg.h>
#include <gio/gio.h>

gboolean
simclr_studio_export_format_for_path(const char *path, SimclrStudioExportFormat *format,
                                     GError **error)
{
  g_autofree char *lower = g_ascii_strdown(path, -1);
  if (g_str_has_suffix(lower, ".png"))
    *format = SIMCLR_STUDIO_EXPORT_PNG;
  else if (g_str_has_suffix(lower, ".svg"))
    *format = SIMCLR_STUDIO_EXPORT_SVG;
  else if (g_str_has_suffix(lower, ".csv"))
    *format = SIMCLR_STUDIO_EXPORT_CSV;
  else {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
                "%s: the name must end in .png or .svg (the curves) or .csv (the "
                "history)", path);
    return FALSE;
  }
  return TRUE;
}

static cairo_status_t
append_cb(void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append(closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static void
draw_row(const ScChart *const *charts, guint n, int w, int h, cairo_t *cr)
{
  for (guint i = 0; i < n; i++) {
    cairo_save(cr);
    cairo_translate(cr, (double)i * w, 0);
    sc_chart_draw(charts[i], cr, w, h);
    cairo_restore(cr);
  }
}

gboolean
simclr_studio_export_charts(const ScChart *const *charts, guint n, int chart_width,
                            int chart_height, SimclrStudioExportFormat format,
                            const char *path, GError **error)
{
  g_return_val_if_fail(n > 0 && chart_width > 0 && chart_height > 0, FALSE);
  g_return_val_if_fail(format != SIMCLR_STUDIO_EXPORT_CSV, FALSE);
  g_autoptr(GByteArray) bytes = g_byte_array_new();
  int width = (int)n * chart_width;
  cairo_status_t status;

  if (format == SIMCLR_STUDIO_EXPORT_SVG) {
    cairo_surface_t *surface =
      cairo_svg_surface_create_for_stream(append_cb, bytes, width, chart_height);
    cairo_t *cr = cairo_create(surface);
    draw_row(charts, n, chart_width, chart_height, cr);
    cairo_destroy(cr);
    cairo_surface_finish(surface); /* flushes the SVG into bytes */
    status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
  } else {
    cairo_surface_t *surface =
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, chart_height);
    cairo_t *cr = cairo_create(surface);
    draw_row(charts, n, chart_width, chart_height, cr);
    cairo_destroy(cr);
    status = cairo_surface_write_to_png_stream(surface, append_cb, bytes);
    cairo_surface_destroy(surface);
  }
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: drawing the charts failed: %s",
                path, cairo_status_to_string(status));
    return FALSE;
  }
  /* g_file_set_contents writes a temporary file and renames it. */
  return g_file_set_contents(path, (const char *)bytes->data, bytes->len, error);
}
