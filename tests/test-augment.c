/* The augmenter: the reference's worked examples (sections 3.5, 3.6), exact
 * identities (flip, zero strength, inference), ranges of the draws and
 * reproducibility of the keyed generator. */
#include "augment.h"

#include "sc-error.h"

#include <math.h>
#include <string.h>

#define S 96

/* Parameters that change nothing: no flip, no shift, zoom 1, identity colour. */
static ScAugmentParams
identity_params(void)
{
  ScAugmentParams p = { .flip = false, .dx = 0, .dy = 0, .zx = 1, .zy = 1, .brightness = 1 };
  return p;
}

/* A (h, w, 3) image with pixel (y, x) = (f(y, x), g, b) distinct per channel. */
static uint8_t *
pattern_image(int h, int w, int c, guint32 seed)
{
  GRand *r = g_rand_new_with_seed(seed);
  uint8_t *img = g_new(uint8_t, (size_t)h * w * c);
  for (size_t i = 0; i < (size_t)h * w * c; i++)
    img[i] = (uint8_t)g_rand_int_range(r, 0, 256);
  g_rand_free(r);
  return img;
}

static void
test_flip_forced(void)
{
  g_autofree uint8_t *img = pattern_image(S, S, 3, 1);
  g_autofree float *out = g_new(float, S * S * 3);
  ScAugmentParams p = identity_params();
  p.flip = true;
  sc_augment_image(img, S, S, 3, S, S, &p, out);
  /* out[y][x] = in[y][W - 1 - x] exactly, for every pixel and channel. */
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat(out[(y * S + x) * 3 + c], ==,
                          img[(y * S + (S - 1 - x)) * 3 + c] * (1.0f / 255.0f));
  /* And in particular pixel (0, 0) lands at (0, W - 1). */
  g_assert_cmpfloat(out[(S - 1) * 3], ==, img[0] * (1.0f / 255.0f));
  g_assert_cmpfloat(out[0], !=, img[0] * (1.0f / 255.0f));
}

static void
test_identity_params_exact(void)
{
  g_autofree uint8_t *img = pattern_image(S, S, 3, 2);
  g_autofree float *out = g_new(float, S * S * 3);
  ScAugmentParams p = identity_params();
  sc_augment_image(img, S, S, 3, S, S, &p, out);
  for (int i = 0; i < S * S * 3; i++)
    g_assert_cmpfloat(out[i], ==, img[i] * (1.0f / 255.0f));
}

/* Zero strengths draw only identity parameters (the flip aside). */
static void
test_zero_strength_exact(void)
{
  g_autofree uint8_t *img = pattern_image(S, S, 3, 3);
  g_autofree float *out = g_new(float, S * S * 3);
  ScAugmentStrength zero = { 1.0f, 0.0f, 0.0f };
  int tested = 0;
  for (uint32_t i = 0; i < 40; i++) {
    ScAugmentParams p;
    sc_augment_draw(&zero, S, S, 5, SC_RNG_TEST, 0, 0, i, &p);
    g_assert_cmpfloat(p.dx, ==, 0);
    g_assert_cmpfloat(p.dy, ==, 0);
    g_assert_cmpfloat(p.zx, ==, 1);
    g_assert_cmpfloat(p.zy, ==, 1);
    g_assert_cmpfloat(p.brightness, ==, 1);
    if (p.flip)
      continue;
    tested++;
    sc_augment_image(img, S, S, 3, S, S, &p, out);
    for (int k = 0; k < S * S * 3; k++)
      g_assert_cmpfloat(out[k], ==, img[k] * (1.0f / 255.0f));
  }
  g_assert_cmpint(tested, >, 5);
}

