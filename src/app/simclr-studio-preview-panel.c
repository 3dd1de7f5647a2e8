/* SimclrStudioPreviewPanel: picks the images and follows the settings. */
#include "simclr-studio-preview-panel.h"

#include "preview.h"
#include "simclr-studio-settings.h"

struct _SimclrStudioPreviewPanel {
  AdwBin parent_instance;

  SimclrStudioPreview *preview;
  GtkLabel *error_label;
  GtkLabel *placeholder_label; /* shown instead of an empty figure */
  GtkScale *weak_min_area_scale, *weak_brightness_scale, *weak_jitter_scale;
  GtkScale *strong_min_area_scale, *strong_brightness_scale, *strong_jitter_scale;

  GSettings *settings;
  const ScDataset *dataset;
  GRand *rand;
  int32_t indices[SC_PREVIEW_COLUMNS];
};

G_DEFINE_FINAL_TYPE(SimclrStudioPreviewPanel, simclr_studio_preview_panel, ADW_TYPE_BIN)

static void
show_error(SimclrStudioPreviewPanel *self)
{
  const char *error = simclr_studio_preview_get_error(self->preview);
  gtk_widget_set_visible(GTK_WIDGET(self->error_label), error != NULL);
  if (error != NULL)
    gtk_label_set_text(self->error_label, error);
}

static void
update_images(SimclrStudioPreviewPanel *self)
{
  const ScSplit *train = self->dataset != NULL ? self->dataset->train : NULL;
  gboolean empty = train == NULL || sc_split_count(train) == 0;
  gtk_widget_set_visible(GTK_WIDGET(self->preview), !empty);
  gtk_widget_set_visible(GTK_WIDGET(self->placeholder_label), empty);
  if (empty) {
    gtk_label_set_text(self->placeholder_label,
                       train == NULL ? "No data set open: the images appear here once one "
                                       "opens (see Data set)."
                                     : "The data set has no training images to show.");
    simclr_studio_preview_set_images(self->preview, NULL, 0, 0, 0);
    return;
  }
  int h = sc_split_height(train), w = sc_split_width(train), c = sc_split_channels(train);
  /* (8, h, w, c) */
  g_autofree guint8 *images = g_malloc((size_t)SC_PREVIEW_COLUMNS * h * w * c);
  sc_split_gather(train, self->indices, SC_PREVIEW_COLUMNS, images);
  simclr_studio_preview_set_images(self->preview, images, h, w, c);
  /* Render now so an invalid spec shows its message at once. */
  simclr_studio_preview_get_figure(self->preview);
  show_error(self);
}

static void
update_spec(SimclrStudioPreviewPanel *self)
{
  ScAugmentStrength weak, strong;
  simclr_studio_settings_get_strengths(self->settings, &weak, &strong);
  simclr_studio_preview_set_strengths(self->preview, &weak, &strong);
  simclr_studio_preview_set_out_size(self->preview,
                                     g_settings_get_int(self->settings, SC_KEY_INPUT_SIZE));
  simclr_studio_preview_get_figure(self->preview);
  show_error(self);
}

static void
settings_changed_cb(SimclrStudioPreviewPanel *self, const char *key)
{
  if (g_str_has_prefix(key, "weak-") || g_str_has_prefix(key, "strong-")
      || g_str_equal(key, SC_KEY_INPUT_SIZE))
    update_spec(self);
}

/* Index of the nth image (from 0) of class c in labels[0..n), or -1. */
static int64_t
nth_of_class(const int32_t *labels, size_t n, int32_t c, size_t nth)
{
  for (size_t i = 0; i < n; i++)
    if (labels[i] == c && nth-- == 0)
      return (int64_t)i;
  return -1;
}

/* One image per column from consecutive classes, so that a data set with
 * a large class does not fill the row with it: at the start the first
 * images of classes 0, 1, ...; shuffled, from a random first class on and
 * a random image of each class, the next ones of that class when it comes
 * round again (no image twice while a class has enough). Classes without
 * images are passed over; without labels, the first or random images. */
static void
pick_images(SimclrStudioPreviewPanel *self, gboolean shuffled)
{
  const ScSplit *train = self->dataset->train;
  size_t n = sc_split_count(train);
  const int32_t *labels = sc_split_labels(train);
  int n_classes = self->dataset->n_classes;
  gint32 n_max = (gint32)MIN(n, (size_t)G_MAXINT32);
  for (int k = 0; k < SC_PREVIEW_COLUMNS; k++)
    self->indices[k] = shuffled ? g_rand_int_range(self->rand, 0, n_max)
                                : (int32_t)MIN((size_t)k, n - 1);
  if (labels == NULL || n_classes < 1)
    return;
  g_autofree size_t *per_class = g_new0(size_t, n_classes);
  for (size_t i = 0; i < n; i++)
    if (labels[i] >= 0 && labels[i] < n_classes)
      per_class[labels[i]]++;
  g_autofree int *present = g_new(int, n_classes); /* classes with images */
  int n_present = 0;
  for (int c = 0; c < n_classes; c++)
    if (per_class[c] > 0)
      present[n_present++] = c;
  if (n_present == 0)
    return;
  int first = shuffled ? g_rand_int_range(self->rand, 0, n_present) : 0;
  g_autofree size_t *offset = g_new0(size_t, n_classes);
  for (int c = 0; shuffled && c < n_classes; c++)
    if (per_class[c] > 0)
      offset[c] = (size_t)g_rand_int_range(self->rand, 0,
                                           (gint32)MIN(per_class[c], (size_t)G_MAXINT32));
  for (int k = 0; k < SC_PREVIEW_COLUMNS; k++) {
    int c = present[(first + k) % n_present];
    size_t round = (size_t)(k / n_present); /* times class c came before */
    int64_t i = nth_of_class(labels, n, c, (offset[c] + round) % per_class[c]);
    if (i >= 0)
      self->indices[k] = (int32_t)i;
  }
}

