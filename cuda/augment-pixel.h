// The augmenter's per-image and per-pixel arithmetic, shared by the CUDA
// kernels (cuda-augment.cu) and a host-side test that checks it against
// src/engine/augment.c without a GPU. Only nvcc compiles this file.
//
// Every operation is rounded on its own (exact-math.h), as the CPU build
// rounds it, so both backends produce the same images.
//
// Rasters of one batch, as on the CPU:
//   base (batch, H, W, C)   rescaled (and resized), flipped
//   warp (batch, H, W, C)   base resampled at (x - dx, y - dy)
//   out  (batch, H, W, 3)   warp resampled at (zx x + ox, zy y + oy),
//                           colour affine, clip
// C is the stored channel count (1 or 3).
#pragma once

#include "cuda-kernels.h"
#include "exact-math.h"

#include "src/engine/philox.h"

#include <math.h>

#define SC_AUG_FN SC_HD_FN

// Keras's Rescaling(1/255) multiplies by this float32 constant.
#define SC_AUG_RESCALE (1.0f / 255.0f)

// One image's parameters, 16 floats (the last is padding).
typedef struct {
  float flip, dx, dy, zx, zy, brightness;
  float jitter[9];
  float pad;
} ScAugParams;

typedef struct {
  int i0, i1;
  float w0, w1;
} ScAugTaps;


SC_AUG_FN int
aug_min(int a, int b)
{
  return a < b ? a : b;
}

// sc_rng_range: lo + (hi - lo) * u.
SC_AUG_FN float
aug_range(float lo, float hi, float u)
{
  return sc_fadd(lo, sc_fmul(sc_fsub(hi, lo), u));
}

// sc_augment_draw for image `index`: 15 uniforms from 4 Philox blocks, in
// the order flip, ty, tx, zy, zx, brightness, 9 jitter. zf = 1 -
// sqrt(min_area) and hf = zf / 2 come from the host, computed as there.
SC_AUG_FN void
sc_aug_draw(const ScCudaAugmentArgs *a, float zf, float hf, uint32_t index, ScAugParams *p)
{
  float u[16];
  for (int blk = 0; blk < 4; blk++) {
    uint32_t ctr[4], key[2], bits[4];
    sc_philox_stream(a->seed, a->purpose, a->epoch, a->step, index, (uint32_t)blk, ctr, key);
    sc_philox4x32_block(ctr, key, bits);
    for (int j = 0; j < 4; j++)
      u[blk * 4 + j] = sc_philox_unit(bits[j]);
  }
  p->flip = u[0] <= 0.5f ? 1.0f : 0.0f;
  p->dy = sc_fmul(aug_range(-hf, hf, u[1]), (float)a->out_h);
  p->dx = sc_fmul(aug_range(-hf, hf, u[2]), (float)a->out_w);
  p->zy = sc_fadd(1.0f, aug_range(-zf, 0.0f, u[3]));
  p->zx = sc_fadd(1.0f, aug_range(-zf, 0.0f, u[4]));
  p->brightness = sc_fadd(1.0f, aug_range(-a->brightness, a->brightness, u[5]));
  for (int j = 0; j < 9; j++)
    p->jitter[j] = aug_range(-a->jitter, a->jitter, u[6 + j]);
  p->pad = 0.0f;
}

// TensorFlow's reflect fill of one coordinate, then a clamp (reflect_coord).
SC_AUG_FN float
sc_aug_reflect(float t, int n)
{
  if (n <= 1)
    return 0.0f;
  const float len = (float)n, len2 = sc_fmul(2.0f, (float)n);
  if (t < 0.0f) {
    if (t < -len2)
      t = sc_fadd(t, sc_fmul(len2, truncf(sc_fdiv(-t, len2))));
    t = t < -len ? sc_fadd(t, len2) : sc_fsub(-t, 1.0f);
  } else if (t > sc_fsub(len, 1.0f)) {
    if (t >= len2)
      t = sc_fsub(t, sc_fmul(len2, truncf(sc_fdiv(t, len2))));
    if (t >= len)
      t = sc_fsub(sc_fsub(len2, t), 1.0f);
  }
  float hi = sc_fsub(len, 1.0f);
  return t > hi ? hi : (t < 0.0f ? 0.0f : t);
}

// Taps of output position x sampling at scale * x + offset (taps_affine).
SC_AUG_FN ScAugTaps
sc_aug_taps_affine(int x, int n, float scale, float offset)
{
  float t = sc_aug_reflect(sc_fadd(sc_fmul(scale, (float)x), offset), n);
  float t0 = floorf(t);
  ScAugTaps k;
  k.i0 = (int)t0;
  k.i1 = aug_min(k.i0 + 1, n - 1);
  k.w0 = sc_fsub(sc_fadd(t0, 1.0f), t);
  k.w1 = sc_fsub(t, t0);
  return k;
}

// tf.image.resize bilinear taps (taps_resize); w1 is the lerp factor.
SC_AUG_FN ScAugTaps
sc_aug_taps_resize(int x, int n_out, int n_in)
{
  const float scale = sc_fdiv((float)n_in, (float)n_out);
  float t = sc_fsub(sc_fmul(sc_fadd((float)x, 0.5f), scale), 0.5f);
  float t0 = floorf(t);
  ScAugTaps k;
  int i0 = (int)t0;
  k.i0 = i0 < 0 ? 0 : (i0 > n_in - 1 ? n_in - 1 : i0);
  k.i1 = aug_min((int)ceilf(t), n_in - 1);
  k.w1 = sc_fsub(t, t0);
  k.w0 = sc_fsub(1.0f, k.w1);
  return k;
}

