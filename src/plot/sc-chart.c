/* ScChart: layout, drawing and file output of a training-curves chart. */
#include "sc-chart.h"
#include "sc-file.h"

#include <cairo-svg.h>
#include <math.h>

#if SC_PLOT_HAVE_PANGO
#include <pango/pangocairo.h>
#endif

#define SIZE_MIN_PX 16
#define SIZE_MAX_PX 16384
/* A solid curve that a later one would cover (two runs at chance, say) is
 * drawn this much wider per covering curve, so it shows as a coloured rim. */
#define COVERED_CURVE_WIDEN 1.5
/* The widest a curve gets: under two covering curves. */
#define WIDEST_CURVE_FACTOR (1.0 + 2 * COVERED_CURVE_WIDEN)

/* Pixels per epoch above which each point also gets a marker. */
#define MARKER_MIN_SPACING_PX 14.0
/* Alpha of dashed reference curves. */
#define FAINT_ALPHA 0.45
/* Curve samples a legend inside the plot may hide before it moves out. */
#define LEGEND_HIDE_MAX 2

typedef struct {
  double x;
  double y;
} ScPoint;

typedef struct {
  char *name;
  double rgb[3];
  ScLineStyle style;
  GArray *points; /* ScPoint, in the order appended */
} ScSeries;

struct _ScChart {
  char *title;
  char *x_label;
  char *y_label;
  gboolean y_from_zero;
  gboolean percent;
  double x_extent;
  GPtrArray *series; /* ScSeries */
  int highlight_series;
  int highlight_index;
};

/* Sizes derived from the drawing size; everything scales with font_px. */
typedef struct {
  double font_px;
  double tick_px;
  double title_px;
  double pad_px;
  double line_px;
  double marker_px;
  double legend_row_px;
  double legend_swatch_px;
  double legend_gap_px;
  double legend_pad_px;
  double legend_col_gap_px;
} ScMetrics;

/* Everything drawing places, computed from the data and the size alone. */
typedef struct {
  ScMetrics m;
  ScRect area;   /* the plot area */
  ScAxis x;      /* epochs */
  ScAxis y;      /* values */
  ScRect legend; /* the legend box; 0 wide when no series has a name */
  guint legend_rows_per_col;
  double legend_row_w; /* swatch, gap and the widest name */
  double below; /* room under the x label that the legend takes */
} ScLayout;

static void
series_free(gpointer data)
{
  ScSeries *s = data;

  g_free(s->name);
  g_array_unref(s->points);
  g_free(s);
}

static ScSeries *
chart_series(const ScChart *chart, guint series)
{
  return g_ptr_array_index(chart->series, series);
}

ScChart *
sc_chart_new(const char *title, const char *x_label, const char *y_label)
{
  ScChart *chart = g_new0(ScChart, 1);

  chart->title = g_strdup(title);
  chart->x_label = g_strdup(x_label);
  chart->y_label = g_strdup(y_label);
  chart->series = g_ptr_array_new_with_free_func(series_free);
  chart->highlight_series = -1;
  chart->highlight_index = -1;
  return chart;
}

void
sc_chart_free(ScChart *chart)
{
  if (chart == NULL)
    return;
  g_free(chart->title);
  g_free(chart->x_label);
  g_free(chart->y_label);
  g_ptr_array_unref(chart->series);
  g_free(chart);
}

void
sc_chart_set_title(ScChart *chart, const char *title)
{
  g_return_if_fail(chart != NULL);

  g_free(chart->title);
  chart->title = g_strdup(title);
}

void
sc_chart_set_y_from_zero(ScChart *chart, gboolean from_zero)
{
  g_return_if_fail(chart != NULL);
  chart->y_from_zero = !!from_zero;
}

void
sc_chart_set_percent(ScChart *chart, gboolean percent)
{
  g_return_if_fail(chart != NULL);
  chart->percent = !!percent;
}

void
sc_chart_set_x_extent(ScChart *chart, double x_max)
{
  g_return_if_fail(chart != NULL);
  chart->x_extent = isfinite(x_max) ? x_max : 0.0;
}

guint
sc_chart_add_series(ScChart *chart, const char *name, double r, double g, double b)
{
  g_return_val_if_fail(chart != NULL, 0);

  ScSeries *s = g_new0(ScSeries, 1);
  s->name = g_strdup(name);
  s->rgb[0] = CLAMP(r, 0.0, 1.0);
  s->rgb[1] = CLAMP(g, 0.0, 1.0);
  s->rgb[2] = CLAMP(b, 0.0, 1.0);
  s->style = SC_LINE_SOLID;
  s->points = g_array_new(FALSE, FALSE, sizeof(ScPoint));
  g_ptr_array_add(chart->series, s);
  return chart->series->len - 1;
}

void
sc_chart_set_series_style(ScChart *chart, guint series, ScLineStyle style)
{
  g_return_if_fail(chart != NULL);
  g_return_if_fail(series < chart->series->len);
  chart_series(chart, series)->style = style;
}

guint
sc_chart_get_n_series(const ScChart *chart)
{
  g_return_val_if_fail(chart != NULL, 0);
  return chart->series->len;
}

const char *
sc_chart_get_series_name(const ScChart *chart, guint series)
{
  g_return_val_if_fail(chart != NULL, NULL);
  g_return_val_if_fail(series < chart->series->len, NULL);
  return chart_series(chart, series)->name;
}

guint
sc_chart_get_n_points(const ScChart *chart, guint series)
{
  g_return_val_if_fail(chart != NULL, 0);
  g_return_val_if_fail(series < chart->series->len, 0);
  return chart_series(chart, series)->points->len;
}

