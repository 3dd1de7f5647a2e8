/* ScChart: a line chart of training curves (value per epoch, one series per
 * run), drawn with cairo and nothing else, so the command-line trainer can
 * write PNG and SVG files and the GTK app can draw the same chart live.
 *
 * Values are normalised to the unit square before drawing (ranges and ticks
 * in sc-chart-math.h); drawing only maps 0..1 to pixels. NaN and Inf points
 * are skipped: a line breaks there. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "sc-chart-math.h"

G_BEGIN_DECLS

typedef struct _ScChart ScChart;

typedef enum {
  SC_LINE_SOLID,  /* a curve in full colour */
  SC_LINE_DASHED, /* a faint reference curve: dashed, lower alpha */
} ScLineStyle;

/* Pointer radius within which sc_chart_hit() finds a point. */
#define SC_CHART_HIT_RADIUS_PX 12.0

/* Strings are copied; any may be NULL (nothing is drawn for it). */
ScChart *sc_chart_new(const char *title, const char *x_label, const char *y_label);
void sc_chart_free(ScChart *chart);

void sc_chart_set_title(ScChart *chart, const char *title);
/* The y axis starts at 0 (or below, for negative data). */
void sc_chart_set_y_from_zero(ScChart *chart, gboolean from_zero);
/* Values are fractions; tick labels show them as percentages. */
void sc_chart_set_percent(ScChart *chart, gboolean percent);
/* The x axis reaches at least x_max (the planned number of epochs) so a
 * live chart does not rescale each epoch; 0 to follow the data only. */
void sc_chart_set_x_extent(ScChart *chart, double x_max);

/* Adds an empty series; r, g, b in 0..1. Returns its index. */
guint sc_chart_add_series(ScChart *chart, const char *name, double r, double g, double b);
void sc_chart_set_series_style(ScChart *chart, guint series, ScLineStyle style);
guint sc_chart_get_n_series(const ScChart *chart);
const char *sc_chart_get_series_name(const ScChart *chart, guint series);
guint sc_chart_get_n_points(const ScChart *chart, guint series);

/* Appends one point; NaN or Inf is kept (it breaks the line). */
void sc_chart_append(ScChart *chart, guint series, double x, double y);
/* Replaces a series' points with n (x, y) pairs; x NULL means 1..n. */
void sc_chart_set_series_points(ScChart *chart, guint series, const double *x,
                                const double *y, guint n);
/* Removes every point and keeps the series. */
void sc_chart_clear(ScChart *chart);

/* Marks one point (drawn with a ring and its value); series -1 for none. */
void sc_chart_set_highlight(ScChart *chart, int series, int index);

/* A colour-blind safe palette (Okabe-Ito) for series i, cycling. */
void sc_chart_palette(guint i, double *r, double *g, double *b);

/* Layout for a width x height drawing: plot area in pixels and both axes.
 * A pure function of the chart's data and the size. */
void sc_chart_get_layout(const ScChart *chart, double width, double height, ScRect *area,
                         ScAxis *x_axis, ScAxis *y_axis);
/* Data (x, y) to pixels for a width x height drawing. */
void sc_chart_map(const ScChart *chart, double width, double height, double x, double y,
                  double *px, double *py);

/* Draws the whole chart into (0, 0, width, height) of cr, background too. */
void sc_chart_draw(const ScChart *chart, cairo_t *cr, double width, double height);

/* The finite point nearest to pixel (px, py), if within
 * SC_CHART_HIT_RADIUS_PX. Any out-pointer may be NULL. */
gboolean sc_chart_hit(const ScChart *chart, double width, double height, double px, double py,
                      guint *series, guint *index, double *x, double *y);

/* Write the chart to a file atomically (a temporary file beside it, then a
 * rename). Errors are in G_FILE_ERROR and name the path. Sizes 16..16384. */
gboolean sc_chart_write_png(const ScChart *chart, const char *path, int width, int height,
                            GError **error);
gboolean sc_chart_write_svg(const ScChart *chart, const char *path, int width, int height,
                            GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScChart, sc_chart_free)

G_END_DECLS