static void
test_inference_exact(void)
{
  /* 255 and 0 are included: no clipping or other logic touches them. */
  g_autofree uint8_t *img = pattern_image(S, S, 3, 4);
  img[0] = 255;
  img[1] = 0;
  g_autofree float *out = g_new(float, S * S * 3);
  sc_augment_image(img, S, S, 3, S, S, NULL, out);
  for (int i = 0; i < S * S * 3; i++)
    g_assert_cmpfloat(out[i], ==, (float)img[i] * (1.0f / 255.0f));
  g_assert_cmpfloat(out[0], ==, 1.0f);
  /* The multiply is not a divide: 0.0039215688593685627 is float32(1/255). */
  g_assert_cmpfloat((double)(1.0f / 255.0f), ==, 0.0039215688593685627);

  /* A batch with training off gives the same, grey expanded to 3 equal channels. */
  g_autofree uint8_t *grey = pattern_image(S, S, 1, 5);
  ScAugmentBatch b = { .images = grey, .batch = 1, .src_h = S, .src_w = S, .src_c = 1,
                       .out_h = S, .out_w = S, .training = false,
                       .strength = SC_AUGMENT_STRONG };
  sc_augment_batch_cpu(&b, out);
  for (int i = 0; i < S * S; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat(out[i * 3 + c], ==, grey[i] * (1.0f / 255.0f));
}

/* Section 3.5: zx = 0.75, zy = 0.6. Red = column / 255 and green = row / 255
 * are linear ramps, so bilinear sampling returns the sample coordinate / 255
 * (below 1, so the identity colour and the clip leave it alone). */
static void
test_zoom_worked_example(void)
{
  g_autofree uint8_t *img = g_new(uint8_t, S * S * 3);
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      img[(y * S + x) * 3 + 0] = (uint8_t)x;
      img[(y * S + x) * 3 + 1] = (uint8_t)y;
      img[(y * S + x) * 3 + 2] = 0;
    }
  g_autofree float *out = g_new(float, S * S * 3);
  ScAugmentParams p = identity_params();
  p.zx = 0.75f;
  p.zy = 0.6f;
  sc_augment_image(img, S, S, 3, S, S, &p, out);

  const float tol = 2e-4f; /* in units of pixels */
  g_assert_cmpfloat_with_epsilon(out[0] * 255.0f, 11.875f, tol);
  g_assert_cmpfloat_with_epsilon(out[1] * 255.0f, 19.0f, tol);
  const float *last = out + ((S - 1) * S + (S - 1)) * 3;
  g_assert_cmpfloat_with_epsilon(last[0] * 255.0f, 83.125f, tol);
  g_assert_cmpfloat_with_epsilon(last[1] * 255.0f, 76.0f, tol);
  /* The fixed point is the centre 47.5: x_in = 0.75 (x - 47.5) + 47.5. */
  for (int x = 0; x < S; x++)
    g_assert_cmpfloat_with_epsilon(out[x * 3] * 255.0f, 0.75f * (x - 47.5f) + 47.5f, tol);
}

/* Section 3.6: dx = +-9.6 on W = 96 with reflect fill. Each column of the
 * source holds its own value; rows are equal, so only x matters. */
static void
test_translation_worked_example(void)
{
  g_autofree uint8_t *img = g_new(uint8_t, S * S);
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++)
      img[y * S + x] = (uint8_t)(2 * x + 3); /* col_x = (2x + 3) / 255 */
  g_autofree float *out = g_new(float, S * S * 3);