static void
simclr_studio_preview_panel_dispose(GObject *object)
{
  SimclrStudioPreviewPanel *self = SIMCLR_STUDIO_PREVIEW_PANEL(object);
  g_clear_object(&self->settings);
  self->dataset = NULL;
  gtk_widget_dispose_template(GTK_WIDGET(self), SIMCLR_STUDIO_TYPE_PREVIEW_PANEL);
  G_OBJECT_CLASS(simclr_studio_preview_panel_parent_class)->dispose(object);
}

static void
simclr_studio_preview_panel_finalize(GObject *object)
{
  SimclrStudioPreviewPanel *self = SIMCLR_STUDIO_PREVIEW_PANEL(object);
  g_rand_free(self->rand);
  G_OBJECT_CLASS(simclr_studio_preview_panel_parent_class)->finalize(object);
}

static void
simclr_studio_preview_panel_class_init(SimclrStudioPreviewPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = simclr_studio_preview_panel_dispose;
  object_class->finalize = simclr_studio_preview_panel_finalize;

  g_type_ensure(SIMCLR_STUDIO_TYPE_PREVIEW);
  gtk_widget_class_set_template_from_resource(
    widget_class, SC_RESOURCE_PATH "/simclr-studio-preview-panel.ui");
#define BIND(name) \
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioPreviewPanel, name)
  BIND(preview);
  BIND(error_label);
  BIND(placeholder_label);
  BIND(weak_min_area_scale);
  BIND(weak_brightness_scale);
  BIND(weak_jitter_scale);
  BIND(strong_min_area_scale);
  BIND(strong_brightness_scale);
  BIND(strong_jitter_scale);
#undef BIND
}

static void
simclr_studio_preview_panel_init(SimclrStudioPreviewPanel *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  self->rand = g_rand_new_with_seed(42);
  gtk_widget_set_visible(GTK_WIDGET(self->preview), FALSE);
}

static void
bind_scale(GSettings *settings, const char *key, GtkScale *scale)
{
  g_settings_bind(settings, key, gtk_range_get_adjustment(GTK_RANGE(scale)), "value",
                  G_SETTINGS_BIND_DEFAULT);
}

void
simclr_studio_preview_panel_set_settings(SimclrStudioPreviewPanel *self, GSettings *settings)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PREVIEW_PANEL(self));
  g_return_if_fail(self->settings == NULL);
  self->settings = g_object_ref(settings);
  bind_scale(settings, SC_KEY_WEAK_MIN_AREA, self->weak_min_area_scale);
  bind_scale(settings, SC_KEY_WEAK_BRIGHTNESS, self->weak_brightness_scale);
  bind_scale(settings, SC_KEY_WEAK_JITTER, self->weak_jitter_scale);
  bind_scale(settings, SC_KEY_STRONG_MIN_AREA, self->strong_min_area_scale);
  bind_scale(settings, SC_KEY_STRONG_BRIGHTNESS, self->strong_brightness_scale);
  bind_scale(settings, SC_KEY_STRONG_JITTER, self->strong_jitter_scale);
  g_signal_connect_object(settings, "changed", G_CALLBACK(settings_changed_cb), self,
                          G_CONNECT_SWAPPED);
  simclr_studio_preview_set_seed(self->preview,
                                 (guint64)g_settings_get_int(settings, SC_KEY_SEED));
  update_spec(self);
}

void
simclr_studio_preview_panel_set_dataset(SimclrStudioPreviewPanel *self,
                                        const ScDataset *dataset)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PREVIEW_PANEL(self));
  self->dataset = dataset;
  if (dataset != NULL && sc_split_count(dataset->train) > 0)
    pick_images(self, FALSE);
  update_images(self);
}

void
simclr_studio_preview_panel_shuffle(SimclrStudioPreviewPanel *self)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PREVIEW_PANEL(self));
  if (self->dataset == NULL || sc_split_count(self->dataset->train) == 0)
    return;
  pick_images(self, TRUE);
  simclr_studio_preview_set_seed(self->preview, g_rand_int(self->rand));
  update_images(self);
}

const int32_t *
simclr_studio_preview_panel_get_indices(SimclrStudioPreviewPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_PREVIEW_PANEL(self), NULL);
  return self->indices;
}

SimclrStudioPreview *
simclr_studio_preview_panel_get_preview(SimclrStudioPreviewPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_PREVIEW_PANEL(self), NULL);
  return self->preview;
}

const char *
simclr_studio_preview_panel_get_placeholder(SimclrStudioPreviewPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_PREVIEW_PANEL(self), NULL);
  if (!gtk_widget_get_visible(GTK_WIDGET(self->placeholder_label)))
    return NULL;
  return gtk_label_get_text(self->placeholder_label);
}