void
sc_chart_append(ScChart *chart, guint series, double x, double y)
{
  g_return_if_fail(chart != NULL);
  g_return_if_fail(series < chart->series->len);

  ScPoint p = { x, y };
  g_array_append_val(chart_series(chart, series)->points, p);
}

void
sc_chart_set_series_points(ScChart *chart, guint series, const double *x, const double *y,
                           guint n)
{
  g_return_if_fail(chart != NULL);
  g_return_if_fail(series < chart->series->len);
  g_return_if_fail(y != NULL || n == 0);

  GArray *points = chart_series(chart, series)->points;
  g_array_set_size(points, n);
  for (guint i = 0; i < n; i++) {
    ScPoint *p = &g_array_index(points, ScPoint, i);
    p->x = x != NULL ? x[i] : (double)(i + 1);
    p->y = y[i];
  }
}

void
sc_chart_clear(ScChart *chart)
{
  g_return_if_fail(chart != NULL);

  for (guint s = 0; s < chart->series->len; s++)
    g_array_set_size(chart_series(chart, s)->points, 0);
  chart->highlight_series = -1;
  chart->highlight_index = -1;
}

void
sc_chart_set_highlight(ScChart *chart, int series, int index)
{
  g_return_if_fail(chart != NULL);

  chart->highlight_series = series;
  chart->highlight_index = index;
}

void
sc_chart_palette(guint i, double *r, double *g, double *b)
{
  /* Okabe-Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue. */
  static const guint8 colors[][3] = {
    { 0, 114, 178 }, { 213, 94, 0 }, { 0, 158, 115 },
    { 230, 159, 0 }, { 204, 121, 167 }, { 86, 180, 233 },
  };
  const guint8 *c = colors[i % G_N_ELEMENTS(colors)];

  if (r != NULL)
    *r = c[0] / 255.0;
  if (g != NULL)
    *g = c[1] / 255.0;
  if (b != NULL)
    *b = c[2] / 255.0;
}

/* ---- Text: pango when built with it, cairo's toy API otherwise ---- */

typedef enum {
  TEXT_NORMAL,
  TEXT_BOLD,
  TEXT_ITALIC,
} ScTextStyle;

typedef struct {
  cairo_t *cr;
#if SC_PLOT_HAVE_PANGO
  PangoLayout *layout;
#endif
} ScText;

static void
text_init(ScText *t, cairo_t *cr)
{
  t->cr = cr;
#if SC_PLOT_HAVE_PANGO
  t->layout = pango_cairo_create_layout(cr);
#endif
}

static void
text_clear(ScText *t)
{
#if SC_PLOT_HAVE_PANGO
  g_clear_object(&t->layout);
#endif
}

