/* The stall meter (see the header). */
#include "simclr-studio-stall-meter.h"

struct _SimclrStudioStallMeter {
  guint source_id;
  guint period_ms;
  gint64 last_tick_usec;
  gint64 max_gap_usec;
  guint64 n_ticks;
};

static gboolean
tick_cb(gpointer data)
{
  SimclrStudioStallMeter *meter = data;
  gint64 now = g_get_monotonic_time();
  gint64 gap_usec = now - meter->last_tick_usec;
  if (gap_usec > 4 * 1000 * (gint64)meter->period_ms)
    g_debug("Main loop stalled for %.1f ms", gap_usec / 1000.0 - meter->period_ms);
  meter->max_gap_usec = MAX(meter->max_gap_usec, gap_usec);
  meter->last_tick_usec = now;
  meter->n_ticks++;
  return G_SOURCE_CONTINUE;
}

SimclrStudioStallMeter *
simclr_studio_stall_meter_new(guint period_ms)
{
  g_return_val_if_fail(period_ms > 0, NULL);
  SimclrStudioStallMeter *meter = g_new0(SimclrStudioStallMeter, 1);
  meter->period_ms = period_ms;
  meter->last_tick_usec = g_get_monotonic_time();
  /* Above idle and redraw priority so a busy UI shows up as a stall, not as
   * a starved timer. */
  meter->source_id = g_timeout_add_full(G_PRIORITY_HIGH, period_ms, tick_cb, meter, NULL);
  g_source_set_name_by_id(meter->source_id, "[simclr-studio] stall meter");
  return meter;
}

void
simclr_studio_stall_meter_free(SimclrStudioStallMeter *meter)
{
  if (meter == NULL)
    return;
  g_source_remove(meter->source_id);
  g_free(meter);
}

double
simclr_studio_stall_meter_get_max_ms(const SimclrStudioStallMeter *meter)
{
  double gap_ms = meter->max_gap_usec / 1000.0;
  return MAX(0.0, gap_ms - meter->period_ms);
}

guint64
simclr_studio_stall_meter_get_n_ticks(const SimclrStudioStallMeter *meter)
{
  return meter->n_ticks;
}
