/* The reference's augmenter on the CPU (reference section 3).
 *
 * One image goes through three rasters:
 *   base (H, W, C): rescaled (and resized), flipped    [scratch 1]
 *   T    (H, W, C): base resampled at (x - dx, y - dy)   [scratch 2]
 *   out  (H, W, 3): T resampled at (zx x + ox, zy y + oy), colour, clip
 * C is the stored channel count (1 or 3): grey images stay one channel
 * through the warps, which are per channel, and become three at the colour
 * step, so the result equals warping three equal channels. */
#include "augment.h"

#include "sc-error.h"

#include <math.h>
#include <string.h>

/* Keras's Rescaling(1/255) multiplies by this float32 constant. */
#define RESCALE (1.0f / 255.0f)

gboolean
sc_augment_strength_validate(const ScAugmentStrength *s, const char *what, GError **error)
{
  g_return_val_if_fail(s != NULL, FALSE);
  const char *name = what ? what : "augmentation";
  if (!isfinite(s->min_area) || !(s->min_area > 0.0f && s->min_area <= 1.0f)) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "%s: min_area must be in (0, 1], got %g", name, s->min_area);
    return FALSE;
  }
  if (!isfinite(s->brightness) || !(s->brightness >= 0.0f && s->brightness < 1.0f)) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "%s: brightness must be in [0, 1), got %g", name, s->brightness);
    return FALSE;
  }
  if (!isfinite(s->jitter) || !(s->jitter >= 0.0f)) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "%s: jitter must be finite and >= 0, got %g", name, s->jitter);
    return FALSE;
  }
  return TRUE;
}

void
sc_augment_draw(const ScAugmentStrength *s, int out_h, int out_w, uint64_t seed,
                uint32_t purpose, uint32_t epoch, uint32_t step, uint32_t index,
                ScAugmentParams *p)
{
  g_return_if_fail(s != NULL && p != NULL);
  ScRng rng;
  sc_rng_init(&rng, seed, (ScRngPurpose)purpose, epoch, step, index);

  const float zf = 1.0f - sqrtf(s->min_area);
  const float hf = 0.5f * zf; /* translation factor, a fraction of the side */

  /* The reference's order: flip, ty, tx, zy, zx, brightness, jitter. */
  p->flip = sc_rng_uniform(&rng) <= 0.5f;
  p->dy = sc_rng_range(&rng, -hf, hf) * (float)out_h;
  p->dx = sc_rng_range(&rng, -hf, hf) * (float)out_w;
  p->zy = 1.0f + sc_rng_range(&rng, -zf, 0.0f);
  p->zx = 1.0f + sc_rng_range(&rng, -zf, 0.0f);
  p->brightness = 1.0f + sc_rng_range(&rng, -s->brightness, s->brightness);
  for (int i = 0; i < 9; i++)
    p->jitter[i] = sc_rng_range(&rng, -s->jitter, s->jitter);
}

/* ---- Resampling ---- */

/* TensorFlow's `reflect` fill for one coordinate: the half-sample-symmetric
 * extension (dcba|abcd|dcba), then a clamp into [0, n - 1]. */
static float
reflect_coord(float t, int n)
{
  if (n <= 1)
    return 0.0f;
  const float len = (float)n, len2 = 2.0f * (float)n;
  if (t < 0.0f) {
    if (t < -len2)
      t += len2 * truncf(-t / len2);
    t = t < -len ? t + len2 : -t - 1.0f;
  } else if (t > len - 1.0f) {
    if (t >= len2)
      t -= len2 * truncf(t / len2);
    if (t >= len)
      t = len2 - t - 1.0f;
  }
  return CLAMP(t, 0.0f, len - 1.0f);
}

/* Two taps along one axis: value = w0 * P(i0) + w1 * P(i1). */
typedef struct {
  int i0, i1;
  float w0, w1;
} Taps;

/* Taps of output positions 0..n-1 sampling at scale * x + offset (the
 * transform row of ImageProjectiveTransformV3 with k = 1), reflect fill. */
static void
taps_affine(Taps *taps, int n, float scale, float offset)
{
  for (int x = 0; x < n; x++) {
    float t = reflect_coord(scale * (float)x + offset, n);
    float t0 = floorf(t);
    int i0 = (int)t0;
    taps[x].i0 = i0;
    /* TensorFlow reads the fill value 0 at index n; its weight is 0 there,
     * so reading the last pixel instead gives the same sum. */
    taps[x].i1 = MIN(i0 + 1, n - 1);
    taps[x].w0 = (t0 + 1.0f) - t;
    taps[x].w1 = t - t0;
  }
}

