/* Measures how long the main loop goes without running a short periodic
 * timer: the longest gap between two ticks, less the period, is the longest
 * stall a user would feel as a frozen window. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SimclrStudioStallMeter SimclrStudioStallMeter;

/* Starts ticking every period_ms on the default main context. */
SimclrStudioStallMeter *simclr_studio_stall_meter_new(guint period_ms);
void simclr_studio_stall_meter_free(SimclrStudioStallMeter *meter);

/* Longest stall so far, in milliseconds (gap minus period, at least 0). */
double simclr_studio_stall_meter_get_max_ms(const SimclrStudioStallMeter *meter);
guint64 simclr_studio_stall_meter_get_n_ticks(const SimclrStudioStallMeter *meter);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimclrStudioStallMeter, simclr_studio_stall_meter_free)

G_END_DECLS