#if SC_PLOT_HAVE_PANGO
static void
text_prepare(ScText *t, const char *s, double size_px, ScTextStyle style)
{
  PangoFontDescription *desc = pango_font_description_from_string("Sans");

  pango_font_description_set_absolute_size(desc, size_px * PANGO_SCALE);
  if (style == TEXT_BOLD)
    pango_font_description_set_weight(desc, PANGO_WEIGHT_BOLD);
  if (style == TEXT_ITALIC)
    pango_font_description_set_style(desc, PANGO_STYLE_ITALIC);
  pango_layout_set_font_description(t->layout, desc);
  pango_font_description_free(desc);
  pango_layout_set_text(t->layout, s, -1);
}
#else
/* TODO: the toy-text fallback is only built where pangocairo is missing, so CI never runs it. */
static void
text_prepare(ScText *t, const char *s, double size_px, ScTextStyle style)
{
  cairo_select_font_face(t->cr, "sans-serif",
                         style == TEXT_ITALIC ? CAIRO_FONT_SLANT_ITALIC
                                              : CAIRO_FONT_SLANT_NORMAL,
                         style == TEXT_BOLD ? CAIRO_FONT_WEIGHT_BOLD
                                            : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(t->cr, size_px);
}
#endif

static void
text_size(ScText *t, const char *s, double size_px, ScTextStyle style, double *w, double *h)
{
  text_prepare(t, s, size_px, style);
#if SC_PLOT_HAVE_PANGO
  PangoRectangle logical;
  pango_layout_get_pixel_extents(t->layout, NULL, &logical);
  *w = logical.width;
  *h = logical.height;
#else
  cairo_text_extents_t te;
  cairo_font_extents_t fe;
  cairo_text_extents(t->cr, s, &te);
  cairo_font_extents(t->cr, &fe);
  *w = te.x_advance;
  *h = fe.ascent + fe.descent;
#endif
}

/* Draws s with its box anchored at (x, y): ax, ay are 0 (left/top),
 * 0.5 (centre) or 1 (right/bottom) of the text's box. */
static void
text_draw(ScText *t, const char *s, double size_px, ScTextStyle style, double x, double y,
          double ax, double ay)
{
  double w, h;

  text_size(t, s, size_px, style, &w, &h);
#if SC_PLOT_HAVE_PANGO
  cairo_move_to(t->cr, x - ax * w, y - ay * h);
  pango_cairo_update_layout(t->cr, t->layout);
  pango_cairo_show_layout(t->cr, t->layout);
#else
  cairo_font_extents_t fe;
  cairo_font_extents(t->cr, &fe);
  cairo_move_to(t->cr, x - ax * w, y - ay * h + fe.ascent);
  cairo_show_text(t->cr, s);
#endif
  /* Showing text leaves a current point; the next arc must not join it. */
  cairo_new_path(t->cr);
}

/* ---- Layout: a function of the data and the size only ---- */

static gboolean
point_is_finite(const ScPoint *p)
{
  return isfinite(p->x) && isfinite(p->y);
}

static void
chart_data_ranges(const ScChart *chart, ScRange *x_range, ScRange *y_range)
{
  *x_range = sc_range_empty();
  *y_range = sc_range_empty();
  for (guint s = 0; s < chart->series->len; s++) {
    GArray *points = chart_series(chart, s)->points;
    for (guint i = 0; i < points->len; i++) {
      const ScPoint *p = &g_array_index(points, ScPoint, i);
      /* A point counts only whole: an Inf x must not stretch the y range. */
      if (!point_is_finite(p))
        continue;
      sc_range_include(x_range, p->x);
      sc_range_include(y_range, p->y);
    }
  }
}

static ScMetrics
chart_metrics(double width, double height)
{
  ScMetrics m;

  /* 13 px text at 800x500, never under 9 px (still readable at 400x250). */
  m.font_px = CLAMP(MIN(width, height * 1.6) / 60.0, 9.0, 15.0);
  m.tick_px = m.font_px * 0.92;
  m.title_px = m.font_px * 1.25;
  m.pad_px = m.font_px * 0.7;
  m.line_px = MAX(1.5, m.font_px / 6.5);
  m.marker_px = m.line_px * 1.6;
  m.legend_row_px = m.tick_px * 1.5;
  m.legend_swatch_px = m.tick_px * 2.0;
  m.legend_gap_px = m.tick_px * 0.5;
  m.legend_pad_px = m.tick_px * 0.6;
  m.legend_col_gap_px = m.tick_px * 1.2;
  return m;
}

static gboolean
has_text(const char *s)
{
  return s != NULL && s[0] != '\0';
}

static void
map_point(const ScRect *area, const ScAxis *xa, const ScAxis *ya, double x, double y,
          double *px, double *py)
{
  sc_rect_map_unit(area, sc_axis_unit(xa, x), sc_axis_unit(ya, y), px, py);
}

/* The y range to show: the data, from 0 if asked, widened when constant,
 * with a little headroom; 0..1 while there are no data. */
static ScRange
chart_y_range(const ScChart *chart, ScRange yr)
{
  if (sc_range_is_empty(yr))
    return (ScRange){ 0.0, 1.0 };
  if (chart->y_from_zero) {
    yr.min = MIN(yr.min, 0.0);
    yr.max = MAX(yr.max, 0.0);
  }
  yr = sc_range_pad(yr);
  /* Headroom so a curve on a nice bound does not run along the frame; not
   * past 0 when forced there, nor past 100% for fractions. */
  double margin = (yr.max - yr.min) * 0.02;
  if (!(chart->y_from_zero && yr.min == 0.0))
    yr.min = chart->percent && yr.min >= 0.0 ? MAX(yr.min - margin, 0.0) : yr.min - margin;
  yr.max = chart->percent && yr.max <= 1.0 ? MIN(yr.max + margin, 1.0) : yr.max + margin;
  return yr;
}

/* The x range: epochs from 1 up to the extent; a single epoch is centred
 * with half an epoch on either side, not drawn on the y axis. */
static ScRange
chart_x_range(const ScChart *chart, ScRange xr)
{
  if (sc_range_is_empty(xr))
    xr = (ScRange){ 1.0, 1.0 };
  xr.min = MIN(xr.min, 1.0);
  xr.max = MAX(xr.max, chart->x_extent);
  if (xr.max < xr.min + 1.0) {
    double mid = (xr.min + xr.max) / 2.0;
    xr = (ScRange){ mid - 0.5, mid + 0.5 };
  }
  return xr;
}

/* How much of the data a box at r would cover: points and samples along
 * each segment that fall inside it. Samples are spaced evenly in pixels, so
 * a long straight reference line weighs as much as a curve of many points. */
static guint
data_inside(const ScChart *chart, const ScLayout *l, const ScRect *r)
{
  guint count = 0;

  for (guint s = 0; s < chart->series->len; s++) {
    GArray *points = chart_series(chart, s)->points;
    double qx = 0, qy = 0;
    gboolean have_prev = FALSE;
    for (guint i = 0; i < points->len; i++) {
      const ScPoint *p = &g_array_index(points, ScPoint, i);
      if (!point_is_finite(p)) {
        have_prev = FALSE;
        continue;
      }
      double px, py;
      map_point(&l->area, &l->x, &l->y, p->x, p->y, &px, &py);
      double step = MAX(l->m.marker_px, 1.0);
      guint samples = have_prev ? (guint)CLAMP(ceil(hypot(px - qx, py - qy) / step), 1, 4096)
                                : 1;
      for (guint k = 1; k <= samples; k++) {
        double f = (double)k / samples;
        double sx = have_prev ? qx + (px - qx) * f : px;
        double sy = have_prev ? qy + (py - qy) * f : py;
        if (sx >= r->x && sx <= r->x + r->width && sy >= r->y && sy <= r->y + r->height)
          count++;
      }
      qx = px;
      qy = py;
      have_prev = TRUE;
    }
  }
  return count;
}

/* Rows of the legend (named series) and the width of one row's swatch,
 * gap and name. */
static guint
legend_rows(const ScChart *chart, ScText *t, const ScMetrics *m, double *row_w)
{
  double name_w = 0;
  guint rows = 0;

  for (guint s = 0; s < chart->series->len; s++) {
    const ScSeries *series = chart_series(chart, s);
    if (!has_text(series->name))
      continue;
    double tw, th;
    text_size(t, series->name, m->tick_px, TEXT_NORMAL, &tw, &th);
    name_w = MAX(name_w, tw);
    rows++;
  }
  *row_w = m->legend_swatch_px + m->legend_gap_px + name_w;
  return rows;
}

/* Width and height of a legend box of n rows set in columns of rows_per_col
 * (column by column, so the runs and their references group). */
static void
legend_box_size(const ScMetrics *m, guint n, guint rows_per_col, double row_w, double *w,
                double *h)
{
  guint cols = (n + rows_per_col - 1) / rows_per_col;
  *w = m->legend_pad_px * 2 + cols * row_w + (cols - 1) * m->legend_col_gap_px;
  *h = m->legend_pad_px * 2 + rows_per_col * m->legend_row_px;
}

/* Finite points of measured (solid) series inside r. */
static guint
measured_points_inside(const ScChart *chart, const ScLayout *l, const ScRect *r)
{
  guint count = 0;

  for (guint s = 0; s < chart->series->len; s++) {
    const ScSeries *series = chart_series(chart, s);
    if (series->style == SC_LINE_DASHED)
      continue;
    for (guint i = 0; i < series->points->len; i++) {
      const ScPoint *p = &g_array_index(series->points, ScPoint, i);
      if (!point_is_finite(p))
        continue;
      double px, py;
      map_point(&l->area, &l->x, &l->y, p->x, p->y, &px, &py);
      count += px >= r->x && px <= r->x + r->width && py >= r->y && py <= r->y + r->height;
    }
  }
  return count;
}

/* Whether curve b, drawn over a, would cover a stretch of it: two
 * neighbouring epochs where the curves lie less than a line width apart. */
static gboolean
curve_covers(const ScSeries *a, const ScSeries *b, const ScRect *area, const ScAxis *xa,
             const ScAxis *ya, double line_px)
{
  guint n = MIN(a->points->len, b->points->len);
  gboolean prev_close = FALSE;
  for (guint i = 0; i < n; i++) {
    const ScPoint *p = &g_array_index(a->points, ScPoint, i);
    const ScPoint *q = &g_array_index(b->points, ScPoint, i);
    gboolean close = FALSE;
    if (point_is_finite(p) && point_is_finite(q) && p->x == q->x) {
      double px, py, qx, qy;
      map_point(area, xa, ya, p->x, p->y, &px, &py);
      map_point(area, xa, ya, q->x, q->y, &qx, &qy);
      close = fabs(py - qy) < line_px;
    }
    if (close && prev_close)
      return TRUE;
    prev_close = close;
  }
  return FALSE;
}

/* How many times the usual width series s is drawn: wider under each
 * later solid curve that would cover it. */
static double
curve_widen(const ScChart *chart, guint s, const ScRect *area, const ScAxis *xa,
            const ScAxis *ya, double line_px)
{
  const ScSeries *series = chart_series(chart, s);
  double widen = 1.0;
  if (series->style != SC_LINE_SOLID)
    return widen;
  for (guint later = s + 1; later < chart->series->len; later++) {
    const ScSeries *over = chart_series(chart, later);
    if (over->style == SC_LINE_SOLID && widen < WIDEST_CURVE_FACTOR
        && curve_covers(series, over, area, xa, ya, line_px))
      widen += COVERED_CURVE_WIDEN;
  }
  return widen;
}

static double
widest_curve(const ScChart *chart, const ScRect *area, const ScAxis *xa, const ScAxis *ya,
             double line_px)
{
  double widest = 1.0;
  for (guint s = 0; s < chart->series->len; s++)
    widest = MAX(widest, curve_widen(chart, s, area, xa, ya, line_px));
  return widest;
}

/* The corner of the plot area (top right first) where a w x h legend hides
 * the least of the curves. Returns whether that corner may take it: it hides
 * no measured point and at most a few samples of the lines. */
static gboolean
legend_best_corner(const ScChart *chart, const ScLayout *l, double w, double h, ScRect *box)
{
  const ScRect *a = &l->area;
  double inset = l->m.tick_px * 0.6;
  double left = a->x + inset, right = a->x + a->width - inset - w;
  double top = a->y + inset, bottom = a->y + a->height - inset - h;
  const double corners[4][2] = { { right, top }, { right, bottom }, { left, top },
                                 { left, bottom } };
  guint best = G_MAXUINT;
  ScRect best_grown = { 0, 0, 0, 0 };

  /* A curve grazing the box edge counts too: markers and lines have width. */
  double slack = (l->m.marker_px + l->m.line_px)
                 * widest_curve(chart, &l->area, &l->x, &l->y, l->m.line_px);
  for (guint c = 0; c < G_N_ELEMENTS(corners); c++) {
    ScRect r = { corners[c][0], corners[c][1], w, h };
    ScRect grown = { r.x - slack, r.y - slack, r.width + 2 * slack, r.height + 2 * slack };
    guint covered = data_inside(chart, l, &grown);
    if (covered < best) {
      best = covered;
      best_grown = grown;
      *box = r;
    }
  }
  return best <= LEGEND_HIDE_MAX && measured_points_inside(chart, l, &best_grown) == 0;
}

/* Plot area and x axis for given left and right margins. */
static void
layout_columns(ScLayout *l, double width, double left, double right, ScRange xr)
{
  l->area.x = left;
  l->area.width = MAX(width - left - right, 1.0);
  guint x_target = (guint)CLAMP(l->area.width / (l->m.tick_px * 4.5), 2.0, 20.0);
  sc_axis_epochs(&l->x, xr.min, xr.max, x_target);
}

/* Plot area and both axes, with `below` pixels kept under the x label;
 * returns the left margin. */
static double
layout_plot(const ScChart *chart, ScText *t, double width, double height, double below,
            ScRange xr, ScRange yr, ScLayout *l)
{
  const ScMetrics *m = &l->m;

  /* Rows first: the y ticks depend on the plot height only. */
  double top = m->pad_px + (has_text(chart->title) ? m->title_px * 1.4 : m->font_px * 0.5);
  double bottom = m->pad_px + m->tick_px * 1.7
                  + (has_text(chart->x_label) ? m->font_px * 1.5 : 0.0) + below;
  l->below = below;
  l->area.y = top;
  l->area.height = MAX(height - top - bottom, 1.0);
  guint y_target = (guint)CLAMP(l->area.height / (m->tick_px * 4.0), 2.0, 10.0);
  sc_axis_nice(&l->y, yr.min, yr.max, y_target);

  /* Then the left margin from the widest y tick label. */
  double label_w = 0;
  for (guint i = 0; i < l->y.n_ticks; i++) {
    g_autofree char *label = sc_axis_format(&l->y, l->y.ticks[i], chart->percent);
    double w, h;
    text_size(t, label, m->tick_px, TEXT_NORMAL, &w, &h);
    label_w = MAX(label_w, w);
  }
  double left = m->pad_px + (has_text(chart->y_label) ? m->font_px * 1.6 : 0.0) + label_w
                + m->tick_px * 0.6;
  /* Room for half of the last x label past the plot's right edge. */
  double right = m->pad_px + m->tick_px * 1.4;
  layout_columns(l, width, left, right, xr);
  return left;
}

/* The legend under the x label, in as many columns as the width holds;
 * FALSE (layout untouched) when the plot left would be too low to read. */
static gboolean
layout_legend_below(const ScChart *chart, ScText *t, double width, double height, guint rows,
                    double row_w, ScRange xr, ScRange yr, ScLayout *l)
{
  const ScMetrics *m = &l->m;
  double room_w = width - 2 * m->pad_px - 2 * m->legend_pad_px + m->legend_col_gap_px;
  guint cols = (guint)CLAMP(floor(room_w / (row_w + m->legend_col_gap_px)), 1.0, rows);
  guint per_col = (rows + cols - 1) / cols;
  double w, h;
  legend_box_size(m, rows, per_col, row_w, &w, &h);

  double gap = m->tick_px * 0.6;
  ScLayout below = *l;
  layout_plot(chart, t, width, height, h + gap, xr, yr, &below);
  if (below.area.height < height * 0.3)
    return FALSE;
  *l = below;
  l->legend_rows_per_col = per_col;
  double x = l->area.x + (l->area.width - w) / 2;
  l->legend = (ScRect){ CLAMP(x, m->pad_px, MAX(width - m->pad_px - w, m->pad_px)),
                        height - m->pad_px - h, w, h };
  return TRUE;
}

static void
chart_layout_with_text(const ScChart *chart, ScText *t, double width, double height,
                       ScLayout *l)
{
  const ScMetrics *m = &l->m;
  ScRange xr, yr;
  chart_data_ranges(chart, &xr, &yr);
  xr = chart_x_range(chart, xr);
  yr = chart_y_range(chart, yr);
  double left = layout_plot(chart, t, width, height, 0.0, xr, yr, l);

  /* The legend goes in the emptiest corner. If every corner would hide
   * curves it moves out to the right of the plot when there is room, else
   * under it: a legend never covers a measured point. */
  l->legend = (ScRect){ 0, 0, 0, 0 };
  double row_w;
  guint rows = legend_rows(chart, t, m, &row_w);
  if (rows == 0)
    return;
  l->legend_rows_per_col = rows;
  l->legend_row_w = row_w;
  double legend_w, legend_h;
  legend_box_size(m, rows, rows, row_w, &legend_w, &legend_h);
  if (legend_best_corner(chart, l, legend_w, legend_h, &l->legend))
    return;
  double outside_gap = m->tick_px * 1.2;
  double outside_right = m->pad_px + legend_w + outside_gap;
  if (width - left - outside_right >= width * 0.5) {
    layout_columns(l, width, left, outside_right, xr);
    l->legend = (ScRect){ l->area.x + l->area.width + outside_gap, l->area.y, legend_w,
                          legend_h };
    return;
  }
  /* Too small for that too: the corner hiding least stays. */
  layout_legend_below(chart, t, width, height, rows, row_w, xr, yr, l);
}

/* Text is measured on a scratch surface, so the layout (and hit-testing)
 * needs no cairo context from the caller. */
static void
chart_layout(const ScChart *chart, double width, double height, ScLayout *l)
{
  cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create(scratch);
  ScText t;

  l->m = chart_metrics(width, height);
  text_init(&t, cr);
  chart_layout_with_text(chart, &t, width, height, l);
  text_clear(&t);
  cairo_destroy(cr);
  cairo_surface_destroy(scratch);
}

void
sc_chart_get_layout(const ScChart *chart, double width, double height, ScRect *area,
                    ScAxis *x_axis, ScAxis *y_axis)
{
  g_return_if_fail(chart != NULL);

  ScLayout l;
  chart_layout(chart, width, height, &l);
  if (area != NULL)
    *area = l.area;
  if (x_axis != NULL)
    *x_axis = l.x;
  if (y_axis != NULL)
    *y_axis = l.y;
}

void
sc_chart_map(const ScChart *chart, double width, double height, double x, double y,
             double *px, double *py)
{
  g_return_if_fail(chart != NULL);

  ScLayout l;
  chart_layout(chart, width, height, &l);
  map_point(&l.area, &l.x, &l.y, x, y, px, py);
}

gboolean
sc_chart_hit(const ScChart *chart, double width, double height, double px, double py,
             guint *series, guint *index, double *x, double *y)
{
  g_return_val_if_fail(chart != NULL, FALSE);

  ScLayout l;
  chart_layout(chart, width, height, &l);

  double best_d2 = SC_CHART_HIT_RADIUS_PX * SC_CHART_HIT_RADIUS_PX;
  const ScPoint *best = NULL;
  guint best_s = 0, best_i = 0;
  for (guint s = 0; s < chart->series->len; s++) {
    GArray *points = chart_series(chart, s)->points;
    for (guint i = 0; i < points->len; i++) {
      const ScPoint *p = &g_array_index(points, ScPoint, i);
      if (!point_is_finite(p))
        continue;
      double qx, qy;
      map_point(&l.area, &l.x, &l.y, p->x, p->y, &qx, &qy);
      double d2 = (qx - px) * (qx - px) + (qy - py) * (qy - py);
      /* Strictly nearer: on a tie the series drawn first wins. */
      if (d2 <= best_d2 && (best == NULL || d2 < best_d2)) {
        best_d2 = d2;
        best = p;
        best_s = s;
        best_i = i;
      }
    }
  }
  if (best == NULL)
    return FALSE;
  if (series != NULL)
    *series = best_s;
  if (index != NULL)
    *index = best_i;
  if (x != NULL)
    *x = best->x;
  if (y != NULL)
    *y = best->y;
  return TRUE;
}

/* ---- Drawing ---- */

/* Odd-width lines land on pixel centres only at half-pixel positions. */
static double
crisp(double v)
{
  return floor(v) + 0.5;
}

static void
draw_grid_and_axes(const ScChart *chart, ScText *t, const ScMetrics *m, const ScRect *area,
                   const ScAxis *xa, const ScAxis *ya)
{
  cairo_t *cr = t->cr;
  double x0 = crisp(area->x), y1 = crisp(area->y + area->height);

  /* Light grid at every tick. */
  cairo_set_line_width(cr, 1.0);
  cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
  for (guint i = 0; i < ya->n_ticks; i++) {
    double py;
    sc_rect_map_unit(area, 0, sc_axis_unit(ya, ya->ticks[i]), NULL, &py);
    cairo_move_to(cr, x0, crisp(py));
    cairo_line_to(cr, area->x + area->width, crisp(py));
  }
  for (guint i = 0; i < xa->n_ticks; i++) {
    double px;
    sc_rect_map_unit(area, sc_axis_unit(xa, xa->ticks[i]), 0, &px, NULL);
    cairo_move_to(cr, crisp(px), area->y);
    cairo_line_to(cr, crisp(px), y1);
  }
  cairo_stroke(cr);

  /* Axis lines, tick marks and tick labels. */
  double tick_len = m->tick_px * 0.35;
  cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
  cairo_move_to(cr, x0, area->y);
  cairo_line_to(cr, x0, y1);
  cairo_line_to(cr, area->x + area->width, y1);
  for (guint i = 0; i < ya->n_ticks; i++) {
    double py;
    sc_rect_map_unit(area, 0, sc_axis_unit(ya, ya->ticks[i]), NULL, &py);
    cairo_move_to(cr, x0 - tick_len, crisp(py));
    cairo_line_to(cr, x0, crisp(py));
  }
  for (guint i = 0; i < xa->n_ticks; i++) {
    double px;
    sc_rect_map_unit(area, sc_axis_unit(xa, xa->ticks[i]), 0, &px, NULL);
    cairo_move_to(cr, crisp(px), y1);
    cairo_line_to(cr, crisp(px), y1 + tick_len);
  }
  cairo_stroke(cr);

  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  for (guint i = 0; i < ya->n_ticks; i++) {
    g_autofree char *label = sc_axis_format(ya, ya->ticks[i], chart->percent);
    double py;
    sc_rect_map_unit(area, 0, sc_axis_unit(ya, ya->ticks[i]), NULL, &py);
    text_draw(t, label, m->tick_px, TEXT_NORMAL, x0 - tick_len * 1.8, py, 1.0, 0.5);
  }
  for (guint i = 0; i < xa->n_ticks; i++) {
    g_autofree char *label = sc_axis_format(xa, xa->ticks[i], FALSE);
    double px;
    sc_rect_map_unit(area, sc_axis_unit(xa, xa->ticks[i]), 0, &px, NULL);
    text_draw(t, label, m->tick_px, TEXT_NORMAL, px, y1 + tick_len * 1.6, 0.5, 0.0);
  }
}

static void
draw_labels(const ScChart *chart, ScText *t, const ScLayout *l, double height)
{
  cairo_t *cr = t->cr;
  const ScMetrics *m = &l->m;
  const ScRect *area = &l->area;

  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  if (has_text(chart->title))
    text_draw(t, chart->title, m->title_px, TEXT_BOLD, area->x + area->width / 2,
              m->pad_px, 0.5, 0.0);

  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  if (has_text(chart->x_label))
    text_draw(t, chart->x_label, m->font_px, TEXT_NORMAL, area->x + area->width / 2,
              height - m->pad_px - l->below, 0.5, 1.0);
  if (has_text(chart->y_label)) {
    /* Rotated a quarter turn, reading upwards, centred on the plot. */
    cairo_save(cr);
    cairo_translate(cr, m->pad_px, area->y + area->height / 2);
    cairo_rotate(cr, -G_PI / 2);
    text_draw(t, chart->y_label, m->font_px, TEXT_NORMAL, 0, 0, 0.5, 0.0);
    cairo_restore(cr);
  }
}

static void
set_series_source(cairo_t *cr, const ScSeries *s)
{
  double alpha = s->style == SC_LINE_DASHED ? FAINT_ALPHA : 1.0;
  cairo_set_source_rgba(cr, s->rgb[0], s->rgb[1], s->rgb[2], alpha);
}

/* widen: the curve's line and markers are this many times the usual. */
static void
draw_series(const ScSeries *s, cairo_t *cr, const ScMetrics *m, const ScRect *area,
            const ScAxis *xa, const ScAxis *ya, double widen)
{
  GArray *points = s->points;
  double line_px = m->line_px * widen, marker_px = m->marker_px * widen;
  double dash[2] = { line_px * 3.0, line_px * 2.0 };
  double px_per_x = area->width / (xa->max - xa->min);
  gboolean markers = px_per_x >= MARKER_MIN_SPACING_PX;

  /* The line: each run of finite points is one sub-path, so a NaN breaks it. */
  cairo_new_path(cr);
  guint run = 0;
  for (guint i = 0; i < points->len; i++) {
    const ScPoint *p = &g_array_index(points, ScPoint, i);
    if (!point_is_finite(p)) {
      run = 0;
      continue;
    }
    double px, py;
    map_point(area, xa, ya, p->x, p->y, &px, &py);
    if (run++ == 0)
      cairo_move_to(cr, px, py);
    else
      cairo_line_to(cr, px, py);
  }
  set_series_source(cr, s);
  cairo_set_line_width(cr, line_px);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_dash(cr, dash, s->style == SC_LINE_DASHED ? 2 : 0, 0);
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0);

  /* Markers where the points are far apart, and always for a point with no
   * finite neighbour (a single epoch, or one between NaNs) so it shows. */
  for (guint i = 0; i < points->len; i++) {
    const ScPoint *p = &g_array_index(points, ScPoint, i);
    if (!point_is_finite(p))
      continue;
    gboolean prev = i > 0 && point_is_finite(&g_array_index(points, ScPoint, i - 1));
    gboolean next = i + 1 < points->len
                    && point_is_finite(&g_array_index(points, ScPoint, i + 1));
    if (!markers && (prev || next))
      continue;
    double px, py;
    map_point(area, xa, ya, p->x, p->y, &px, &py);
    cairo_new_sub_path(cr);
    cairo_arc(cr, px, py, marker_px, 0, 2 * G_PI);
  }
  cairo_fill(cr);
}

