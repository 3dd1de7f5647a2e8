/* Chart arithmetic: ranges, nice ticks, the data-to-unit map. */
#include "sc-chart-math.h"

#include <math.h>

/* Relative slack for floor/ceil on step multiples: 0.6 / 0.2 is 2.9999..., not 3. */
#define STEP_EPS 1e-9

ScRange
sc_range_empty(void)
{
  return (ScRange){ .min = INFINITY, .max = -INFINITY };
}

gboolean
sc_range_is_empty(ScRange range)
{
  return !(range.min <= range.max);
}

void
sc_range_include(ScRange *range, double v)
{
  g_return_if_fail(range != NULL);

  if (!isfinite(v))
    return;
  range->min = MIN(range->min, v);
  range->max = MAX(range->max, v);
}

ScRange
sc_range_pad(ScRange range)
{
  if (sc_range_is_empty(range))
    return range;

  /* Narrower than rounding noise: treat as one value. */
  double magnitude = MAX(fabs(range.min), fabs(range.max));
  double span = range.max - range.min;
  if (span > magnitude * 1e-9 && span > 1e-300)
    return range;

  double centre = range.min / 2 + range.max / 2;
  double pad = centre != 0 ? fabs(centre) * 0.1 : 1.0;
  return (ScRange){ .min = centre - pad, .max = centre + pad };
}

double
sc_nice_step(double span, guint target_ticks)
{
  g_return_val_if_fail(target_ticks > 0, 1.0);

  double raw = span / target_ticks;
  if (!(raw > 0) || !isfinite(raw))
    return 1.0;

  /* raw = f x 10^k with 1 <= f < 10; round f up to 1, 2, 5 or 10. */
  double magnitude = pow(10.0, floor(log10(raw)));
  double f = raw / magnitude;
  double nice;
  if (f <= 1.0 + STEP_EPS)
    nice = 1.0;
  else if (f <= 2.0 + STEP_EPS)
    nice = 2.0;
  else if (f <= 5.0 + STEP_EPS)
    nice = 5.0;
  else
    nice = 10.0;
  return nice * magnitude;
}

static guint
decimals_for_step(double step)
{
  if (step >= 1.0)
    return 0;
  return (guint)CLAMP(ceil(-log10(step) - STEP_EPS), 0, 12);
}

void
sc_axis_nice(ScAxis *axis, double min, double max, guint target_ticks)
{
  g_return_if_fail(axis != NULL);
  g_return_if_fail(isfinite(min) && isfinite(max) && min < max);
  g_return_if_fail(target_ticks > 0);

  /* Divide before subtracting so that +-1e308 does not overflow. */
  double step = sc_nice_step(max / target_ticks - min / target_ticks, 1);
  double lo_k = floor(min / step + STEP_EPS);
  double hi_k = ceil(max / step - STEP_EPS);
  if (hi_k <= lo_k)
    hi_k = lo_k + 1;
  /* The rounding rule keeps the count near target; guard the array anyway. */
  while (hi_k - lo_k + 1 > SC_AXIS_MAX_TICKS) {
    step = sc_nice_step(step * 1.5, 1);
    lo_k = floor(min / step + STEP_EPS);
    hi_k = ceil(max / step - STEP_EPS);
  }

  axis->step = step;
  axis->min = lo_k * step;
  axis->max = hi_k * step;
  axis->n_ticks = (guint)(hi_k - lo_k) + 1;
  for (guint i = 0; i < axis->n_ticks; i++) {
    double v = (lo_k + i) * step;
    /* 0.1 * 3 - 0.3 style noise must not print as -0.0. */
    axis->ticks[i] = fabs(v) < step * 1e-6 ? 0.0 : v;
  }
  axis->decimals = decimals_for_step(step);
}

void
sc_axis_epochs(ScAxis *axis, double min, double max, guint target_ticks)
{
  g_return_if_fail(axis != NULL);
  g_return_if_fail(isfinite(min) && isfinite(max) && min < max);
  g_return_if_fail(target_ticks > 0);

  double step = MAX(1.0, sc_nice_step(max - min, target_ticks));
  double first = ceil(min - STEP_EPS);
  for (;;) {
    axis->n_ticks = 0;
    axis->ticks[axis->n_ticks++] = first;
    /* Multiples of the step after the first epoch, unless one sits so close
     * to it that their labels would touch (5 after 4, say). */
    double k = floor(first / step) + 1;
    for (; k * step <= max + STEP_EPS && axis->n_ticks < SC_AXIS_MAX_TICKS; k++) {
      if (k * step - first >= step / 2)
        axis->ticks[axis->n_ticks++] = k * step;
    }
    if (k * step > max + STEP_EPS)
      break;
    step = sc_nice_step(step * 1.5, 1);
  }
  axis->min = min;
  axis->max = max;
  axis->step = step;
  axis->decimals = 0;
}

char *
sc_axis_format(const ScAxis *axis, double v, gboolean percent)
{
  g_return_val_if_fail(axis != NULL, NULL);

  if (fabs(v) < axis->step * 1e-6)
    v = 0.0;
  if (percent) {
    guint decimals = axis->decimals > 2 ? axis->decimals - 2 : 0;
    return g_strdup_printf("%.*f%%", (int)decimals, v * 100.0);
  }
  /* Beyond seven digits fixed notation stops being readable. */
  if (fabs(v) >= 1e7)
    return g_strdup_printf("%.3g", v);
  return g_strdup_printf("%.*f", (int)axis->decimals, v);
}

double
sc_axis_unit(const ScAxis *axis, double v)
{
  g_return_val_if_fail(axis != NULL, 0.0);

  if (!(axis->max > axis->min))
    return 0.5;
  return (v - axis->min) / (axis->max - axis->min);
}

void
sc_rect_map_unit(const ScRect *area, double ux, double uy, double *px, double *py)
{
  g_return_if_fail(area != NULL);

  if (px != NULL)
    *px = area->x + ux * area->width;
  if (py != NULL)
    *py = area->y + (1.0 - uy) * area->height;
}