#define COL(x) ((2.0f * (x) + 3.0f) / 255.0f)
  const float tol = 1e-5f;

  ScAugmentParams p = identity_params();
  p.dx = 9.6f;
  sc_augment_image(img, S, S, 1, S, S, &p, out);
  const float *row = out + 5 * S * 3; /* any row */
  g_assert_cmpfloat_with_epsilon(row[0 * 3], 0.4f * COL(8) + 0.6f * COL(9), tol);
  g_assert_cmpfloat_with_epsilon(row[9 * 3], COL(0), tol);
  g_assert_cmpfloat_with_epsilon(row[10 * 3], 0.6f * COL(0) + 0.4f * COL(1), tol);
  /* Reflect, not mirror: column 8 samples -1.6 -> 0.6, 0.4 col0 + 0.6 col1. */
  g_assert_cmpfloat_with_epsilon(row[8 * 3], 0.4f * COL(0) + 0.6f * COL(1), tol);

  p.dx = -9.6f;
  sc_augment_image(img, S, S, 1, S, S, &p, out);
  row = out + 7 * S * 3;
  g_assert_cmpfloat_with_epsilon(row[90 * 3], 0.6f * COL(91) + 0.4f * COL(92), tol);
  /* Column 86 samples 95.6, in (n - 1, n): clamped to column 95. */
  g_assert_cmpfloat_with_epsilon(row[86 * 3], COL(95), tol);
  g_assert_cmpfloat_with_epsilon(row[0], 0.4f * COL(9) + 0.6f * COL(10), tol);

  /* The same along y: dy = 9.6 mirrors the x example onto rows. */
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++)
      img[y * S + x] = (uint8_t)(2 * y + 3);
  p = identity_params();
  p.dy = 9.6f;
  sc_augment_image(img, S, S, 1, S, S, &p, out);
  g_assert_cmpfloat_with_epsilon(out[(0 * S + 4) * 3], 0.4f * COL(8) + 0.6f * COL(9), tol);
  g_assert_cmpfloat_with_epsilon(out[(9 * S + 4) * 3], COL(0), tol);
#undef COL
}

static void
test_batch_slots(void)
{
  const int n = 7;
  g_autofree uint8_t *imgs = g_new(uint8_t, (size_t)n * S * S * 3);
  for (int i = 0; i < n; i++)
    memset(imgs + (size_t)i * S * S * 3, 20 + 30 * i, S * S * 3);
  g_autofree float *out = g_new(float, (size_t)n * S * S * 3);
  ScAugmentBatch b = { .images = imgs, .batch = n, .src_h = S, .src_w = S, .src_c = 3,
                       .out_h = S, .out_w = S, .training = true,
                       .strength = { 0.25f, 0.0f, 0.0f }, .seed = 9,
                       .purpose = SC_RNG_TEST, .epoch = 1, .step = 2 };
  sc_augment_batch_cpu(&b, out);
  /* No colour change and a constant source: every pixel equals the source. */
  for (int i = 0; i < n; i++) {
    const float want = (float)(20 + 30 * i) * (1.0f / 255.0f);
    for (int k = 0; k < S * S * 3; k++)
      g_assert_cmpfloat_with_epsilon(out[(size_t)i * S * S * 3 + k], want, 1e-6);
  }

  /* With colour: image i equals sc_augment_image with index i's draws. */
  b.strength = SC_AUGMENT_STRONG;
  g_autofree uint8_t *pat = g_new(uint8_t, (size_t)n * S * S * 3);
  for (int i = 0; i < n; i++) {
    g_autofree uint8_t *one = pattern_image(S, S, 3, 100 + i);
    memcpy(pat + (size_t)i * S * S * 3, one, S * S * 3);
  }
  b.images = pat;
  sc_augment_batch_cpu(&b, out);
  g_autofree float *want = g_new(float, S * S * 3);
  for (int i = 0; i < n; i++) {
    ScAugmentParams p;
    sc_augment_draw(&b.strength, S, S, b.seed, b.purpose, b.epoch, b.step, i, &p);
    sc_augment_image(pat + (size_t)i * S * S * 3, S, S, 3, S, S, &p, want);
    g_assert_cmpmem(out + (size_t)i * S * S * 3, S * S * 3 * sizeof(float), want,
                    S * S * 3 * sizeof(float));
  }
}