static void
draw_legend(const ScChart *chart, ScText *t, const ScLayout *l)
{
  cairo_t *cr = t->cr;
  const ScMetrics *m = &l->m;
  const ScRect *box = &l->legend;

  if (box->width <= 0)
    return;
  cairo_rectangle(cr, crisp(box->x), crisp(box->y), floor(box->width), floor(box->height));
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);

  /* Column by column; every column is as wide as the widest row. */
  double dash[2] = { m->line_px * 3.0, m->line_px * 2.0 };
  guint row = 0;
  for (guint s = 0; s < chart->series->len; s++) {
    const ScSeries *series = chart_series(chart, s);
    if (!has_text(series->name))
      continue;
    guint col = row / l->legend_rows_per_col;
    double y = box->y + m->legend_pad_px + m->legend_row_px / 2
               + (row % l->legend_rows_per_col) * m->legend_row_px;
    double sx = box->x + m->legend_pad_px + col * (l->legend_row_w + m->legend_col_gap_px);
    row++;
    cairo_move_to(cr, sx, y);
    cairo_line_to(cr, sx + m->legend_swatch_px, y);
    set_series_source(cr, series);
    cairo_set_line_width(cr, m->line_px);
    cairo_set_dash(cr, dash, series->style == SC_LINE_DASHED ? 2 : 0, 0);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    text_draw(t, series->name, m->tick_px, TEXT_NORMAL,
              sx + m->legend_swatch_px + m->legend_gap_px, y, 0.0, 0.5);
  }
}