// v[0..C) = pixel (y, x) of image img's base raster (make_base): the stored
// values rescaled, resized when the sizes differ, mirrored when flip.
SC_AUG_FN void
sc_aug_base_pixel(const ScCudaAugmentArgs *a, const uint8_t *images, bool flip, size_t img,
                  int y, int x, float *v)
{
  const int H = a->out_h, W = a->out_w, C = a->src_c;
  const uint8_t *src = images + img * a->src_h * a->src_w * C;
  if (a->src_h == H && a->src_w == W) {
    const uint8_t *px = src + ((size_t)y * W + (flip ? W - 1 - x : x)) * C;
    for (int c = 0; c < C; c++)
      v[c] = sc_fmul((float)px[c], SC_AUG_RESCALE);
    return;
  }
  // Resize the stored values, then rescale (Resizing before Rescaling).
  ScAugTaps ty = sc_aug_taps_resize(y, H, a->src_h);
  ScAugTaps tx = sc_aug_taps_resize(flip ? W - 1 - x : x, W, a->src_w);
  const uint8_t *r0 = src + (size_t)ty.i0 * a->src_w * C;
  const uint8_t *r1 = src + (size_t)ty.i1 * a->src_w * C;
  const int ia = tx.i0 * C, ib = tx.i1 * C;
  for (int c = 0; c < C; c++) {
    float tl = r0[ia + c], tr = r0[ib + c], bl = r1[ia + c], br = r1[ib + c];
    float top = sc_fadd(tl, sc_fmul(sc_fsub(tr, tl), tx.w1));
    float bottom = sc_fadd(bl, sc_fmul(sc_fsub(br, bl), tx.w1));
    v[c] = sc_fmul(sc_fadd(top, sc_fmul(sc_fsub(bottom, top), ty.w1)), SC_AUG_RESCALE);
  }
}

// v[0..C) = bilinear sample of src (H, W, C) at taps (ty, tx) (resample):
// along x in both rows, then along y.
SC_AUG_FN void
sc_aug_sample(const float *src, int W, int C, ScAugTaps ty, ScAugTaps tx, float *v)
{
  const float *r0 = src + (size_t)ty.i0 * W * C, *r1 = src + (size_t)ty.i1 * W * C;
  const int ia = tx.i0 * C, ib = tx.i1 * C;
  for (int c = 0; c < C; c++) {
    float top = sc_fadd(sc_fmul(tx.w0, r0[ia + c]), sc_fmul(tx.w1, r0[ib + c]));
    float bottom = sc_fadd(sc_fmul(tx.w0, r1[ia + c]), sc_fmul(tx.w1, r1[ib + c]));
    v[c] = sc_fadd(sc_fmul(ty.w0, top), sc_fmul(ty.w1, bottom));
  }
}

// v[0..C) = pixel (y, x) of the translated raster (RandomTranslation:
// sampled at (x - dx, y - dy)); base is this image's (H, W, C).
SC_AUG_FN void
sc_aug_translate_pixel(const ScCudaAugmentArgs *a, const ScAugParams *p, const float *base,
                       int y, int x, float *v)
{
  ScAugTaps ty = sc_aug_taps_affine(y, a->out_h, 1.0f, -p->dy);
  ScAugTaps tx = sc_aug_taps_affine(x, a->out_w, 1.0f, -p->dx);
  sc_aug_sample(base, a->out_w, a->src_c, ty, tx, v);
}

// out[0..3) = pixel (y, x) of the result: warp (H, W, C) zoomed (RandomZoom:
// sampled at zx x + cx (1 - zx), c = (n - 1) / 2), then RandomColorAffine
// out_k = clip(sum_i p_i M[i][k], 0, 1) with M = brightness I + J.
SC_AUG_FN void
sc_aug_zoom_colour_pixel(const ScCudaAugmentArgs *a, const ScAugParams *p, const float *warp,
                         int y, int x, float *out)
{
  const int H = a->out_h, W = a->out_w, C = a->src_c;
  const float cy = sc_fmul(0.5f, (float)(H - 1)), cx = sc_fmul(0.5f, (float)(W - 1));
  ScAugTaps ty = sc_aug_taps_affine(y, H, p->zy, sc_fmul(cy, sc_fsub(1.0f, p->zy)));
  ScAugTaps tx = sc_aug_taps_affine(x, W, p->zx, sc_fmul(cx, sc_fsub(1.0f, p->zx)));
  float v[3];
  sc_aug_sample(warp, W, C, ty, tx, v);

  float m[9];
  for (int i = 0; i < 9; i++)
    m[i] = sc_fadd(p->jitter[i], i % 4 == 0 ? p->brightness : 0.0f);
  const float r = v[0], g = v[C == 3 ? 1 : 0], b = v[C == 3 ? 2 : 0];
  for (int k = 0; k < 3; k++) {
    float s = sc_fadd(sc_fadd(sc_fmul(r, m[k]), sc_fmul(g, m[3 + k])), sc_fmul(b, m[6 + k]));
    out[k] = s > 1.0f ? 1.0f : (s < 0.0f ? 0.0f : s);
  }
}
