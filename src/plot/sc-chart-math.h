/* The arithmetic of a chart, kept apart from drawing so tests can check it
 * without pixels: data ranges that ignore NaN and Inf, "nice" tick steps
 * (1, 2 or 5 times a power of ten), and the map from data to the unit
 * square that drawing then scales to pixels. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SC_AXIS_MAX_TICKS 32

/* A closed interval of data values. Empty while min > max. */
typedef struct {
  double min;
  double max;
} ScRange;

/* An axis after layout: its shown range, the step between ticks, the tick
 * values (inside [min, max]) and how many decimals their labels need. */
typedef struct {
  double min;
  double max;
  double step;
  guint n_ticks;
  double ticks[SC_AXIS_MAX_TICKS];
  guint decimals;
} ScAxis;

/* A rectangle in pixels (x, y is the top-left corner). */
typedef struct {
  double x;
  double y;
  double width;
  double height;
} ScRect;

ScRange sc_range_empty(void);
gboolean sc_range_is_empty(ScRange range);
/* Grows the range to hold v; NaN and Inf are ignored. */
void sc_range_include(ScRange *range, double v);
/* Widens a range too narrow to divide by (a constant series) around its
 * value: by 10% of the value, or by 1 around 0. */
ScRange sc_range_pad(ScRange range);

/* The smallest 1, 2 or 5 x 10^k at least span / target_ticks. */
double sc_nice_step(double span, guint target_ticks);
/* A value axis: the range rounded out to whole steps, ticks at every step.
 * min < max and both finite. */
void sc_axis_nice(ScAxis *axis, double min, double max, guint target_ticks);
/* An epoch axis: exactly [min, max], integer steps, a tick at min (the
 * first epoch) and at every multiple of the step after it. */
void sc_axis_epochs(ScAxis *axis, double min, double max, guint target_ticks);
/* Tick label: fixed decimals from the axis, or a percentage of a 0..1
 * value. Returns a newly allocated string. */
char *sc_axis_format(const ScAxis *axis, double v, gboolean percent);

/* Where v lies on the axis: 0 at min, 1 at max. */
double sc_axis_unit(const ScAxis *axis, double v);
/* From the unit square (0, 0 bottom-left) to pixels in area (y downwards). */
void sc_rect_map_unit(const ScRect *area, double ux, double uy, double *px, double *py);

G_END_DECLS
