/* The stall meter (see the header). */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "simclr-studio-stall-meter.h"

#ifdef __linux__
#include <sys/resource.h>
#endif

struct _SimclrStudioStallMeter {
  guint source_id;
  gint64 last_cpu_usec; /* the main thread's CPU time at the last tick */
  guint period_ms;
  gint64 last_tick_usec;
  gint64 max_gap_usec;
  guint64 n_ticks;
};

/* CPU time of the calling thread: tells a stall the UI caused (busy) from
 * one the system caused (the thread waited for a CPU). */
static gint64
thread_cpu_usec(void)
{
#ifdef __linux__
  struct rusage usage;
  if (getrusage(RUSAGE_THREAD, &usage) == 0)
    return (gint64)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_USEC_PER_SEC
           + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
#endif
  return 0;
}

static gboolean
tick_cb(gpointer data)
{
  SimclrStudioStallMeter *meter = data;
  gint64 now = g_get_monotonic_time(), cpu = thread_cpu_usec();
  gint64 gap_usec = now - meter->last_tick_usec;
  if (gap_usec > 4 * 1000 * (gint64)meter->period_ms)
    g_debug("Main loop stalled for %.1f ms (main thread busy for %.1f ms of it)",
            gap_usec / 1000.0 - meter->period_ms, (cpu - meter->last_cpu_usec) / 1000.0);
  meter->last_cpu_usec = cpu;
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
  meter->last_cpu_usec = thread_cpu_usec();
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
