/* SimclrStudioPreview: checks the figure once per change (rendering it at
 * 1:1, which tests read back) and draws it at the scale that fits. */
#include "simclr-studio-preview.h"

#include <math.h>

struct _SimclrStudioPreview {
  GtkWidget parent_instance;

  GBytes *images;          /* (8, h, w, c) uint8 */
  ScPreviewSpec spec;      /* images points into `images` */
  cairo_surface_t *figure; /* NULL until drawn after a change */
  char *error;
};

G_DEFINE_FINAL_TYPE(SimclrStudioPreview, simclr_studio_preview, GTK_TYPE_WIDGET)

#define EMPTY_WIDTH_PX 320
#define EMPTY_HEIGHT_PX 140
#define MAX_SCALE 3.0

/* Drops the rendered figure; a new size only when the cells change. */
static void
invalidate(SimclrStudioPreview *self, gboolean size_changed)
{
  g_clear_pointer(&self->figure, cairo_surface_destroy);
  g_clear_pointer(&self->error, g_free);
  if (size_changed)
    gtk_widget_queue_resize(GTK_WIDGET(self));
  else
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

cairo_surface_t *
simclr_studio_preview_get_figure(SimclrStudioPreview *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_PREVIEW(self), NULL);
  if (self->figure != NULL || self->error != NULL || self->images == NULL)
    return self->figure;
  g_autoptr(GError) error = NULL;
  self->figure = sc_preview_render(&self->spec, &error);
  if (self->figure == NULL)
    self->error = g_strdup(error->message);
  return self->figure;
}

const char *
simclr_studio_preview_get_error(SimclrStudioPreview *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_PREVIEW(self), NULL);
  return self->error;
}

static void
figure_size(SimclrStudioPreview *self, int *width, int *height)
{
  *width = EMPTY_WIDTH_PX;
  *height = EMPTY_HEIGHT_PX;
  if (self->images != NULL && sc_preview_spec_validate(&self->spec, NULL))
    sc_preview_figure_size(&self->spec, width, height);
}

/* The largest scale that fits, in half steps from 1 (below 1 only when even
 * 1:1 does not fit), at most MAX_SCALE. */
static double
fit_scale(int fig_w, int fig_h, int width, int height)
{
  double scale = MIN((double)width / fig_w, (double)height / fig_h);
  return scale >= 1.0 ? MIN(floor(scale * 2.0) / 2.0, MAX_SCALE) : scale;
}

static void
simclr_studio_preview_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
  SimclrStudioPreview *self = SIMCLR_STUDIO_PREVIEW(widget);
  int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
  if (simclr_studio_preview_get_figure(self) == NULL || width <= 0 || height <= 0)
    return;
  int fig_w, fig_h;
  sc_preview_figure_size(&self->spec, &fig_w, &fig_h);
  double scale = fit_scale(fig_w, fig_h, width, height);
  double x = floor((width - fig_w * scale) / 2);

  /* Drawn at the scale rather than enlarged: cells stay sharp (nearest
   * filtering) and the row labels are set at the larger size. */
  cairo_t *cr = gtk_snapshot_append_cairo(
    snapshot, &GRAPHENE_RECT_INIT(x, 0, fig_w * scale, fig_h * scale));
  cairo_translate(cr, x, 0);
  cairo_scale(cr, scale, scale);
  g_autoptr(GError) error = NULL;
  if (!sc_preview_draw(&self->spec, cr, &error))
    g_warning("Failed to draw the augmentation preview: %s", error->message);
  cairo_destroy(cr);
}

static GtkSizeRequestMode
simclr_studio_preview_get_request_mode(GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
simclr_studio_preview_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                              int *minimum, int *natural, int *minimum_baseline,
                              int *natural_baseline)
{
  SimclrStudioPreview *self = SIMCLR_STUDIO_PREVIEW(widget);
  int fig_w, fig_h;
  figure_size(self, &fig_w, &fig_h);
  if (orientation == GTK_ORIENTATION_HORIZONTAL) {
    /* Shrinks to half size at most; natural at twice the pixels. */
    *minimum = fig_w / 2;
    *natural = 2 * fig_w;
    return;
  }
  /* Height follows the scale the width allows (the natural width's when
   * the width is not known yet). */
  double scale = fit_scale(fig_w, fig_h, for_size > 0 ? for_size : 2 * fig_w, G_MAXINT);
  *minimum = *natural = (int)ceil(fig_h * scale);
}

static void
simclr_studio_preview_finalize(GObject *object)
{
  SimclrStudioPreview *self = SIMCLR_STUDIO_PREVIEW(object);
  g_clear_pointer(&self->figure, cairo_surface_destroy);
  g_clear_pointer(&self->images, g_bytes_unref);
  g_clear_pointer(&self->error, g_free);
  G_OBJECT_CLASS(simclr_studio_preview_parent_class)->finalize(object);
}

static void
simclr_studio_preview_class_init(SimclrStudioPreviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->finalize = simclr_studio_preview_finalize;
  widget_class->snapshot = simclr_studio_preview_snapshot;
  widget_class->measure = simclr_studio_preview_measure;
  widget_class->get_request_mode = simclr_studio_preview_get_request_mode;
  gtk_widget_class_set_css_name(widget_class, "augmentpreview");
  gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
simclr_studio_preview_init(SimclrStudioPreview *self)
{
  self->spec = (ScPreviewSpec){ .out_size = 32, .weak = SC_AUGMENT_WEAK,
                                .strong = SC_AUGMENT_STRONG, .seed = 42 };
  gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                 "Augmentation preview: originals, one weak view and "
                                 "two strong views of eight images", -1);
}

GtkWidget *
simclr_studio_preview_new(void)
{
  return g_object_new(SIMCLR_STUDIO_TYPE_PREVIEW, NULL);
}

void
simclr_studio_preview_set_images(SimclrStudioPreview *self, const guint8 *images, int h,
                                 int w, int c)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PREVIEW(self));
  g_clear_pointer(&self->images, g_bytes_unref);
  self->spec.images = NULL;
  if (images != NULL) {
    self->images = g_bytes_new(images, (size_t)SC_PREVIEW_COLUMNS * h * w * c);
    self->spec.images = g_bytes_get_data(self->images, NULL);
  }
  self->spec.h = h;
  self->spec.w = w;
  self->spec.c = c;
  invalidate(self, TRUE);
}

void
simclr_studio_preview_set_strengths(SimclrStudioPreview *self, const ScAugmentStrength *weak,
                                    const ScAugmentStrength *strong)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PREVIEW(self));
  self->spec.weak = *weak;
  self->spec.strong = *strong;
  invalidate(self, FALSE);
}

void
simclr_studio_preview_set_out_size(SimclrStudioPreview *self, int out_size)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PREVIEW(self));
  self->spec.out_size = out_size;
  invalidate(self, TRUE);
}

void
simclr_studio_preview_set_seed(SimclrStudioPreview *self, guint64 seed)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PREVIEW(self));
  self->spec.seed = seed;
  invalidate(self, FALSE);
}