static void
draw_highlight(const ScChart *chart, ScText *t, const ScMetrics *m, const ScRect *area,
               const ScAxis *xa, const ScAxis *ya)
{
  cairo_t *cr = t->cr;

  if (chart->highlight_series < 0 || (guint)chart->highlight_series >= chart->series->len)
    return;
  const ScSeries *s = chart_series(chart, (guint)chart->highlight_series);
  if (chart->highlight_index < 0 || (guint)chart->highlight_index >= s->points->len)
    return;
  const ScPoint *p = &g_array_index(s->points, ScPoint, chart->highlight_index);
  if (!point_is_finite(p))
    return;

  double px, py;
  map_point(area, xa, ya, p->x, p->y, &px, &py);
  cairo_arc(cr, px, py, m->marker_px * 2.2, 0, 2 * G_PI);
  cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
  cairo_set_line_width(cr, m->line_px);
  cairo_stroke(cr);

  g_autofree char *value = chart->percent ? g_strdup_printf("%.2f%%", p->y * 100.0)
                                          : g_strdup_printf("%.4g", p->y);
  g_autofree char *label = g_strdup_printf("%s, epoch %g: %s", s->name ? s->name : "",
                                           p->x, value);
  double w, h, pad = m->tick_px * 0.4;
  text_size(t, label, m->tick_px, TEXT_NORMAL, &w, &h);
  /* Above right of the point, flipped to stay inside the plot area. */
  double bx = px + m->marker_px * 2.5, by = py - m->marker_px * 2.5 - h - 2 * pad;
  if (bx + w + 2 * pad > area->x + area->width)
    bx = px - m->marker_px * 2.5 - w - 2 * pad;
  if (by < area->y)
    by = py + m->marker_px * 2.5;
  cairo_rectangle(cr, bx, by, w + 2 * pad, h + 2 * pad);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.95);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  text_draw(t, label, m->tick_px, TEXT_NORMAL, bx + pad, by + pad, 0.0, 0.0);
}

