/* The preview figure: PNG written and read back, rows differ, cells are not
 * blank, write errors name the path. */
#include "preview.h"

#include "sc-error.h"
#include "test-util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N SC_PREVIEW_COLUMNS

/* 8 synthetic (h, w, c) images: a bright block at a per-image position on a
 * textured background, so flips and shifts change the pixels. */
static uint8_t *
synthetic_images(int h, int w, int c)
{
  uint8_t *img = g_new(uint8_t, (size_t)N * h * w * c);
  for (int i = 0; i < N; i++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int k = 0; k < c; k++) {
          bool block = x >= i * w / 12 && x < i * w / 12 + w / 3 && y > h / 4 && y < h / 2;
          int v = block ? 230 - 40 * k : (x * 7 + y * 3 + 50 * k + 20 * i) % 120;
          img[(((size_t)i * h + y) * w + x) * c + k] = (uint8_t)v;
        }
  return img;
}

static ScPreviewSpec
spec_for(const uint8_t *images, int h, int w, int c, int out)
{
  ScPreviewSpec spec = { .images = images, .h = h, .w = w, .c = c, .out_size = out,
                         .weak = SC_AUGMENT_WEAK, .strong = SC_AUGMENT_STRONG, .seed = 5 };
  return spec;
}

/* Pixel (x, y) of an ARGB32/RGB24 surface as 0xRRGGBB. */
static uint32_t
pixel(cairo_surface_t *s, int x, int y)
{
  const uint8_t *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  return ((const uint32_t *)(data + (size_t)y * stride))[x] & 0xFFFFFFu;
}

static void
test_write_png_and_read_back(void)
{
  const int h = 40, w = 40, c = 3, out = 48;
  g_autofree uint8_t *images = synthetic_images(h, w, c);
  ScPreviewSpec spec = spec_for(images, h, w, c, out);
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "preview.png", NULL);

  g_autoptr(GError) error = NULL;
  g_assert_true(sc_preview_write_png(&spec, path, &error));
  g_assert_no_error(error);

  /* Nothing but the PNG is left in the folder (the temporary was renamed). */
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  int entries = 0;
  while (g_dir_read_name(d))
    entries++;
  g_assert_cmpint(entries, ==, 1);

  cairo_surface_t *png = cairo_image_surface_create_from_png(path);
  g_assert_cmpint(cairo_surface_status(png), ==, CAIRO_STATUS_SUCCESS);
  int fw, fh;
  sc_preview_figure_size(&spec, &fw, &fh);
  g_assert_cmpint(cairo_image_surface_get_width(png), ==, fw);
  g_assert_cmpint(cairo_image_surface_get_height(png), ==, fh);
  g_assert_cmpint(fw, >, N * out);
  g_assert_cmpint(fh, >, 4 * out);

  /* Locate the grid from the right edge along row 0 (the original row, whose
   * pixels are never white): margin, then a cell, then a gap. */
  const int yr = fh / 8;
  int x = fw - 1;
  while (x > 0 && pixel(png, x, yr) == 0xFFFFFF)
    x--;
  const int margin = fw - 1 - x, right = x;
  while (x > 0 && pixel(png, x, yr) != 0xFFFFFF)
    x--;
  g_assert_cmpint(right - x, ==, out);
  const int gap_end = x;
  while (x > 0 && pixel(png, x, yr) == 0xFFFFFF)
    x--;
  const int gap = gap_end - x;
  g_assert_cmpint(gap, >=, 1);
  g_assert_cmpint(fh, ==, 2 * margin + 4 * out + 3 * gap);
  /* The top margin equals the side margins. */
  int y = 0;
  while (pixel(png, right, y) == 0xFFFFFF)
    y++;
  g_assert_cmpint(y, ==, margin);
  const int left = right + 1 - (N * out + (N - 1) * gap);
  g_assert_cmpint(left, >, margin); /* room for the labels */

  /* Some label ink (dark pixels) left of the grid. */
  int ink = 0;
  for (int ly = margin; ly < fh - margin; ly++)
    for (int lx = 0; lx < left - 1; lx++)
      ink += (pixel(png, lx, ly) & 0xFF) < 128;
  if (ink == 0)
    g_test_message("no label text drawn (no fonts?)");

  /* Cells: not blank (many distinct colours), and the rows differ. */
  double diff[4][4] = { { 0 } };
  for (int col = 0; col < N; col++) {
    for (int r = 0; r < 4; r++) {
      const int x0 = left + col * (out + gap), y0 = margin + r * (out + gap);
      g_autoptr(GHashTable) colours = g_hash_table_new(NULL, NULL);
      for (int cy = 0; cy < out; cy++)
        for (int cx = 0; cx < out; cx++) {
          uint32_t p = pixel(png, x0 + cx, y0 + cy);
          g_hash_table_add(colours, GUINT_TO_POINTER(p));
          for (int q = 0; q < 4; q++) {
            uint32_t o = pixel(png, x0 + cx, margin + q * (out + gap) + cy);
            for (int k = 0; k < 24; k += 8)
              diff[r][q] += abs((int)((p >> k) & 0xFF) - (int)((o >> k) & 0xFF));
          }
        }
      g_assert_cmpuint(g_hash_table_size(colours), >, 20);
    }
    /* The gap right of each cell is white. */
    if (col < N - 1)
      g_assert_cmphex(pixel(png, left + col * (out + gap) + out, margin + out / 2), ==,
                      0xFFFFFF);
  }
  for (int a = 0; a < 4; a++)
    for (int b = a + 1; b < 4; b++)
      g_assert_cmpfloat(diff[a][b] / (N * out * out * 3), >, 2.0);

  /* The original row is the inference view: a 40 -> 48 resize of image 0. */
  g_autofree float *view = g_new(float, out * out * 3);
  sc_augment_image(images, h, w, c, out, out, NULL, view);
  for (int cy = 0; cy < out; cy += 7)
    for (int cx = 0; cx < out; cx += 5) {
      uint32_t p = pixel(png, left + cx, margin + cy);
      g_assert_cmpint((int)(p >> 16), ==, (int)lrintf(view[(cy * out + cx) * 3] * 255.0f));
    }

  cairo_surface_destroy(png);
  sc_test_rmtree(dir);
}

