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
 * brightness, 9 jitter from ScRng(seed, purpose, epoch, step, index), one
 * sc_rng_uniform each (15 in all), in float32:
 *   zf = 1 - sqrtf(min_area), hf = zf / 2
 *   flip = u <= 0.5
 *   dy = range(-hf, hf) * out_h, dx = range(-hf, hf) * out_w
 *   zy = 1 + range(-zf, 0), zx = 1 + range(-zf, 0)
 *   brightness = 1 + range(-b, b), jitter[i] = range(-j, j)
 * where range(lo, hi) = lo + (hi - lo) * u (sc_rng_range). */
void sc_augment_draw(const ScAugmentStrength *s, int out_h, int out_w, uint64_t seed,
                     uint32_t purpose, uint32_t epoch, uint32_t step, uint32_t index,
                     ScAugmentParams *params);

/* One image: src (src_h, src_w, src_c) uint8 -> out (out_h, out_w, 3) float.
 * params NULL means inference (rescale and resize only, no clip).
 *
 * Steps, each producing a full raster, all in float32:
 * 1. base = src * float32(1/255); when the sizes differ the stored values are
 *    first resized as tf.image.resize bilinear (half-pixel centres, no
 *    antialias): output x samples (x + 0.5) * src_w / out_w - 0.5, taps
 *    max(floor, 0) and min(ceil, n - 1).
 * 2. flip: base[y][x] = base[y][W - 1 - x] (exact).
 * 3. translation: sample at (x - dx, y - dy); 4. zoom: sample at
 *    (zx x + cx (1 - zx), zy y + cy (1 - zy)), c = (n - 1) / 2. Both use
 *    integer pixel centres, TensorFlow's reflect fill, then clamp, and
 *    bilinear weights (x0 + 1 - x', x' - x0) blended along x then y.
 * 5. colour: out_k = clip(sum_i p_i M[i][k], 0, 1), M = brightness I + J. */
void sc_augment_image(const uint8_t *src, int src_h, int src_w, int src_c, int out_h,
                      int out_w, const ScAugmentParams *params, float *out);

/* A whole batch on the CPU (the CPU backend's augment operation). */
void sc_augment_batch_cpu(const ScAugmentBatch *batch, float *out);

G_END_DECLS