/* Dashed reference lines are no measured data: alone they still leave the
 * chart "No data yet". */
static gboolean
chart_has_measured_point(const ScChart *chart)
{
  for (guint s = 0; s < chart->series->len; s++) {
    const ScSeries *series = chart_series(chart, s);
    if (series->style == SC_LINE_DASHED)
      continue;
    for (guint i = 0; i < series->points->len; i++)
      if (point_is_finite(&g_array_index(series->points, ScPoint, i)))
        return TRUE;
  }
  return FALSE;
}

void
sc_chart_draw(const ScChart *chart, cairo_t *cr, double width, double height)
{
  g_return_if_fail(chart != NULL);
  g_return_if_fail(cr != NULL);

  cairo_save(cr);
  cairo_rectangle(cr, 0, 0, width, height);
  cairo_clip(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  /* TODO: colours for a dark theme; the app paints on a white card for now. */

  ScLayout l;
  chart_layout(chart, width, height, &l);
  const ScMetrics *m = &l.m;
  const ScRect *area = &l.area;
  /* Too small to hold a plot: leave the background only. */
  if (area->width < 8 || area->height < 8) {
    cairo_restore(cr);
    return;
  }

  ScText t;
  text_init(&t, cr);
  draw_grid_and_axes(chart, &t, m, area, &l.x, &l.y);
  draw_labels(chart, &t, &l, height);

  /* Curves clipped to the plot area, widened so edge markers stay round.
   * Faint reference curves first, so solid ones lie on top. */
  cairo_save(cr);
  double slack = (m->marker_px + m->line_px) * WIDEST_CURVE_FACTOR;
  cairo_rectangle(cr, area->x - slack, area->y - slack, area->width + 2 * slack,
                  area->height + 2 * slack);
  cairo_clip(cr);
  for (int pass = 0; pass < 2; pass++) {
    ScLineStyle style = pass == 0 ? SC_LINE_DASHED : SC_LINE_SOLID;
    for (guint s = 0; s < chart->series->len; s++) {
      const ScSeries *series = chart_series(chart, s);
      if (series->style != style)
        continue;
      draw_series(series, cr, m, area, &l.x, &l.y,
                  curve_widen(chart, s, area, &l.x, &l.y, m->line_px));
    }
  }
  cairo_restore(cr);

  if (!chart_has_measured_point(chart)) {
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    text_draw(&t, "No data yet", m->font_px, TEXT_ITALIC, area->x + area->width / 2,
              area->y + area->height / 2, 0.5, 0.5);
  }
  draw_legend(chart, &t, &l);
  draw_highlight(chart, &t, m, area, &l.x, &l.y);

  text_clear(&t);
  cairo_restore(cr);
}

/* ---- Files ---- */

typedef enum {
  FORMAT_PNG,
  FORMAT_SVG,
} ScChartFormat;

/* cairo's stream callbacks append to a GByteArray. */
static cairo_status_t
append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append(closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* Draws the chart as a whole PNG or SVG file's bytes. */
static gboolean
render_to_bytes(const ScChart *chart, ScChartFormat format, int width, int height,
                GByteArray *bytes, const char *path, GError **error)
{
  cairo_surface_t *surface;

  if (format == FORMAT_PNG)
    surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  else
    surface = cairo_svg_surface_create_for_stream(append_bytes, bytes, width, height);
  cairo_t *cr = cairo_create(surface);
  sc_chart_draw(chart, cr, width, height);
  cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);

  if (status == CAIRO_STATUS_SUCCESS && format == FORMAT_PNG)
    status = cairo_surface_write_to_png_stream(surface, append_bytes, bytes);
  /* The SVG surface writes its last bytes when finished. */
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);

  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_FILE_ERROR,
                status == CAIRO_STATUS_NO_MEMORY ? G_FILE_ERROR_NOMEM : G_FILE_ERROR_FAILED,
                "Cannot draw chart “%s” at %dx%d: %s", path, width, height,
                cairo_status_to_string(status));
    return FALSE;
  }
  return TRUE;
}

