/* The augmentation preview figure: 8 images in columns and four rows,
 * the original (as the model sees it at inference), one weak view and two
 * independent strong views, as the reference shows before training.
 *
 * Cells are out_size x out_size pixels with a small gap, and a label column
 * on the left. Drawing goes through cairo so the CLI writes a PNG and the
 * GTK application draws the same figure into its own surface. */
#pragma once

#include "augment.h"

#include <cairo.h>

G_BEGIN_DECLS

#define SC_PREVIEW_COLUMNS 8
#define SC_PREVIEW_ROWS 4

typedef struct {
  const uint8_t *images;     /* (8, h, w, c) uint8 HWC, c = 1 or 3 */
  int h, w, c;
  int out_size;              /* augmenter output side = cell side in pixels */
  ScAugmentStrength weak, strong;
  uint64_t seed;             /* draws use SC_RNG_PREVIEW, step = row */
} ScPreviewSpec;

/* Checks the spec (sizes, strengths); the message names the field. */
gboolean sc_preview_spec_validate(const ScPreviewSpec *spec, GError **error);

/* The figure's size in pixels (device units at scale 1). */
void sc_preview_figure_size(const ScPreviewSpec *spec, int *width, int *height);

/* Draws the figure with its top-left corner at the user-space origin of cr,
 * one user unit per figure pixel (scale cr to enlarge; cells are drawn with
 * nearest filtering so they stay sharp). */
gboolean sc_preview_draw(const ScPreviewSpec *spec, cairo_t *cr, GError **error);

/* A new ARGB32 image surface holding the figure. */
cairo_surface_t *sc_preview_render(const ScPreviewSpec *spec, GError **error);

/* The figure as non-premultiplied R, G, B, A bytes (opaque), rows of
 * width * 4 bytes (e.g. for a GdkMemoryTexture, GDK_MEMORY_R8G8B8A8). */
GBytes *sc_preview_render_rgba(const ScPreviewSpec *spec, int *width, int *height,
                               GError **error);

/* Writes the figure to a PNG at path atomically (a temporary file in the same
 * folder, then a rename). Fails with SC_ERROR_IO naming the path. */
gboolean sc_preview_write_png(const ScPreviewSpec *spec, const char *path, GError **error);

/* As sc_preview_render and sc_preview_write_png, each figure pixel drawn as
 * scale x scale pixels (1 to SC_PREVIEW_MAX_SCALE), cells kept sharp. */
#define SC_PREVIEW_MAX_SCALE 16
cairo_surface_t *sc_preview_render_scaled(const ScPreviewSpec *spec, int scale,
                                          GError **error);
gboolean sc_preview_write_png_scaled(const ScPreviewSpec *spec, int scale, const char *path,
                                     GError **error);

G_END_DECLS
