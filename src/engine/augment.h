/* The reference's augmenter (section 3): rescale, horizontal flip,
 * translation and zoom as two bilinear passes with TensorFlow's reflect fill,
 * colour affine, clip to [0, 1].
 *
 * Images whose stored size differs from the output size are first resized to
 * the output size (bilinear, half-pixel centres) and then augmented at the
 * output size, so ranges in pixels scale with the model's input. Grey images
 * become three equal channels. */
#pragma once

#include "backend.h"
#include "rng.h"

G_BEGIN_DECLS

/* The reference's presets. */
#define SC_AUGMENT_WEAK ((ScAugmentStrength){ 0.75f, 0.3f, 0.1f })
#define SC_AUGMENT_STRONG ((ScAugmentStrength){ 0.25f, 0.6f, 0.2f })

/* Random parameters of one image. */
typedef struct {
  bool flip;
  float dx, dy;      /* translation in output pixels */
  float zx, zy;      /* zoom per axis, z <= 1 zooms in */
  float brightness;  /* 1 + s */
  float jitter[9];   /* J[i][k], row-major */
} ScAugmentParams;

/* Checks min_area in (0, 1], brightness in [0, 1), jitter >= 0, all finite. */
gboolean sc_augment_strength_validate(const ScAugmentStrength *s, const char *what,
                                      GError **error);

/* Draws image `index`'s parameters in the fixed order flip, ty, tx, zy, zx,
 * brightness, 9 jitter from ScRng(seed, purpose, epoch, step, index). */
void sc_augment_draw(const ScAugmentStrength *s, int out_h, int out_w, uint64_t seed,
                     uint32_t purpose, uint32_t epoch, uint32_t step, uint32_t index,
                     ScAugmentParams *params);

/* One image: src (src_h, src_w, src_c) uint8 -> out (out_h, out_w, 3) float.
 * params NULL means inference (rescale and resize only). */
void sc_augment_image(const uint8_t *src, int src_h, int src_w, int src_c, int out_h,
                      int out_w, const ScAugmentParams *params, float *out);

/* A whole batch on the CPU (the CPU backend's augment operation). */
void sc_augment_batch_cpu(const ScAugmentBatch *batch, float *out);

G_END_DECLS