static void
test_constant_stays_constant(void)
{
  g_autofree uint8_t *img = g_new(uint8_t, S * S * 3);
  g_autofree float *out = g_new(float, S * S * 3);
  ScAugmentStrength wide = { 0.05f, 0.0f, 0.0f }; /* zf = 0.78: big shifts */
  for (uint32_t i = 0; i < 50; i++) {
    memset(img, (int)(i * 5 + 1), S * S * 3);
    ScAugmentParams p;
    sc_augment_draw(&wide, S, S, 11, SC_RNG_TEST, 0, 0, i, &p);
    /* Push translations beyond the image, into the far reflected copies. */
    if (i % 5 == 0) {
      p.dx = 150.3f * (i % 2 ? 1 : -1);
      p.dy = -201.7f;
    }
    sc_augment_image(img, S, S, 3, S, S, &p, out);
    const float want = (float)(i * 5 + 1) * (1.0f / 255.0f);
    for (int k = 0; k < S * S * 3; k++)
      g_assert_cmpfloat_with_epsilon(out[k], want, 1e-6);
  }
}

static void
test_colour_in_unit_range(void)
{
  g_autofree uint8_t *img = pattern_image(S, S, 3, 6);
  g_autofree float *out = g_new(float, S * S * 3);
  int at_zero = 0, at_one = 0;
  for (uint32_t i = 0; i < 60; i++) {
    ScAugmentParams p;
    ScAugmentStrength strong = SC_AUGMENT_STRONG;
    sc_augment_draw(&strong, S, S, 12, SC_RNG_TEST, 0, 0, i, &p);
    sc_augment_image(img, S, S, 3, S, S, &p, out);
    for (int k = 0; k < S * S * 3; k++) {
      g_assert_true(out[k] >= 0.0f && out[k] <= 1.0f);
      at_zero += out[k] == 0.0f;
      at_one += out[k] == 1.0f;
    }
  }
  /* Strong colour does push values past both ends, so the clip acted. */
  g_assert_cmpint(at_zero, >, 0);
  g_assert_cmpint(at_one, >, 0);
}

static void
test_draw_ranges(void)
{
  ScAugmentStrength s = SC_AUGMENT_STRONG;
  const float zf = 1.0f - sqrtf(s.min_area);
  const int n = 1000;
  int flips = 0;
  double sum_b = 0, sum_zx = 0, sum_dx = 0;
  float min_z = 2, max_z = 0, min_b = 2, max_b = 0, max_shift = 0, max_j = 0;
  for (int i = 0; i < n; i++) {
    ScAugmentParams p;
    sc_augment_draw(&s, S, 64, 77, SC_RNG_TEST, 3, 4, (uint32_t)i, &p);
    flips += p.flip;
    g_assert_cmpfloat(fabsf(p.dy), <=, zf / 2 * S);
    g_assert_cmpfloat(fabsf(p.dx), <=, zf / 2 * 64);
    max_shift = MAX(max_shift, fabsf(p.dx) / 64);
    g_assert_cmpfloat(p.zx, >=, 1 - zf);
    g_assert_cmpfloat(p.zx, <=, 1);
    g_assert_cmpfloat(p.zy, >=, 1 - zf);
    g_assert_cmpfloat(p.zy, <=, 1);
    min_z = MIN(min_z, MIN(p.zx, p.zy));
    max_z = MAX(max_z, MAX(p.zx, p.zy));
    g_assert_cmpfloat(p.brightness, >=, 1 - s.brightness);
    g_assert_cmpfloat(p.brightness, <, 1 + s.brightness);
    min_b = MIN(min_b, p.brightness);
    max_b = MAX(max_b, p.brightness);
    for (int k = 0; k < 9; k++) {
      g_assert_cmpfloat(fabsf(p.jitter[k]), <=, s.jitter);
      max_j = MAX(max_j, fabsf(p.jitter[k]));
    }
    sum_b += p.brightness;
    sum_zx += p.zx;
    sum_dx += p.dx;
  }
  /* Flip rate 1/2 within 4 sigma (sigma = sqrt(n) / 2). */
  g_assert_cmpfloat(fabs(flips - n / 2.0), <, 4 * sqrt(n) / 2);
  /* Means within 4 sigma of a uniform's, and the ranges are filled out. */
  g_assert_cmpfloat(fabs(sum_b / n - 1), <, 4 * (2 * s.brightness / sqrt(12)) / sqrt(n));
  g_assert_cmpfloat(fabs(sum_zx / n - (1 - zf / 2)), <, 4 * (zf / sqrt(12)) / sqrt(n));
  g_assert_cmpfloat(fabs(sum_dx / n), <, 4 * (zf * 64 / sqrt(12)) / sqrt(n));
  g_assert_cmpfloat(min_z, <, 1 - 0.95f * zf);
  g_assert_cmpfloat(max_z, >, 1 - 0.05f * zf);
  g_assert_cmpfloat(min_b, <, 1 - 0.95f * s.brightness);
  g_assert_cmpfloat(max_b, >, 1 + 0.95f * s.brightness);
  g_assert_cmpfloat(max_shift, >, 0.95f * zf / 2);
  g_assert_cmpfloat(max_j, >, 0.95f * s.jitter);
}