static gboolean
write_atomic(const ScChart *chart, ScChartFormat format, const char *path, int width,
             int height, GError **error)
{
  g_return_val_if_fail(chart != NULL, FALSE);
  g_return_val_if_fail(path != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (width < SIZE_MIN_PX || width > SIZE_MAX_PX || height < SIZE_MIN_PX
      || height > SIZE_MAX_PX) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "Cannot write chart “%s”: size %dx%d is outside %d..%d pixels", path, width,
                height, SIZE_MIN_PX, SIZE_MAX_PX);
    return FALSE;
  }
  g_autoptr(GByteArray) bytes = g_byte_array_new();
  if (!render_to_bytes(chart, format, width, height, bytes, path, error))
    return FALSE;
  /* Never half a chart on disk; 0666 lets the umask apply. */
  return sc_file_write_atomic(path, bytes->data, bytes->len, 0666, TRUE, G_FILE_ERROR, error);
}

gboolean
sc_chart_write_png(const ScChart *chart, const char *path, int width, int height,
                   GError **error)
{
  return write_atomic(chart, FORMAT_PNG, path, width, height, error);
}

gboolean
sc_chart_write_svg(const ScChart *chart, const char *path, int width, int height,
                   GError **error)
{
  return write_atomic(chart, FORMAT_SVG, path, width, height, error);
}