/* tf.image.resize bilinear (half_pixel_centers, no antialias): output x
 * samples (x + 0.5) * in / out - 0.5, clamped to the edge pixels. */
static void
taps_resize(Taps *taps, int n_out, int n_in)
{
  const float scale = (float)n_in / (float)n_out;
  for (int x = 0; x < n_out; x++) {
    float t = ((float)x + 0.5f) * scale - 0.5f;
    float t0 = floorf(t);
    /* t >= -0.5, so ceil(t) >= 0; below 0 both taps read pixel 0. */
    taps[x].i0 = CLAMP((int)t0, 0, n_in - 1);
    taps[x].i1 = MIN((int)ceilf(t), n_in - 1);
    taps[x].w1 = t - t0; /* the lerp factor; w0 is unused */
    taps[x].w0 = 1.0f - taps[x].w1;
  }
}

/* dst (h, w, nc) = separable bilinear resampling of src (src_h, src_w, nc)
 * with row taps ty (h) and column taps tx (w), in TensorFlow's order:
 * blend along x in each of the two rows, then along y. */
static void
resample(const float *src, int src_w, int nc, const Taps *ty, const Taps *tx, int h, int w,
         float *dst)
{
  for (int y = 0; y < h; y++) {
    const float *r0 = src + (size_t)ty[y].i0 * src_w * nc;
    const float *r1 = src + (size_t)ty[y].i1 * src_w * nc;
    const float wy0 = ty[y].w0, wy1 = ty[y].w1;
    float *d = dst + (size_t)y * w * nc;
    for (int x = 0; x < w; x++) {
      const int a = tx[x].i0 * nc, b = tx[x].i1 * nc;
      const float wx0 = tx[x].w0, wx1 = tx[x].w1;
      for (int c = 0; c < nc; c++) {
        float top = wx0 * r0[a + c] + wx1 * r0[b + c];
        float bottom = wx0 * r1[a + c] + wx1 * r1[b + c];
        d[x * nc + c] = wy0 * top + wy1 * bottom;
      }
    }
  }
}

/* ---- One image ---- */

/* Scratch of one worker: two rasters (h, w, 3) and the tap tables. */
typedef struct {
  float *base, *warp;
  Taps *ty, *tx; /* (max(h, src_h)), (max(w, src_w)) */
} Scratch;

static void
scratch_init(Scratch *s, int src_h, int src_w, int out_h, int out_w)
{
  size_t raster = (size_t)out_h * out_w * 3;
  s->base = g_new(float, raster);
  s->warp = g_new(float, raster);
  s->ty = g_new(Taps, MAX(out_h, src_h));
  s->tx = g_new(Taps, MAX(out_w, src_w));
}

static void
scratch_clear(Scratch *s)
{
  g_free(s->base);
  g_free(s->warp);
  g_free(s->ty);
  g_free(s->tx);
}

/* base (out_h, out_w, nc) = src rescaled, resized when the sizes differ,
 * and mirrored left to right when flip is set (an exact permutation). */
static void
make_base(const uint8_t *src, int src_h, int src_w, int nc, int out_h, int out_w, bool flip,
          Scratch *s)
{
  float *base = s->base;
  if (src_h == out_h && src_w == out_w) {
    for (int y = 0; y < out_h; y++) {
      const uint8_t *row = src + (size_t)y * src_w * nc;
      float *d = base + (size_t)y * out_w * nc;
      for (int x = 0; x < out_w; x++) {
        const uint8_t *px = row + (size_t)(flip ? out_w - 1 - x : x) * nc;
        for (int c = 0; c < nc; c++)
          d[x * nc + c] = (float)px[c] * RESCALE;
      }
    }
    return;
  }

  /* Resize the stored values, then rescale, as Resizing before Rescaling. */
  taps_resize(s->ty, out_h, src_h);
  taps_resize(s->tx, out_w, src_w);
  for (int y = 0; y < out_h; y++) {
    const uint8_t *r0 = src + (size_t)s->ty[y].i0 * src_w * nc;
    const uint8_t *r1 = src + (size_t)s->ty[y].i1 * src_w * nc;
    const float ly = s->ty[y].w1;
    float *d = base + (size_t)y * out_w * nc;
    for (int x = 0; x < out_w; x++) {
      const Taps *t = &s->tx[flip ? out_w - 1 - x : x];
      const int a = t->i0 * nc, b = t->i1 * nc;
      /* TensorFlow's lerp form: equal neighbours give their value exactly. */
      for (int c = 0; c < nc; c++) {
        float tl = r0[a + c], tr = r0[b + c], bl = r1[a + c], br = r1[b + c];
        float top = tl + (tr - tl) * t->w1;
        float bottom = bl + (br - bl) * t->w1;
        d[x * nc + c] = (top + (bottom - top) * ly) * RESCALE;
      }
    }
  }
}

