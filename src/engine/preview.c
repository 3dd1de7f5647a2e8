/* The augmentation preview figure (see preview.h). */
#include "preview.h"

#include "sc-error.h"
#include "sc-file.h"

#include <math.h>

static const char *const row_labels[SC_PREVIEW_ROWS] = { "original", "weak", "strong",
                                                          "strong" };

/* Geometry of the figure, all in pixels. */
typedef struct {
  int cell, gap, margin;
  double font_px;
  int label_w;
  int width, height;
} Layout;

gboolean
sc_preview_spec_validate(const ScPreviewSpec *spec, GError **error)
{
  g_return_val_if_fail(spec != NULL, FALSE);
  if (spec->images == NULL || spec->h <= 0 || spec->w <= 0
      || (spec->c != 1 && spec->c != 3)) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "preview: images must be (8, h, w, c) with h, w > 0 and c = 1 or 3, "
                "got h = %d, w = %d, c = %d%s", spec->h, spec->w, spec->c,
                spec->images ? "" : " and no pixels");
    return FALSE;
  }
  if (spec->out_size < 4 || spec->out_size > 4096) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "preview: out_size must be in [4, 4096], got %d", spec->out_size);
    return FALSE;
  }
  return sc_augment_strength_validate(&spec->weak, "preview weak", error)
         && sc_augment_strength_validate(&spec->strong, "preview strong", error);
}

static void
select_font(cairo_t *cr, double font_px)
{
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, font_px);
}

static Layout
layout_of(const ScPreviewSpec *spec)
{
  Layout l;
  l.cell = spec->out_size;
  l.gap = MAX(2, l.cell / 24);
  l.margin = 2 * l.gap;
  l.font_px = CLAMP(0.15 * l.cell, 9.0, 18.0);

  /* The label column fits the widest label, measured on a scratch surface. */
  cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create(scratch);
  select_font(cr, l.font_px);
  double widest = 0;
  for (int r = 0; r < SC_PREVIEW_ROWS; r++) {
    cairo_text_extents_t ext;
    cairo_text_extents(cr, row_labels[r], &ext);
    widest = MAX(widest, ext.x_advance);
  }
  cairo_destroy(cr);
  cairo_surface_destroy(scratch);
  l.label_w = (int)ceil(widest) + 2 * l.gap;

  l.width = 2 * l.margin + l.label_w + SC_PREVIEW_COLUMNS * l.cell
            + (SC_PREVIEW_COLUMNS - 1) * l.gap;
  l.height = 2 * l.margin + SC_PREVIEW_ROWS * l.cell + (SC_PREVIEW_ROWS - 1) * l.gap;
  return l;
}

void
sc_preview_figure_size(const ScPreviewSpec *spec, int *width, int *height)
{
  g_return_if_fail(spec != NULL);
  Layout l = layout_of(spec);
  if (width)
    *width = l.width;
  if (height)
    *height = l.height;
}

/* views (8, S, S, 3) in [0, 1] of one row: inference, weak or strong. */
static void
augment_row(const ScPreviewSpec *spec, int row, float *views)
{
  ScAugmentBatch b = {
    .images = spec->images,
    .batch = SC_PREVIEW_COLUMNS,
    .src_h = spec->h, .src_w = spec->w, .src_c = spec->c,
    .out_h = spec->out_size, .out_w = spec->out_size,
    .training = row > 0,
    .strength = row == 1 ? spec->weak : spec->strong,
    .seed = spec->seed,
    .purpose = SC_RNG_PREVIEW,
    .epoch = 0,
    .step = (uint32_t)row, /* the two strong rows are independent draws */
  };
  sc_augment_batch_cpu(&b, views);
}

/* An opaque RGB24 surface of one (S, S, 3) view. */
static cairo_surface_t *
view_surface(const float *view, int size)
{
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, size, size);
  cairo_surface_flush(s);
  uint8_t *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  for (int y = 0; y < size; y++) {
    uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
    for (int x = 0; x < size; x++) {
      const float *p = view + ((size_t)y * size + x) * 3;
      uint32_t rgb = 0;
      for (int k = 0; k < 3; k++) {
        /* Inference views are not clipped; they lie in [0, 1] anyway. */
        float v = CLAMP(p[k], 0.0f, 1.0f);
        rgb = (rgb << 8) | (uint32_t)lrintf(v * 255.0f);
      }
      row[x] = 0xFF000000u | rgb;
    }
  }
  cairo_surface_mark_dirty(s);
  return s;
}