static void
test_rgba_matches_surface(void)
{
  const int h = 28, w = 28, c = 1, out = 32;
  g_autofree uint8_t *images = synthetic_images(h, w, c);
  ScPreviewSpec spec = spec_for(images, h, w, c, out);
  g_autoptr(GError) error = NULL;
  cairo_surface_t *surface = sc_preview_render(&spec, &error);
  g_assert_no_error(error);
  int rw = 0, rh = 0;
  g_autoptr(GBytes) rgba = sc_preview_render_rgba(&spec, &rw, &rh, &error);
  g_assert_no_error(error);
  g_assert_cmpint(rw, ==, cairo_image_surface_get_width(surface));
  g_assert_cmpint(rh, ==, cairo_image_surface_get_height(surface));
  g_assert_cmpuint(g_bytes_get_size(rgba), ==, (gsize)rw * rh * 4);
  const uint8_t *b = g_bytes_get_data(rgba, NULL);
  for (int y = 0; y < rh; y += 3)
    for (int x = 0; x < rw; x += 3) {
      uint32_t p = pixel(surface, x, y);
      const uint8_t *q = b + ((size_t)y * rw + x) * 4;
      g_assert_cmpuint(q[0], ==, p >> 16);
      g_assert_cmpuint(q[1], ==, (p >> 8) & 0xFF);
      g_assert_cmpuint(q[2], ==, p & 0xFF);
      g_assert_cmpuint(q[3], ==, 255);
    }
  cairo_surface_destroy(surface);
}

static void
test_errors(void)
{
  g_autofree uint8_t *images = synthetic_images(16, 16, 3);
  ScPreviewSpec spec = spec_for(images, 16, 16, 3, 16);
  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "no-such-folder", "preview.png", NULL);

  g_autoptr(GError) error = NULL;
  g_assert_false(sc_preview_write_png(&spec, path, &error));
  g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_IO);
  /* The file asked for and the reason, not GLib's temporary file. */
  g_autofree char *want = g_strdup_printf("Cannot write %s: its folder %s/no-such-folder "
                                          "does not exist", path, dir);
  g_assert_true(g_str_has_prefix(error->message, want));
  g_assert_null(strstr(error->message, "preview.png."));
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_clear_error(&error);

  /* A bad strength is named before anything is drawn. */
  spec.strong.brightness = 1.5f;
  g_assert_null(sc_preview_render(&spec, &error));
  g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "brightness"));
  g_clear_error(&error);

  spec.strong = SC_AUGMENT_STRONG;
  spec.c = 2;
  g_assert_false(sc_preview_write_png(&spec, path, &error));
  g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  sc_test_rmtree(dir);
}

/* Scale 3: three times the size, each cell pixel a sharp 3x3 block of
 * the unscaled figure's pixel; scale 0 is refused. */
static void
test_scaled(void)
{
  const int h = 20, w = 20, c = 3, out = 32, k = 3;
  g_autofree uint8_t *images = synthetic_images(h, w, c);
  ScPreviewSpec spec = spec_for(images, h, w, c, out);
  g_autoptr(GError) error = NULL;
  cairo_surface_t *one = sc_preview_render(&spec, &error);
  g_assert_no_error(error);
  cairo_surface_t *big = sc_preview_render_scaled(&spec, k, &error);
  g_assert_no_error(error);
  int fw = cairo_image_surface_get_width(one), fh = cairo_image_surface_get_height(one);
  g_assert_cmpint(cairo_image_surface_get_width(big), ==, k * fw);
  g_assert_cmpint(cairo_image_surface_get_height(big), ==, k * fh);
  /* The bottom-right cell ends a margin from the figure's corner; the margin
   * is at least 4 px, so the cell's last out x out pixels before it are in. */
  int distinct = 0;
  uint32_t first = pixel(one, fw - 4 - out, fh - 4 - out);
  for (int y = fh - 4 - out; y < fh - 4; y++)
    for (int x = fw - 4 - out; x < fw - 4; x++) {
      uint32_t want = pixel(one, x, y);
      distinct += want != first;
      for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++)
          if (pixel(big, k * x + dx, k * y + dy) != want)
            g_error("scaled pixel (%d, %d) is %06x, expected %06x as at (%d, %d)",
                    k * x + dx, k * y + dy, pixel(big, k * x + dx, k * y + dy), want, x, y);
    }
  g_assert_cmpint(distinct, >, 0);
  cairo_surface_destroy(one);
  cairo_surface_destroy(big);

  g_autofree char *dir = sc_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "preview.png", NULL);
  g_assert_false(sc_preview_write_png_scaled(&spec, 0, path, &error));
  g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "scale"));
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  sc_test_rmtree(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/Preview/write-png-and-read-back", test_write_png_and_read_back);
  g_test_add_func("/Preview/rgba-matches-surface", test_rgba_matches_surface);
  g_test_add_func("/Preview/errors", test_errors);
  g_test_add_func("/Preview/scaled", test_scaled);
  return g_test_run();
}