static void
test_keyed_replay(void)
{
  g_autofree uint8_t *img = pattern_image(S, S, 3, 7);
  g_autofree float *a = g_new(float, S * S * 3);
  g_autofree float *b = g_new(float, S * S * 3);
  ScAugmentBatch batch = { .images = img, .batch = 1, .src_h = S, .src_w = S, .src_c = 3,
                           .out_h = S, .out_w = S, .training = true,
                           .strength = SC_AUGMENT_STRONG, .seed = 1234,
                           .purpose = SC_RNG_AUG_VIEW1, .epoch = 2, .step = 17 };
  sc_augment_batch_cpu(&batch, a);
  sc_augment_batch_cpu(&batch, b);
  g_assert_cmpmem(a, S * S * 3 * sizeof(float), b, S * S * 3 * sizeof(float));

  /* Another step, purpose or seed changes the image. */
  uint32_t *fields[] = { &batch.step, &batch.purpose, &batch.epoch };
  for (size_t f = 0; f < G_N_ELEMENTS(fields); f++) {
    uint32_t keep = *fields[f];
    *fields[f] = keep + 1;
    sc_augment_batch_cpu(&batch, b);
    g_assert_true(memcmp(a, b, S * S * 3 * sizeof(float)) != 0);
    *fields[f] = keep;
  }
}

static void
test_resize_28_to_96(void)
{
  const int n = 28;
  g_autofree uint8_t *img = g_new(uint8_t, n * n);
  g_autofree float *out = g_new(float, S * S * 3);

  memset(img, 77, n * n);
  sc_augment_image(img, n, n, 1, S, S, NULL, out);
  for (int k = 0; k < S * S * 3; k++)
    g_assert_cmpfloat_with_epsilon(out[k], 77.0f / 255.0f, 1e-6);

  /* A horizontal ramp stays a ramp: non-decreasing along x, constant along y,
   * with the end values at the ends (half-pixel centres clamp at the edges). */
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++)
      img[y * n + x] = (uint8_t)(9 * x);
  sc_augment_image(img, n, n, 1, S, S, NULL, out);
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      const float *px = out + (y * S + x) * 3;
      g_assert_cmpfloat(px[0], ==, px[1]);
      g_assert_cmpfloat(px[0], ==, px[2]);
      g_assert_cmpfloat(px[0], ==, out[x * 3]);
      if (x > 0)
        g_assert_cmpfloat(px[0], >=, px[-3]);
    }
  g_assert_cmpfloat(out[0], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon(out[(S - 1) * 3], 243.0f / 255.0f, 1e-6);
  /* tf.image.resize's sample point: output x = 48 samples 48.5 * 28/96 - 0.5. */
  const float t = 48.5f * 28.0f / 96.0f - 0.5f;
  g_assert_cmpfloat_with_epsilon(out[48 * 3], 9.0f * t / 255.0f, 1e-5);
  int strictly = 0;
  for (int x = 1; x < S; x++)
    strictly += out[x * 3] > out[(x - 1) * 3];
  g_assert_cmpint(strictly, >, 80);

  /* Training at 96 after the resize: a constant 28 px image stays constant. */
  memset(img, 200, n * n);
  ScAugmentParams p;
  ScAugmentStrength strong = { 0.25f, 0.0f, 0.0f };
  sc_augment_draw(&strong, S, S, 3, SC_RNG_TEST, 0, 0, 0, &p);
  sc_augment_image(img, n, n, 1, S, S, &p, out);
  for (int k = 0; k < S * S * 3; k++)
    g_assert_cmpfloat_with_epsilon(out[k], 200.0f / 255.0f, 1e-6);
}

