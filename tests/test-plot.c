/* The training-curves chart: tick arithmetic, data-to-pixel mapping,
 * hit-testing, and PNG/SVG output read back and sampled. */
#include "sc-chart.h"

#include <glib/gstdio.h>
#include <math.h>

#define W 800
#define H 500

/* Where rendered files go: $SC_PLOT_TEST_OUTDIR (kept, for looking at
 * them) or a temporary folder removed at the end. */
static char *out_dir;
static gboolean keep_out_dir;

static char *
out_path(const char *name)
{
  return g_build_filename(out_dir, name, NULL);
}

static void
assert_ticks(const ScAxis *axis, const double *expected, guint n)
{
  g_assert_cmpuint(axis->n_ticks, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon(axis->ticks[i], expected[i], 1e-12);
}

static void
assert_label(const ScAxis *axis, double v, gboolean percent, const char *expected)
{
  g_autofree char *label = sc_axis_format(axis, v, percent);
  g_assert_cmpstr(label, ==, expected);
}

/* ---- Pure arithmetic ---- */

static void
test_nice_step(void)
{
  g_assert_cmpfloat_with_epsilon(sc_nice_step(1.0, 5), 0.2, 1e-15);
  g_assert_cmpfloat_with_epsilon(sc_nice_step(0.475, 5), 0.1, 1e-15);
  g_assert_cmpfloat_with_epsilon(sc_nice_step(7.0, 1), 10.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(sc_nice_step(1.5e-4, 5), 5e-5, 1e-18);
  g_assert_cmpfloat_with_epsilon(sc_nice_step(19.0, 10), 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(sc_nice_step(1.0, 1), 1.0, 1e-15);
  /* A degenerate span still gives a usable step, not 0 or NaN. */
  g_assert_cmpfloat(sc_nice_step(0.0, 5), ==, 1.0);
  g_assert_cmpfloat(sc_nice_step(NAN, 5), ==, 1.0);
}

static void
test_ticks_unit_range(void)
{
  ScAxis axis;
  sc_axis_nice(&axis, 0.0, 1.0, 5);
  const double expected[] = { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 };
  assert_ticks(&axis, expected, G_N_ELEMENTS(expected));
  g_assert_cmpfloat(axis.min, ==, 0.0);
  g_assert_cmpfloat_with_epsilon(axis.max, 1.0, 1e-12);
  assert_label(&axis, axis.ticks[0], FALSE, "0.0");
  assert_label(&axis, axis.ticks[3], FALSE, "0.6");
  assert_label(&axis, axis.ticks[5], FALSE, "1.0");
  assert_label(&axis, axis.ticks[2], TRUE, "40%");
  assert_label(&axis, axis.ticks[5], TRUE, "100%");
}

static void
test_ticks_odd_range(void)
{
  ScAxis axis;
  sc_axis_nice(&axis, 0.437, 0.912, 5);
  const double expected[] = { 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 };
  assert_ticks(&axis, expected, G_N_ELEMENTS(expected));
  /* Rounded outwards: the data lie inside the axis. */
  g_assert_cmpfloat(axis.min, <=, 0.437);
  g_assert_cmpfloat(axis.max, >=, 0.912);
  assert_label(&axis, axis.ticks[2], FALSE, "0.6");
  assert_label(&axis, axis.ticks[1], TRUE, "50%");

  /* A loss-like range with a step of 0.05 needs two decimals. */
  sc_axis_nice(&axis, 1.52, 1.71, 4);
  g_assert_cmpfloat_with_epsilon(axis.step, 0.05, 1e-15);
  g_assert_cmpfloat_with_epsilon(axis.min, 1.5, 1e-12);
  g_assert_cmpfloat_with_epsilon(axis.max, 1.75, 1e-12);
  assert_label(&axis, axis.ticks[1], FALSE, "1.55");

  /* Around zero: no "-0.0" label. */
  sc_axis_nice(&axis, -0.3, 0.3, 6);
  gboolean saw_zero = FALSE;
  for (guint i = 0; i < axis.n_ticks; i++) {
    g_autofree char *label = sc_axis_format(&axis, axis.ticks[i], FALSE);
    g_assert_false(g_str_has_prefix(label, "-0.0") && axis.ticks[i] == 0.0);
    saw_zero = saw_zero || g_strcmp0(label, "0.0") == 0;
  }
  g_assert_true(saw_zero);
}

static void
test_ticks_constant(void)
{
  ScRange r = sc_range_pad((ScRange){ 0.5, 0.5 });
  g_assert_cmpfloat_with_epsilon(r.min, 0.45, 1e-12);
  g_assert_cmpfloat_with_epsilon(r.max, 0.55, 1e-12);
  ScAxis axis;
  sc_axis_nice(&axis, r.min, r.max, 5);
  g_assert_cmpfloat(axis.step, >, 0.0);
  g_assert_cmpfloat(axis.min, <, 0.5);
  g_assert_cmpfloat(axis.max, >, 0.5);
  g_assert_cmpuint(axis.n_ticks, >=, 3);

  /* Zero pads by one either side; a non-degenerate range is untouched. */
  r = sc_range_pad((ScRange){ 0.0, 0.0 });
  g_assert_cmpfloat(r.min, ==, -1.0);
  g_assert_cmpfloat(r.max, ==, 1.0);
  r = sc_range_pad((ScRange){ 0.2, 0.3 });
  g_assert_cmpfloat(r.min, ==, 0.2);
  g_assert_cmpfloat(r.max, ==, 0.3);
  /* An empty range stays empty rather than turning into NaN. */
  g_assert_true(sc_range_is_empty(sc_range_pad(sc_range_empty())));
}

static void
test_range_skips_nan(void)
{
  ScRange r = sc_range_empty();
  g_assert_true(sc_range_is_empty(r));
  sc_range_include(&r, NAN);
  sc_range_include(&r, INFINITY);
  g_assert_true(sc_range_is_empty(r));
  sc_range_include(&r, 0.7);
  sc_range_include(&r, -INFINITY);
  sc_range_include(&r, 0.2);
  g_assert_false(sc_range_is_empty(r));
  g_assert_cmpfloat(r.min, ==, 0.2);
  g_assert_cmpfloat(r.max, ==, 0.7);
}

static void
test_ticks_epochs(void)
{
  ScAxis axis;

  /* 20 epochs in a wide chart: every second epoch plus the first. */
  sc_axis_epochs(&axis, 1, 20, 10);
  const double wide[] = { 1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20 };
  assert_ticks(&axis, wide, G_N_ELEMENTS(wide));
  g_assert_cmpfloat(axis.min, ==, 1.0);
  g_assert_cmpfloat(axis.max, ==, 20.0);
  assert_label(&axis, 4, FALSE, "4");

  /* A narrow chart: steps of 5. */
  sc_axis_epochs(&axis, 1, 20, 4);
  const double narrow[] = { 1, 5, 10, 15, 20 };
  assert_ticks(&axis, narrow, G_N_ELEMENTS(narrow));

  /* One epoch: the axis spans 1..2 with both ticks. */
  sc_axis_epochs(&axis, 1, 2, 5);
  const double one[] = { 1, 2 };
  assert_ticks(&axis, one, G_N_ELEMENTS(one));

  /* Many epochs never overflow the tick array. */
  sc_axis_epochs(&axis, 1, 1e6, 1000);
  g_assert_cmpuint(axis.n_ticks, <=, SC_AXIS_MAX_TICKS);
  g_assert_cmpfloat(axis.ticks[axis.n_ticks - 1], <=, 1e6);
}

/* ---- Charts ---- */

/* Three runs over 20 epochs, clearly apart: 0.3.., 0.5.., 0.7.., with the
 * middle one flat at 0.5 around a NaN at epoch 10. */
static double
curve_value(guint series, guint epoch)
{
  if (series == 1)
    return epoch == 10 ? NAN : (epoch >= 8 && epoch <= 12 ? 0.5 : 0.45 + 0.005 * epoch);
  return 0.25 + 0.2 * series + 0.004 * epoch;
}

static ScChart *
three_series_chart(void)
{
  ScChart *chart = sc_chart_new("Validation accuracy", "Epoch", "Accuracy");
  const char *names[] = { "baseline", "linear probe", "finetuning" };
  sc_chart_set_y_from_zero(chart, TRUE);
  sc_chart_set_percent(chart, TRUE);
  for (guint s = 0; s < 3; s++) {
    double r, g, b;
    sc_chart_palette(s, &r, &g, &b);
    g_assert_cmpuint(sc_chart_add_series(chart, names[s], r, g, b), ==, s);
    for (guint e = 1; e <= 20; e++)
      sc_chart_append(chart, s, e, curve_value(s, e));
  }
  return chart;
}

/* One epoch of one: the point is centred, half an epoch from either side,
 * not drawn on the y axis. */
static void
test_single_epoch(void)
{
  g_autoptr(ScChart) chart = sc_chart_new("t", "epoch", "accuracy");
  sc_chart_set_x_extent(chart, 1);
  guint s = sc_chart_add_series(chart, "baseline", 0, 0, 0);
  sc_chart_append(chart, s, 1, 0.5);
  ScRect area;
  ScAxis xa, ya;
  sc_chart_get_layout(chart, W, H, &area, &xa, &ya);
  g_assert_cmpfloat(xa.min, ==, 0.5);
  g_assert_cmpfloat(xa.max, ==, 1.5);
  double px, py;
  sc_chart_map(chart, W, H, 1, 0.5, &px, &py);
  g_assert_cmpfloat_with_epsilon(px, area.x + area.width / 2, 1e-9);
}

static void
test_layout_mapping(void)
{
  g_autoptr(ScChart) chart = three_series_chart();
  ScRect area;
  ScAxis xa, ya;
  sc_chart_get_layout(chart, W, H, &area, &xa, &ya);

  /* The plot area sits inside the drawing with room for labels. */
  g_assert_cmpfloat(area.x, >, 20);
  g_assert_cmpfloat(area.y, >, 10);
  g_assert_cmpfloat(area.x + area.width, <, W);
  g_assert_cmpfloat(area.y + area.height, <, H - 20);
  g_assert_cmpfloat(area.width, >, W * 0.75);
  g_assert_cmpfloat(area.height, >, H * 0.7);

  /* Forced from zero: y starts at 0, ends at a tick above the data. */
  g_assert_cmpfloat(ya.min, ==, 0.0);
  g_assert_cmpfloat(ya.max, >=, 0.25 + 0.4 + 0.08);
  g_assert_cmpfloat(ya.max, <=, 1.0);
  g_assert_cmpfloat(xa.min, ==, 1.0);
  g_assert_cmpfloat(xa.max, ==, 20.0);

  double px, py;
  sc_chart_map(chart, W, H, 1, 0, &px, &py);
  g_assert_cmpfloat_with_epsilon(px, area.x, 1e-9);
  g_assert_cmpfloat_with_epsilon(py, area.y + area.height, 1e-9);
  sc_chart_map(chart, W, H, 20, ya.max, &px, &py);
  g_assert_cmpfloat_with_epsilon(px, area.x + area.width, 1e-9);
  g_assert_cmpfloat_with_epsilon(py, area.y, 1e-9);
  /* Linear in between: epoch 10.5 is halfway across. */
  sc_chart_map(chart, W, H, 10.5, ya.max / 2, &px, &py);
  g_assert_cmpfloat_with_epsilon(px, area.x + area.width / 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(py, area.y + area.height / 2, 1e-9);

  /* Without forcing, the axis hugs the data instead. */
  sc_chart_set_y_from_zero(chart, FALSE);
  sc_chart_get_layout(chart, W, H, NULL, NULL, &ya);
  g_assert_cmpfloat(ya.min, >, 0.1);
  g_assert_cmpfloat(ya.min, <=, 0.254);
}

static void
test_layout_nan_does_not_poison(void)
{
  g_autoptr(ScChart) clean = sc_chart_new("Loss", "Epoch", "Loss");
  g_autoptr(ScChart) dirty = sc_chart_new("Loss", "Epoch", "Loss");
  sc_chart_add_series(clean, "a", 0, 0, 1);
  sc_chart_add_series(dirty, "a", 0, 0, 1);
  const double y[] = { 2.3, 1.9, 1.7, 1.6 };
  sc_chart_set_series_points(clean, 0, NULL, y, 4);
  sc_chart_set_series_points(dirty, 0, NULL, y, 4);
  /* NaN and Inf values, and an Inf epoch, must change nothing. */
  sc_chart_append(dirty, 0, 5, NAN);
  sc_chart_append(dirty, 0, 6, INFINITY);
  sc_chart_append(dirty, 0, 7, -INFINITY);
  sc_chart_append(dirty, 0, INFINITY, 100.0);
  sc_chart_append(dirty, 0, NAN, -100.0);
  g_assert_cmpuint(sc_chart_get_n_points(dirty, 0), ==, 9);

  ScRect ca, da;
  ScAxis cx, cy, dx, dy;
  sc_chart_get_layout(clean, W, H, &ca, &cx, &cy);
  sc_chart_get_layout(dirty, W, H, &da, &dx, &dy);
  g_assert_true(isfinite(dy.min) && isfinite(dy.max) && isfinite(dy.step));
  g_assert_cmpfloat(dy.min, ==, cy.min);
  g_assert_cmpfloat(dy.max, ==, cy.max);
  g_assert_cmpfloat(dx.max, ==, cx.max);
  g_assert_cmpfloat(da.x, ==, ca.x);
  g_assert_cmpfloat(da.width, ==, ca.width);
  /* 1.6 .. 2.3: loss axis not forced to zero. */
  g_assert_cmpfloat(dy.min, >, 1.0);

  /* A series holding only NaN behaves like no data. */
  g_autoptr(ScChart) nan_only = sc_chart_new(NULL, NULL, NULL);
  sc_chart_add_series(nan_only, "nan", 1, 0, 0);
  sc_chart_append(nan_only, 0, 1, NAN);
  ScAxis ny;
  sc_chart_get_layout(nan_only, W, H, NULL, NULL, &ny);
  g_assert_cmpfloat(ny.min, ==, 0.0);
  g_assert_cmpfloat_with_epsilon(ny.max, 1.0, 1e-12);
  g_assert_false(sc_chart_hit(nan_only, W, H, W / 2.0, H / 2.0, NULL, NULL, NULL, NULL));
}

static void
test_layout_extent_and_single_point(void)
{
  g_autoptr(ScChart) chart = sc_chart_new("Accuracy", "Epoch", "Accuracy");
  sc_chart_add_series(chart, "baseline", 0, 0, 1);
  sc_chart_append(chart, 0, 1, 0.42);
  ScAxis xa, ya;
  sc_chart_get_layout(chart, W, H, NULL, &xa, &ya);
  /* One epoch: x spans half an epoch either side, y is padded around the
   * value. */
  g_assert_cmpfloat(xa.min, ==, 0.5);
  g_assert_cmpfloat(xa.max, ==, 1.5);
  g_assert_cmpfloat(ya.min, <, 0.42);
  g_assert_cmpfloat(ya.max, >, 0.42);

  /* The planned 20 epochs fix the x axis before the data reach them. */
  sc_chart_set_x_extent(chart, 20);
  sc_chart_get_layout(chart, W, H, NULL, &xa, NULL);
  g_assert_cmpfloat(xa.max, ==, 20.0);
  sc_chart_set_x_extent(chart, NAN);
  sc_chart_get_layout(chart, W, H, NULL, &xa, NULL);
  g_assert_cmpfloat(xa.max, ==, 1.5);

  /* Clear keeps the series and drops the points. */
  sc_chart_clear(chart);
  g_assert_cmpuint(sc_chart_get_n_series(chart), ==, 1);
  g_assert_cmpuint(sc_chart_get_n_points(chart, 0), ==, 0);
  g_assert_cmpstr(sc_chart_get_series_name(chart, 0), ==, "baseline");
}

/* Two series crossing as an X reach all four corners of the plot. */
static ScChart *
crossing_chart(gboolean named)
{
  ScChart *chart = sc_chart_new("Loss", "Epoch", "Loss");
  sc_chart_add_series(chart, named ? "falling" : NULL, 0, 0, 1);
  sc_chart_add_series(chart, named ? "rising" : NULL, 1, 0, 0);
  for (guint e = 1; e <= 20; e++) {
    sc_chart_append(chart, 0, e, 3.0 - 0.1 * e);
    sc_chart_append(chart, 1, e, 1.0 + 0.1 * e);
  }
  return chart;
}

static void
test_layout_legend_placement(void)
{
  g_autoptr(ScChart) named = crossing_chart(TRUE);
  g_autoptr(ScChart) unnamed = crossing_chart(FALSE);
  ScRect with_legend, without_legend;

  /* Every corner would hide a curve: the legend moves out to the right and
   * the plot gives up the room, keeping its left edge. */
  sc_chart_get_layout(named, 400, 250, &with_legend, NULL, NULL);
  sc_chart_get_layout(unnamed, 400, 250, &without_legend, NULL, NULL);
  g_assert_cmpfloat(with_legend.x, ==, without_legend.x);
  g_assert_cmpfloat(with_legend.width, <, without_legend.width - 40);
  g_assert_cmpfloat(with_legend.width, >=, 400 * 0.4);

  /* With a free corner (only the falling curve) it stays inside. */
  g_autoptr(ScChart) one = sc_chart_new("Loss", "Epoch", "Loss");
  sc_chart_add_series(one, "falling", 0, 0, 1);
  for (guint e = 1; e <= 20; e++)
    sc_chart_append(one, 0, e, 3.0 - 0.1 * e);
  ScRect inside;
  sc_chart_get_layout(one, 400, 250, &inside, NULL, NULL);
  g_assert_cmpfloat(inside.width, ==, without_legend.width);
}

static void
test_hit_nearest(void)
{
  g_autoptr(ScChart) chart = three_series_chart();
  guint series, index;
  double x, y, px, py;

  /* Exactly on a point. */
  sc_chart_map(chart, W, H, 5, curve_value(2, 5), &px, &py);
  g_assert_true(sc_chart_hit(chart, W, H, px, py, &series, &index, &x, &y));
  g_assert_cmpuint(series, ==, 2);
  g_assert_cmpuint(index, ==, 4);
  g_assert_cmpfloat(x, ==, 5.0);
  g_assert_cmpfloat(y, ==, curve_value(2, 5));

  /* Between epochs 5 and 6 of series 0, a little nearer 6. */
  double p5x, p5y, p6x, p6y;
  sc_chart_map(chart, W, H, 5, curve_value(0, 5), &p5x, &p5y);
  sc_chart_map(chart, W, H, 6, curve_value(0, 6), &p6x, &p6y);
  g_assert_cmpfloat(p6x - p5x, <, 2 * SC_CHART_HIT_RADIUS_PX + 20);
  double mx = p5x + 0.7 * (p6x - p5x), my = p5y + 0.7 * (p6y - p5y);
  g_assert_cmpfloat(hypot(mx - p6x, my - p6y), <=, SC_CHART_HIT_RADIUS_PX);
  g_assert_true(sc_chart_hit(chart, W, H, mx, my, &series, &index, NULL, NULL));
  g_assert_cmpuint(series, ==, 0);
  g_assert_cmpuint(index, ==, 5);
  /* Between two series' points at one epoch: the nearer series wins. */
  double q0x, q0y, q1x, q1y;
  sc_chart_map(chart, W, H, 3, curve_value(0, 3), &q0x, &q0y);
  sc_chart_map(chart, W, H, 3, curve_value(1, 3), &q1x, &q1y);
  g_assert_true(sc_chart_hit(chart, W, H, q1x, q1y + 8, &series, &index, NULL, NULL));
  g_assert_cmpuint(series, ==, 1);
  g_assert_cmpuint(index, ==, 2);
  /* Just off a point, within the radius, in any direction. */
  g_assert_true(sc_chart_hit(chart, W, H, p6x + 5, p6y - 5, &series, &index, NULL, NULL));
  g_assert_cmpuint(series, ==, 0);
  g_assert_cmpuint(index, ==, 5);

  /* Far from all data, and where the NaN point would be: nothing. */
  g_assert_false(sc_chart_hit(chart, W, H, 5, 5, NULL, NULL, NULL, NULL));
  sc_chart_map(chart, W, H, 10, 0.5, &px, &py);
  g_assert_false(sc_chart_hit(chart, W, H, px, py, &series, &index, NULL, NULL));
  /* Just beyond the radius: nothing. */
  sc_chart_map(chart, W, H, 5, curve_value(2, 5), &px, &py);
  g_assert_false(sc_chart_hit(chart, W, H, px, py - SC_CHART_HIT_RADIUS_PX - 1, NULL, NULL,
                              NULL, NULL));
}

/* ---- Rendering, read back ---- */

typedef struct {
  cairo_surface_t *surface;
  int width;
  int height;
} ScImage;

static ScImage
render_png(const ScChart *chart, const char *name, int width, int height)
{
  g_autofree char *path = out_path(name);
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_chart_write_png(chart, path, width, height, &error));
  g_assert_no_error(error);

  ScImage img;
  img.surface = cairo_image_surface_create_from_png(path);
  g_assert_cmpint(cairo_surface_status(img.surface), ==, CAIRO_STATUS_SUCCESS);
  img.width = cairo_image_surface_get_width(img.surface);
  img.height = cairo_image_surface_get_height(img.surface);
  g_assert_cmpint(img.width, ==, width);
  g_assert_cmpint(img.height, ==, height);
  return img;
}

static void
pixel_rgb(const ScImage *img, double x, double y, double rgb[3])
{
  int ix = CLAMP((int)floor(x), 0, img->width - 1);
  int iy = CLAMP((int)floor(y), 0, img->height - 1);
  cairo_surface_flush(img->surface);
  const guint8 *data = cairo_image_surface_get_data(img->surface);
  int stride = cairo_image_surface_get_stride(img->surface);
  guint32 v = *(const guint32 *)(data + iy * stride + ix * 4);
  /* The chart paints an opaque background, so premultiplication is moot. */
  rgb[0] = ((v >> 16) & 0xff) / 255.0;
  rgb[1] = ((v >> 8) & 0xff) / 255.0;
  rgb[2] = (v & 0xff) / 255.0;
}

static gboolean
rgb_close(const double a[3], double r, double g, double b, double tol)
{
  return fabs(a[0] - r) <= tol && fabs(a[1] - g) <= tol && fabs(a[2] - b) <= tol;
}

/* Pixels in the rectangle that are not the white background. */
static guint
count_ink(const ScImage *img, int x0, int y0, int x1, int y1)
{
  guint n = 0;
  for (int y = y0; y < y1; y++) {
    for (int x = x0; x < x1; x++) {
      double rgb[3];
      pixel_rgb(img, x, y, rgb);
      n += !rgb_close(rgb, 1, 1, 1, 0.02);
    }
  }
  return n;
}

static void
assert_series_color_at(const ScImage *img, const ScChart *chart, guint series, double x,
                       double y)
{
  double px, py, r, g, b, rgb[3];
  sc_chart_map(chart, img->width, img->height, x, y, &px, &py);
  sc_chart_palette(series, &r, &g, &b);
  pixel_rgb(img, px, py, rgb);
  if (!rgb_close(rgb, r, g, b, 0.08))
    g_error("series %u at (%g, %g) -> pixel (%.1f, %.1f): found %.2f %.2f %.2f, "
            "expected %.2f %.2f %.2f", series, x, y, px, py, rgb[0], rgb[1], rgb[2], r, g, b);
}

static void
test_render_empty(void)
{
  g_autoptr(ScChart) chart = sc_chart_new("Validation loss", "Epoch", "Loss");
  sc_chart_add_series(chart, "baseline", 0, 0, 1);
  ScImage img = render_png(chart, "empty.png", W, H);

  /* Axes, labels and the "no data" note are drawn... */
  g_assert_cmpuint(count_ink(&img, 0, 0, W, H), >, 2000);
  ScRect area;
  sc_chart_get_layout(chart, W, H, &area, NULL, NULL);
  int cx = (int)(area.x + area.width / 2), cy = (int)(area.y + area.height / 2);
  g_assert_cmpuint(count_ink(&img, cx - 60, cy - 10, cx + 60, cy + 10), >, 50);
  /* ...and no curve: the series colour (pure blue) only in the legend's
   * short swatch, none in the left half of the plot. */
  guint blue = 0, blue_left = 0;
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) {
      double rgb[3];
      pixel_rgb(&img, x, y, rgb);
      gboolean is_blue = rgb[2] > 0.8 && rgb[0] < 0.3 && rgb[1] < 0.3;
      blue += is_blue;
      blue_left += is_blue && x < cx;
    }
  }
  g_assert_cmpuint(blue, >, 10);
  g_assert_cmpuint(blue, <, 200);
  g_assert_cmpuint(blue_left, ==, 0);
  cairo_surface_destroy(img.surface);
}

/* Reference lines alone are no measured data: the note stays, as on a
 * chart without them, until a measured point arrives. */
static ScChart *
reference_chart(gboolean measured)
{
  g_autoptr(ScChart) chart = sc_chart_new("Validation accuracy", "Epoch", "Accuracy");
  sc_chart_set_percent(chart, TRUE);
  sc_chart_set_y_from_zero(chart, TRUE);
  sc_chart_set_x_extent(chart, 5);
  sc_chart_add_series(chart, "baseline", 0, 0, 1);
  guint s = sc_chart_add_series(chart, "example", 0, 0, 1);
  sc_chart_set_series_style(chart, s, SC_LINE_DASHED);
  double x[2] = { 1, 5 }, y[2] = { 0.9, 0.9 };
  sc_chart_set_series_points(chart, s, x, y, 2);
  if (measured)
    sc_chart_append(chart, 0, 1, 0.9);
  return g_steal_pointer(&chart);
}

static void
test_render_reference_only(void)
{
  g_autoptr(ScChart) bare = reference_chart(FALSE);
  g_autoptr(ScChart) measured = reference_chart(TRUE);
  ScImage a = render_png(bare, "reference-only.png", W, H);
  ScImage b = render_png(measured, "reference-measured.png", W, H);
  ScRect area_a, area_b;
  sc_chart_get_layout(bare, W, H, &area_a, NULL, NULL);
  sc_chart_get_layout(measured, W, H, &area_b, NULL, NULL);
  g_assert_cmpfloat(area_a.y, ==, area_b.y);
  g_assert_cmpfloat(area_a.height, ==, area_b.height);
  int cx = (int)(area_a.x + area_a.width / 2), cy = (int)(area_a.y + area_a.height / 2);
  guint note = count_ink(&a, cx - 60, cy - 10, cx + 60, cy + 10);
  guint none = count_ink(&b, cx - 60, cy - 10, cx + 60, cy + 10);
  g_test_message("ink in the middle: %u with reference lines only, %u with a point", note,
                 none);
  g_assert_cmpuint(note, >, none + 50);
  cairo_surface_destroy(a.surface);
  cairo_surface_destroy(b.surface);
}

static void
test_render_one_point(void)
{
  g_autoptr(ScChart) chart = sc_chart_new("Validation accuracy", "Epoch", "Accuracy");
  double r, g, b;
  sc_chart_palette(0, &r, &g, &b);
  sc_chart_add_series(chart, "baseline", r, g, b);
  sc_chart_set_percent(chart, TRUE);
  sc_chart_set_y_from_zero(chart, TRUE);
  sc_chart_append(chart, 0, 1, 0.42);
  ScImage img = render_png(chart, "one-point.png", W, H);

  g_assert_cmpuint(count_ink(&img, 0, 0, W, H), >, 2000);
  /* A lone point is a dot in the series colour at its place. */
  assert_series_color_at(&img, chart, 0, 1, 0.42);
  cairo_surface_destroy(img.surface);
}

static void
check_three_series(const ScChart *chart, const ScImage *img)
{
  /* Sample points in the middle epochs (the legend takes a corner). */
  for (guint s = 0; s < 3; s++) {
    for (guint e = 3; e <= 13; e += 5) {
      if (isfinite(curve_value(s, e)))
        assert_series_color_at(img, chart, s, e, curve_value(s, e));
    }
  }
  /* Halfway between the points around the NaN: the line is broken, so
   * the pixel where it would pass is not the series colour. */
  double px, py, r, g, b, rgb[3];
  sc_chart_map(chart, img->width, img->height, 10, 0.5, &px, &py);
  sc_chart_palette(1, &r, &g, &b);
  pixel_rgb(img, px, py, rgb);
  g_assert_false(rgb_close(rgb, r, g, b, 0.3));
  /* While a quarter of the way from 8 to 9 (both finite) it is. */
  sc_chart_map(chart, img->width, img->height, 8.5, 0.5, &px, &py);
  pixel_rgb(img, px, py, rgb);
  g_assert_true(rgb_close(rgb, r, g, b, 0.08));
}

static void
test_render_three_series(void)
{
  g_autoptr(ScChart) chart = three_series_chart();
  ScImage img = render_png(chart, "three-series.png", W, H);
  g_assert_cmpuint(count_ink(&img, 0, 0, W, H), >, 5000);
  check_three_series(chart, &img);
  cairo_surface_destroy(img.surface);

  /* The small size keeps the same geometry contract. */
  img = render_png(chart, "three-series-small.png", 400, 250);
  check_three_series(chart, &img);
  cairo_surface_destroy(img.surface);
}

/* The app's accuracy chart in its narrow column: three measured runs that
 * reach all four corners of the plot and three dashed reference lines, so
 * no corner is free for the six-row legend. */
static ScChart *
crowded_chart(gboolean named)
{
  static const char *const names[6] = { "baseline", "pretraining (linear probe)", "finetuning",
                                         "STL-10 example: baseline", "STL-10 example: probe",
                                         "STL-10 example: finetune" };
  static const double reference[3] = { 0.6005, 0.5624, 0.6699 };
  ScChart *chart = sc_chart_new("Validation accuracy", "epoch", "accuracy");
  sc_chart_set_percent(chart, TRUE);
  sc_chart_set_y_from_zero(chart, TRUE);
  sc_chart_set_x_extent(chart, 10);
  for (guint s = 0; s < 6; s++) {
    double r, g, b;
    sc_chart_palette(s % 3, &r, &g, &b);
    sc_chart_add_series(chart, named ? names[s] : NULL, r, g, b);
  }
  for (guint e = 1; e <= 10; e++) {
    sc_chart_append(chart, 0, e, (e - 1) / 9.0);
    sc_chart_append(chart, 1, e, 1.0 - (e - 1) / 9.0);
    sc_chart_append(chart, 2, e, e == 1 ? 0.0 : e == 2 ? 0.6 : 1.0);
  }
  for (guint s = 3; s < 6; s++) {
    double x[2] = { 1, 10 }, y[2] = { reference[s - 3], reference[s - 3] };
    sc_chart_set_series_style(chart, s, SC_LINE_DASHED);
    sc_chart_set_series_points(chart, s, x, y, 2);
  }
  return chart;
}

static void
test_render_legend_never_hides_points(void)
{
  g_autoptr(ScChart) chart = crowded_chart(TRUE);
  g_autoptr(ScChart) unnamed = crowded_chart(FALSE);
  const int w = 285, h = 300;
  ScImage img = render_png(chart, "legend-crowded.png", w, h);
  ScImage bare = render_png(unnamed, "legend-crowded-unnamed.png", w, h);

  /* Every measured point shows a measured curve's own colour, not the
   * legend's pale box or text. */
  for (guint s = 0; s < 3; s++) {
    for (guint i = 0; i < sc_chart_get_n_points(chart, s); i++) {
      double x = i + 1, y = s == 0 ? i / 9.0 : s == 1 ? 1.0 - i / 9.0
                                   : i == 0 ? 0.0 : i == 1 ? 0.6 : 1.0;
      double px, py, rgb[3];
      sc_chart_map(chart, w, h, x, y, &px, &py);
      pixel_rgb(&img, px, py, rgb);
      gboolean measured = FALSE;
      for (guint c = 0; c < 3; c++) {
        double r, g, b;
        sc_chart_palette(c, &r, &g, &b);
        measured = measured || rgb_close(rgb, r, g, b, 0.08);
      }
      if (!measured)
        g_error("series %u point %u at pixel (%.1f, %.1f) is covered: %.2f %.2f %.2f", s, i,
                px, py, rgb[0], rgb[1], rgb[2]);
    }
  }

  /* The legend is still drawn, outside the plot: the plot gave up room and
   * there is more ink outside it than without a legend. */
  ScRect area, bare_area;
  sc_chart_get_layout(chart, w, h, &area, NULL, NULL);
  sc_chart_get_layout(unnamed, w, h, &bare_area, NULL, NULL);
  g_assert_cmpfloat(area.width * area.height, <, bare_area.width * bare_area.height * 0.9);
  g_assert_cmpfloat(area.height, >=, h * 0.3);
  int ay1 = (int)ceil(area.y + area.height) + 1;
  g_assert_cmpuint(count_ink(&img, 0, ay1, w, h), >, count_ink(&bare, 0, ay1, w, h) + 300);
  cairo_surface_destroy(img.surface);
  cairo_surface_destroy(bare.surface);
}

static void
test_render_constant_and_faint(void)
{
  g_autoptr(ScChart) chart = sc_chart_new("Validation loss", "Epoch", "Loss");
  double r, g, b;
  sc_chart_palette(2, &r, &g, &b);
  sc_chart_add_series(chart, "constant", r, g, b);
  for (guint e = 1; e <= 20; e++)
    sc_chart_append(chart, 0, e, 0.5);
  /* A dashed reference curve, shorter, drawn faint underneath. */
  guint faint = sc_chart_add_series(chart, "train (reference)", 0.8, 0.2, 0.2);
  sc_chart_set_series_style(chart, faint, SC_LINE_DASHED);
  for (guint e = 1; e <= 7; e++)
    sc_chart_append(chart, faint, e, 0.46 + 0.003 * e);

  ScAxis ya;
  ScRect area;
  sc_chart_get_layout(chart, W, H, &area, NULL, &ya);
  g_assert_cmpfloat(ya.min, <=, 0.463);
  g_assert_cmpfloat(ya.max, >, 0.5);

  ScImage img = render_png(chart, "constant.png", W, H);
  for (guint e = 3; e <= 15; e += 4) {
    double px, py, rgb[3];
    sc_chart_map(chart, W, H, e, 0.5, &px, &py);
    /* Strictly inside the plot, not on its top or bottom edge. */
    g_assert_cmpfloat(py, >, area.y + 5);
    g_assert_cmpfloat(py, <, area.y + area.height - 5);
    pixel_rgb(&img, px, py, rgb);
    g_assert_true(rgb_close(rgb, r, g, b, 0.08));
  }
  /* The faint curve is lighter than its colour: blended with white. */
  double px, py, rgb[3];
  sc_chart_map(chart, W, H, 4, 0.46 + 0.012, &px, &py);
  pixel_rgb(&img, px, py, rgb);
  g_assert_cmpfloat(rgb[0], >, 0.8);
  g_assert_cmpfloat(rgb[1], >, 0.4);
  g_assert_cmpfloat(rgb[1], <, 0.95);
  cairo_surface_destroy(img.surface);
}

/* Two runs with the very same curve (both at chance, say): the one drawn
 * first is wider, so both colours show across the line. */
static void
test_render_identical_curves(void)
{
  g_autoptr(ScChart) chart = sc_chart_new("Validation accuracy", "epoch", "accuracy");
  for (guint s = 0; s < 3; s++) {
    double r, g, b;
    sc_chart_palette(s, &r, &g, &b);
    sc_chart_add_series(chart, NULL, r, g, b);
  }
  for (guint e = 1; e <= 10; e++) {
    sc_chart_append(chart, 0, e, 0.1);
    sc_chart_append(chart, 1, e, 0.1);
    sc_chart_append(chart, 2, e, 0.2 + 0.05 * e);
  }
  ScImage img = render_png(chart, "identical.png", W, H);
  double px, py;
  sc_chart_map(chart, W, H, 5.5, 0.1, &px, &py);
  /* A column across the shared line, between two points. */
  gboolean seen[2] = { FALSE, FALSE };
  for (int dy = -12; dy <= 12; dy++) {
    double rgb[3];
    pixel_rgb(&img, px, py + dy, rgb);
    for (guint s = 0; s < 2; s++) {
      double r, g, b;
      sc_chart_palette(s, &r, &g, &b);
      seen[s] = seen[s] || rgb_close(rgb, r, g, b, 0.08);
    }
  }
  g_assert_true(seen[0]);
  g_assert_true(seen[1]);
  /* The last curve keeps the usual width: on it, its own colour. */
  assert_series_color_at(&img, chart, 2, 5.5, 0.2 + 0.05 * 5.5);
  cairo_surface_destroy(img.surface);
}

static void
test_render_highlight(void)
{
  g_autoptr(ScChart) chart = three_series_chart();
  ScImage plain = render_png(chart, "highlight-off.png", W, H);
  sc_chart_set_highlight(chart, 0, 4);
  ScImage marked = render_png(chart, "highlight-on.png", W, H);

  double px, py;
  sc_chart_map(chart, W, H, 5, curve_value(0, 5), &px, &py);
  /* Something is drawn around the point (its ring and value label). */
  g_assert_cmpuint(count_ink(&marked, (int)px - 12, (int)py - 40, (int)px + 120, (int)py),
                   >, count_ink(&plain, (int)px - 12, (int)py - 40, (int)px + 120, (int)py)
                        + 100);
  /* And nothing else changes: every differing pixel is near the point. */
  guint far_changes = 0;
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) {
      double a[3], b[3];
      pixel_rgb(&plain, x, y, a);
      pixel_rgb(&marked, x, y, b);
      gboolean near = x > px - 20 && x < px + 260 && y > py - 50 && y < py + 50;
      far_changes += !near && !rgb_close(a, b[0], b[1], b[2], 0.01);
    }
  }
  g_assert_cmpuint(far_changes, ==, 0);
  cairo_surface_destroy(plain.surface);
  cairo_surface_destroy(marked.surface);
}

