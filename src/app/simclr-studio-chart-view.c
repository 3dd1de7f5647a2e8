/* SimclrStudioChartView: draws its ScChart into a cairo node each frame
 * and highlights the point nearest to the pointer. */
#include "simclr-studio-chart-view.h"

struct _SimclrStudioChartView {
  GtkWidget parent_instance;

  ScChart *chart;
  int hit_series; /* highlighted point, -1 for none */
  int hit_index;
};

G_DEFINE_FINAL_TYPE(SimclrStudioChartView, simclr_studio_chart_view, GTK_TYPE_WIDGET)

#define MIN_WIDTH_PX 240
#define MIN_HEIGHT_PX 160
#define NATURAL_WIDTH_PX 480
#define NATURAL_HEIGHT_PX 300

static void
set_highlight(SimclrStudioChartView *self, int series, int index)
{
  if (series == self->hit_series && index == self->hit_index)
    return;
  self->hit_series = series;
  self->hit_index = index;
  sc_chart_set_highlight(self->chart, series, index);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void
motion_cb(GtkEventControllerMotion *motion, double x, double y,
          SimclrStudioChartView *self)
{
  GtkWidget *widget = GTK_WIDGET(self);
  double w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  guint series, index;
  if (sc_chart_hit(self->chart, w, h, x, y, &series, &index, NULL, NULL))
    set_highlight(self, (int)series, (int)index);
  else
    set_highlight(self, -1, -1);
}

static void
leave_cb(GtkEventControllerMotion *motion, SimclrStudioChartView *self)
{
  set_highlight(self, -1, -1);
}

static void
simclr_studio_chart_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
  SimclrStudioChartView *self = SIMCLR_STUDIO_CHART_VIEW(widget);
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (w <= 0 || h <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
  sc_chart_draw(self->chart, cr, w, h);
  cairo_destroy(cr);
}

static void
simclr_studio_chart_view_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                 int *minimum, int *natural, int *minimum_baseline,
                                 int *natural_baseline)
{
  gboolean horizontal = orientation == GTK_ORIENTATION_HORIZONTAL;
  *minimum = horizontal ? MIN_WIDTH_PX : MIN_HEIGHT_PX;
  *natural = horizontal ? NATURAL_WIDTH_PX : NATURAL_HEIGHT_PX;
}

static void
simclr_studio_chart_view_finalize(GObject *object)
{
  SimclrStudioChartView *self = SIMCLR_STUDIO_CHART_VIEW(object);
  g_clear_pointer(&self->chart, sc_chart_free);
  G_OBJECT_CLASS(simclr_studio_chart_view_parent_class)->finalize(object);
}

static void
simclr_studio_chart_view_class_init(SimclrStudioChartViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->finalize = simclr_studio_chart_view_finalize;
  widget_class->snapshot = simclr_studio_chart_view_snapshot;
  widget_class->measure = simclr_studio_chart_view_measure;
  gtk_widget_class_set_css_name(widget_class, "chartview");
  gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
simclr_studio_chart_view_init(SimclrStudioChartView *self)
{
  self->chart = sc_chart_new(NULL, NULL, NULL);
  self->hit_series = -1;
  self->hit_index = -1;
  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(motion_cb), self);
  g_signal_connect(motion, "leave", G_CALLBACK(leave_cb), self);
  gtk_widget_add_controller(GTK_WIDGET(self), motion);
}

GtkWidget *
simclr_studio_chart_view_new(void)
{
  return g_object_new(SIMCLR_STUDIO_TYPE_CHART_VIEW, NULL);
}

void
simclr_studio_chart_view_set_chart(SimclrStudioChartView *self, ScChart *chart)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_CHART_VIEW(self));
  g_return_if_fail(chart != NULL);
  sc_chart_free(self->chart);
  self->chart = chart;
  self->hit_series = self->hit_index = -1;
  gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                 "Chart of training curves", -1);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

ScChart *
simclr_studio_chart_view_get_chart(SimclrStudioChartView *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_CHART_VIEW(self), NULL);
  return self->chart;
}

void
simclr_studio_chart_view_changed(SimclrStudioChartView *self)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_CHART_VIEW(self));
  /* A highlighted point may be gone after the data changed. */
  if (self->hit_series >= 0
      && (guint)self->hit_series < sc_chart_get_n_series(self->chart)
      && (guint)self->hit_index >= sc_chart_get_n_points(self->chart, self->hit_series))
    set_highlight(self, -1, -1);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}