static void
test_strength_validate(void)
{
  const struct {
    ScAugmentStrength s;
    const char *field; /* NULL: valid */
  } cases[] = {
    { { 0.25f, 0.6f, 0.2f }, NULL },
    { { 1.0f, 0.0f, 0.0f }, NULL },
    { { 0.0f, 0.6f, 0.2f }, "min_area" },
    { { 1.5f, 0.6f, 0.2f }, "min_area" },
    { { NAN, 0.6f, 0.2f }, "min_area" },
    { { 0.5f, 1.0f, 0.2f }, "brightness" },
    { { 0.5f, -0.1f, 0.2f }, "brightness" },
    { { 0.5f, 0.1f, -0.2f }, "jitter" },
    { { 0.5f, 0.1f, INFINITY }, "jitter" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    gboolean ok = sc_augment_strength_validate(&cases[i].s, "--strong", &error);
    if (!cases[i].field) {
      g_assert_no_error(error);
      g_assert_true(ok);
      continue;
    }
    g_assert_false(ok);
    g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "--strong"));
    g_assert_nonnull(strstr(error->message, cases[i].field));
  }
}

/* Not a correctness test: prints images per second with -m perf. */
static void
test_speed(void)
{
  if (!g_test_perf()) {
    g_test_skip("run with -m perf");
    return;
  }
  const int sizes[][2] = { { 96, 3 }, { 28, 1 } };
  for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
    const int src = sizes[k][0], c = sizes[k][1], n = 1050;
    g_autofree uint8_t *imgs = pattern_image(src, src * n, c, 8);
    g_autofree float *out = g_new(float, (size_t)n * S * S * 3);
    ScAugmentBatch b = { .images = imgs, .batch = n, .src_h = src, .src_w = src,
                         .src_c = c, .out_h = S, .out_w = S, .training = true,
                         .strength = SC_AUGMENT_STRONG, .seed = 1 };
    sc_augment_batch_cpu(&b, out);
    g_test_timer_start();
    const int reps = 5;
    for (int r = 0; r < reps; r++) {
      b.step = (uint32_t)r;
      sc_augment_batch_cpu(&b, out);
    }
    double s = g_test_timer_elapsed();
    g_test_minimized_result(s / (reps * n), "strong %dx%dx%d -> 96x96x3: %.0f images/s",
                            src, src, c, reps * n / s);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/Augment/flip-forced", test_flip_forced);
  g_test_add_func("/Augment/identity-params-exact", test_identity_params_exact);
  g_test_add_func("/Augment/zero-strength-exact", test_zero_strength_exact);
  g_test_add_func("/Augment/inference-exact", test_inference_exact);
  g_test_add_func("/Augment/zoom-worked-example", test_zoom_worked_example);
  g_test_add_func("/Augment/translation-worked-example", test_translation_worked_example);
  g_test_add_func("/Augment/batch-slots", test_batch_slots);
  g_test_add_func("/Augment/constant-stays-constant", test_constant_stays_constant);
  g_test_add_func("/Augment/colour-in-unit-range", test_colour_in_unit_range);
  g_test_add_func("/Augment/draw-ranges", test_draw_ranges);
  g_test_add_func("/Augment/keyed-replay", test_keyed_replay);
  g_test_add_func("/Augment/resize-28-to-96", test_resize_28_to_96);
  g_test_add_func("/Augment/strength-validate", test_strength_validate);
  g_test_add_func("/Augment/speed", test_speed);
  return g_test_run();
}