/* ---- Files ---- */

static void
test_svg(void)
{
  g_autoptr(ScChart) chart = three_series_chart();
  g_autofree char *path = out_path("three-series.svg");
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_chart_write_svg(chart, path, W, H, &error));
  g_assert_no_error(error);

  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &text, &len, &error));
  g_assert_true(g_str_has_prefix(text, "<?xml") || g_str_has_prefix(text, "<svg"));
  g_assert_nonnull(strstr(text, "<path"));
  g_assert_nonnull(strstr(text, "width=\"800"));
  g_assert_nonnull(strstr(text, "</svg>"));
}

static void
test_write_errors(void)
{
  g_autoptr(ScChart) chart = three_series_chart();
  g_autoptr(GError) error = NULL;

  g_autofree char *missing = g_build_filename(out_dir, "no-such-folder", "chart.png", NULL);
  g_assert_false(sc_chart_write_png(chart, missing, W, H, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull(strstr(error->message, missing));
  /* The file asked for and why, never the temporary file's name. */
  g_autofree char *temporary = g_strconcat(missing, ".", NULL);
  g_assert_null(strstr(error->message, temporary));
  g_assert_nonnull(strstr(error->message, "does not exist"));
  g_clear_error(&error);

  g_assert_false(sc_chart_write_svg(chart, missing, W, H, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull(strstr(error->message, missing));
  g_clear_error(&error);

  g_autofree char *path = out_path("bad-size.png");
  g_assert_false(sc_chart_write_png(chart, path, 0, H, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, "0x500"));
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_clear_error(&error);

  /* A folder in the way of the rename: error, and no temporary left. */
  g_autofree char *dir_path = out_path("a-folder.png");
  g_assert_cmpint(g_mkdir(dir_path, 0755), ==, 0);
  g_assert_false(sc_chart_write_png(chart, dir_path, W, H, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, dir_path));
  g_assert_nonnull(strstr(error->message, "is a folder"));
  g_clear_error(&error);
  g_autoptr(GDir) dir = g_dir_open(out_dir, 0, NULL);
  for (const char *name; (name = g_dir_read_name(dir)) != NULL;)
    g_assert_false(g_str_has_prefix(name, "a-folder.png."));
  g_rmdir(dir_path);
}

static void
test_write_replaces_atomically(void)
{
  g_autoptr(ScChart) chart = three_series_chart();
  g_autoptr(GError) error = NULL;
  g_autofree char *sub = out_path("atomic");
  g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
  g_autofree char *path = g_build_filename(sub, "accuracy.png", NULL);

  g_assert_true(g_file_set_contents(path, "old", -1, &error));
  g_assert_true(sc_chart_write_png(chart, path, 400, 250, &error));
  g_assert_no_error(error);

  /* The old file is replaced by a PNG, and it is the only file there. */
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &text, &len, &error));
  g_assert_cmpuint(len, >, 1000);
  g_assert_cmpmem(text, 8, "\x89PNG\r\n\x1a\n", 8);
  g_autoptr(GDir) dir = g_dir_open(sub, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(g_dir_read_name(dir), ==, "accuracy.png");
  g_assert_null(g_dir_read_name(dir));
  g_unlink(path);
  g_rmdir(sub);
}

static void
remove_out_dir(void)
{
  g_autoptr(GDir) dir = g_dir_open(out_dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = out_path(name);
    g_unlink(path);
  }
  g_rmdir(out_dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  const char *keep = g_getenv("SC_PLOT_TEST_OUTDIR");
  if (keep != NULL && keep[0] != '\0') {
    g_mkdir_with_parents(keep, 0755);
    out_dir = g_strdup(keep);
    keep_out_dir = TRUE;
  } else {
    g_autoptr(GError) error = NULL;
    out_dir = g_dir_make_tmp("test-plot-XXXXXX", &error);
    g_assert_no_error(error);
  }

  g_test_add_func("/Plot/Ticks/nice-step", test_nice_step);
  g_test_add_func("/Plot/Ticks/unit-range", test_ticks_unit_range);
  g_test_add_func("/Plot/Ticks/odd-range", test_ticks_odd_range);
  g_test_add_func("/Plot/Ticks/constant", test_ticks_constant);
  g_test_add_func("/Plot/Ticks/epochs", test_ticks_epochs);
  g_test_add_func("/Plot/Range/skips-nan", test_range_skips_nan);
  g_test_add_func("/Plot/Layout/mapping", test_layout_mapping);
  g_test_add_func("/Plot/Layout/nan", test_layout_nan_does_not_poison);
  g_test_add_func("/Plot/Layout/single-point", test_layout_extent_and_single_point);
  g_test_add_func("/Plot/Layout/legend", test_layout_legend_placement);
  g_test_add_func("/Plot/Hit/nearest", test_hit_nearest);
  g_test_add_func("/Plot/Render/empty", test_render_empty);
  g_test_add_func("/Plot/Render/one-point", test_render_one_point);
  g_test_add_func("/Plot/Render/reference-only", test_render_reference_only);
  g_test_add_func("/Plot/Render/three-series", test_render_three_series);
  g_test_add_func("/Plot/Render/legend-never-hides-points",
                  test_render_legend_never_hides_points);
  g_test_add_func("/Plot/Render/constant", test_render_constant_and_faint);
  g_test_add_func("/Plot/Render/identical-curves", test_render_identical_curves);
  g_test_add_func("/Plot/Render/highlight", test_render_highlight);
  g_test_add_func("/Plot/Write/svg", test_svg);
  g_test_add_func("/Plot/Layout/single-epoch", test_single_epoch);
  g_test_add_func("/Plot/Write/errors", test_write_errors);
  g_test_add_func("/Plot/Write/atomic", test_write_replaces_atomically);

  int status = g_test_run();
  if (!keep_out_dir)
    remove_out_dir();
  g_free(out_dir);
  return status;
}
