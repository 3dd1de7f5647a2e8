/* A widget showing one ScChart (training curves) drawn live with cairo,
 * with the value under the pointer highlighted. */
#pragma once

#include <gtk/gtk.h>

#include "sc-chart.h"

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_CHART_VIEW (simclr_studio_chart_view_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioChartView, simclr_studio_chart_view, SIMCLR_STUDIO,
                     CHART_VIEW, GtkWidget)

GtkWidget *simclr_studio_chart_view_new(void);

/* Replaces the chart the view draws; the view takes ownership. */
void simclr_studio_chart_view_set_chart(SimclrStudioChartView *self, ScChart *chart);
/* The chart the view draws (owned by the view). Call
 * simclr_studio_chart_view_changed() after changing it. */
ScChart *simclr_studio_chart_view_get_chart(SimclrStudioChartView *self);
void simclr_studio_chart_view_changed(SimclrStudioChartView *self);

G_END_DECLS