gboolean
sc_preview_draw(const ScPreviewSpec *spec, cairo_t *cr, GError **error)
{
  g_return_val_if_fail(spec != NULL && cr != NULL, FALSE);
  if (!sc_preview_spec_validate(spec, error))
    return FALSE;
  const Layout l = layout_of(spec);
  const int s = l.cell;
  g_autofree float *views = g_new(float, (size_t)SC_PREVIEW_COLUMNS * s * s * 3);

  cairo_save(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_rectangle(cr, 0, 0, l.width, l.height);
  cairo_fill(cr);
  select_font(cr, l.font_px);

  for (int r = 0; r < SC_PREVIEW_ROWS; r++) {
    const double top = l.margin + r * (s + l.gap);

    /* The label, right-aligned against the first cell, centred on the row. */
    cairo_text_extents_t ext;
    cairo_text_extents(cr, row_labels[r], &ext);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, l.margin + l.label_w - l.gap - ext.x_advance,
                  top + 0.5 * s - (ext.y_bearing + 0.5 * ext.height));
    cairo_show_text(cr, row_labels[r]);

    augment_row(spec, r, views);
    for (int col = 0; col < SC_PREVIEW_COLUMNS; col++) {
      const double left = l.margin + l.label_w + col * (s + l.gap);
      cairo_surface_t *cell = view_surface(views + (size_t)col * s * s * 3, s);
      cairo_set_source_surface(cr, cell, left, top);
      cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
      cairo_rectangle(cr, left, top, s, s);
      cairo_fill(cr);
      cairo_surface_destroy(cell);
    }
  }
  cairo_restore(cr);

  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_IO, "preview: drawing failed: %s",
                cairo_status_to_string(cairo_status(cr)));
    return FALSE;
  }
  return TRUE;
}

cairo_surface_t *
sc_preview_render(const ScPreviewSpec *spec, GError **error)
{
  return sc_preview_render_scaled(spec, 1, error);
}

cairo_surface_t *
sc_preview_render_scaled(const ScPreviewSpec *spec, int scale, GError **error)
{
  g_return_val_if_fail(spec != NULL, NULL);
  if (scale < 1 || scale > SC_PREVIEW_MAX_SCALE) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "preview: scale must be between 1 and %d, got %d", SC_PREVIEW_MAX_SCALE,
                scale);
    return NULL;
  }
  if (!sc_preview_spec_validate(spec, error))
    return NULL;
  const Layout l = layout_of(spec);
  cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32,
                                                        l.width * scale, l.height * scale);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "preview: could not create a %d x %d surface: %s", l.width * scale,
                l.height * scale, cairo_status_to_string(cairo_surface_status(surface)));
    cairo_surface_destroy(surface);
    return NULL;
  }
  cairo_t *cr = cairo_create(surface);
  cairo_scale(cr, scale, scale);
  gboolean ok = sc_preview_draw(spec, cr, error);
  cairo_destroy(cr);
  if (!ok) {
    cairo_surface_destroy(surface);
    return NULL;
  }
  cairo_surface_flush(surface);
  return surface;
}

GBytes *
sc_preview_render_rgba(const ScPreviewSpec *spec, int *width, int *height, GError **error)
{
  cairo_surface_t *surface = sc_preview_render(spec, error);
  if (!surface)
    return NULL;
  const int w = cairo_image_surface_get_width(surface);
  const int h = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const uint8_t *data = cairo_image_surface_get_data(surface);
  uint8_t *rgba = g_malloc((size_t)w * h * 4);
  /* Cairo stores premultiplied native-endian 0xAARRGGBB; the figure is
   * opaque, so unpremultiplying is the identity. */
  for (int y = 0; y < h; y++) {
    const uint32_t *src = (const uint32_t *)(data + (size_t)y * stride);
    uint8_t *dst = rgba + (size_t)y * w * 4;
    for (int x = 0; x < w; x++) {
      dst[4 * x + 0] = (uint8_t)(src[x] >> 16);
      dst[4 * x + 1] = (uint8_t)(src[x] >> 8);
      dst[4 * x + 2] = (uint8_t)src[x];
      dst[4 * x + 3] = (uint8_t)(src[x] >> 24);
    }
  }
  cairo_surface_destroy(surface);
  if (width)
    *width = w;
  if (height)
    *height = h;
  return g_bytes_new_take(rgba, (size_t)w * h * 4);
}

static cairo_status_t
append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append(closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

gboolean
sc_preview_write_png(const ScPreviewSpec *spec, const char *path, GError **error)
{
  return sc_preview_write_png_scaled(spec, 1, path, error);
}

gboolean
sc_preview_write_png_scaled(const ScPreviewSpec *spec, int scale, const char *path,
                            GError **error)
{
  g_return_val_if_fail(spec != NULL && path != NULL, FALSE);
  cairo_surface_t *surface = sc_preview_render_scaled(spec, scale, error);
  if (!surface)
    return FALSE;

  g_autoptr(GByteArray) png = g_byte_array_new();
  cairo_status_t st = cairo_surface_write_to_png_stream(surface, append_bytes, png);
  cairo_surface_destroy(surface);
  if (st != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_IO, "Could not encode the preview %s: %s",
                path, cairo_status_to_string(st));
    return FALSE;
  }
  /* Never half a PNG for a reader; 0666 lets the umask apply. */
  return sc_file_write_atomic(path, png->data, png->len, 0666, TRUE, SC_ENGINE_ERROR,
                              error);
}
