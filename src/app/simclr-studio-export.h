/* Export of the curves: several charts side by side in one PNG or SVG. */
#pragma once

#include <glib.h>

#include "sc-chart.h"

G_BEGIN_DECLS

typedef enum {
  SIMCLR_STUDIO_EXPORT_PNG,
  SIMCLR_STUDIO_EXPORT_SVG,
  SIMCLR_STUDIO_EXPORT_CSV,
} SimclrStudioExportFormat;

/* The format a file name asks for (.png, .svg, .csv, any case). */
gboolean simclr_studio_export_format_for_path(const char *path,
                                              SimclrStudioExportFormat *format,
                                              GError **error);

/* n charts of chart_width x chart_height, left to right, written atomically
 * to path as PNG or SVG. The error names the path. */
gboolean simclr_studio_export_charts(const ScChart *const *charts, guint n,
                                     int chart_width, int chart_height,
                                     SimclrStudioExportFormat format, const char *path,
                                     GError **error);

G_END_DECLS