/* out (h, w, 3) = p (h, w, nc) as RGB, without any change to the values. */
static void
to_rgb(const float *p, int nc, size_t n_px, float *out)
{
  if (nc == 3) {
    memcpy(out, p, n_px * 3 * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n_px; i++)
    out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = p[i];
}

/* out_k = clip(sum_i p_i * M[i][k], 0, 1) with M = (1 + s) I + J: the pixel
 * is a row vector multiplied on the right, as RandomColorAffine does. */
static void
colour_affine(const float *p, int nc, size_t n_px, const ScAugmentParams *prm, float *out)
{
  float m[9];
  for (int i = 0; i < 9; i++)
    m[i] = prm->jitter[i] + (i % 4 == 0 ? prm->brightness : 0.0f);
  for (size_t i = 0; i < n_px; i++) {
    const float *q = p + i * nc;
    const float r = q[0], g = q[nc == 3 ? 1 : 0], b = q[nc == 3 ? 2 : 0];
    for (int k = 0; k < 3; k++) {
      float v = r * m[k] + g * m[3 + k] + b * m[6 + k];
      out[3 * i + k] = CLAMP(v, 0.0f, 1.0f);
    }
  }
}

static void
augment_one(const uint8_t *src, int src_h, int src_w, int nc, int out_h, int out_w,
            const ScAugmentParams *prm, Scratch *s, float *out)
{
  const size_t n_px = (size_t)out_h * out_w;
  make_base(src, src_h, src_w, nc, out_h, out_w, prm && prm->flip, s);
  if (!prm) {
    to_rgb(s->base, nc, n_px, out);
    return;
  }

  /* RandomTranslation: x_in = x - dx, y_in = y - dy. */
  taps_affine(s->ty, out_h, 1.0f, -prm->dy);
  taps_affine(s->tx, out_w, 1.0f, -prm->dx);
  resample(s->base, out_w, nc, s->ty, s->tx, out_h, out_w, s->warp);

  /* RandomZoom: x_in = zx x + ox, ox = c (1 - zx), c = (W - 1) / 2, the
   * matrix form of zx (x - c) + c. */
  const float cy = 0.5f * (float)(out_h - 1), cx = 0.5f * (float)(out_w - 1);
  taps_affine(s->ty, out_h, prm->zy, cy * (1.0f - prm->zy));
  taps_affine(s->tx, out_w, prm->zx, cx * (1.0f - prm->zx));
  resample(s->warp, out_w, nc, s->ty, s->tx, out_h, out_w, s->base);

  colour_affine(s->base, nc, n_px, prm, out);
}

void
sc_augment_image(const uint8_t *src, int src_h, int src_w, int src_c, int out_h, int out_w,
                 const ScAugmentParams *params, float *out)
{
  g_return_if_fail(src != NULL && out != NULL);
  g_return_if_fail(src_h > 0 && src_w > 0 && out_h > 0 && out_w > 0);
  g_return_if_fail(src_c == 1 || src_c == 3);
  Scratch s;
  scratch_init(&s, src_h, src_w, out_h, out_w);
  augment_one(src, src_h, src_w, src_c, out_h, out_w, params, &s, out);
  scratch_clear(&s);
}

void
sc_augment_batch_cpu(const ScAugmentBatch *batch, float *out)
{
  g_return_if_fail(batch != NULL && out != NULL);
  const ScAugmentBatch *b = batch;
  g_return_if_fail(b->batch >= 0 && (b->batch == 0 || b->images != NULL));
  g_return_if_fail(b->src_h > 0 && b->src_w > 0 && b->out_h > 0 && b->out_w > 0);
  g_return_if_fail(b->src_c == 1 || b->src_c == 3);

  const size_t src_bytes = (size_t)b->src_h * b->src_w * b->src_c;
  const size_t out_floats = (size_t)b->out_h * b->out_w * 3;
#pragma omp parallel if (b->batch > 1)
  {
    Scratch s;
    scratch_init(&s, b->src_h, b->src_w, b->out_h, b->out_w);
#pragma omp for schedule(static)
    for (int i = 0; i < b->batch; i++) {
      ScAugmentParams prm;
      if (b->training)
        sc_augment_draw(&b->strength, b->out_h, b->out_w, b->seed, b->purpose, b->epoch,
                        b->step, (uint32_t)i, &prm);
      augment_one(b->images + (size_t)i * src_bytes, b->src_h, b->src_w, b->src_c, b->out_h,
                  b->out_w, b->training ? &prm : NULL, &s, out + (size_t)i * out_floats);
    }
    scratch_clear(&s);
  }
}
