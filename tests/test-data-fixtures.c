/* Data-set fixtures written at test time (see test-data-fixtures.h). */
#include "test-data-fixtures.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>
#include <zlib.h>

#include "data/readers.h"
#include "sc-error.h"

void
fx_write(const char *dir, const char *name, const void *data, gsize len)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
  g_autoptr(GError) error = NULL;
  g_file_set_contents(path, data, (gssize)len, &error);
  g_assert_no_error(error);
}

void
fx_write_text(const char *dir, const char *name, const char *text)
{
  fx_write(dir, name, text, strlen(text));
}

GByteArray *
fx_stl10_records(size_t n)
{
  GByteArray *a = g_byte_array_sized_new(n * SC_STL10_RECORD_BYTES);
  g_byte_array_set_size(a, n * SC_STL10_RECORD_BYTES);
  for (size_t i = 0; i < n; i++)
    for (int ch = 0; ch < 3; ch++)
      for (int col = 0; col < 96; col++)
        for (int row = 0; row < 96; row++)
          a->data[i * SC_STL10_RECORD_BYTES + ch * 9216 + col * 96 + row] =
              fx_pattern(i, row, col, ch);
  return a;
}

static void
write_stl10_split(const char *dir, const char *x, const char *y, size_t n)
{
  g_autoptr(GByteArray) records = fx_stl10_records(n);
  fx_write(dir, x, records->data, records->len);
  if (y == NULL)
    return;
  g_autofree guint8 *labels = g_new(guint8, MAX(n, 1));
  for (size_t i = 0; i < n; i++)
    labels[i] = (guint8)(i % 10 + 1);
  fx_write(dir, y, labels, n);
}

void
fx_stl10_folder(const char *dir, size_t n_train, size_t n_test, size_t n_unlabeled)
{
  write_stl10_split(dir, "train_X.bin", "train_y.bin", n_train);
  write_stl10_split(dir, "test_X.bin", "test_y.bin", n_test);
  if (n_unlabeled > 0)
    write_stl10_split(dir, "unlabeled_X.bin", NULL, n_unlabeled);
  fx_write_text(dir, "class_names.txt",
                "airplane\r\nbird\r\ncar \r\ncat\r\ndeer\r\ndog\r\nhorse\r\nmonkey\r\n"
                "ship\r\ntruck\r\n\r\n");
}

GByteArray *
fx_cifar10_records(size_t n, size_t first, const guint8 *labels)
{
  GByteArray *a = g_byte_array_new();
  g_byte_array_set_size(a, n * SC_CIFAR10_RECORD_BYTES);
  for (size_t i = 0; i < n; i++) {
    guint8 *rec = a->data + i * SC_CIFAR10_RECORD_BYTES;
    rec[0] = labels[i];
    for (int ch = 0; ch < 3; ch++)
      for (int r = 0; r < 32; r++)
        for (int c = 0; c < 32; c++)
          rec[1 + ch * 1024 + r * 32 + c] = fx_pattern(first + i, r, c, ch);
  }
  return a;
}

void
fx_cifar10_folder(const char *dir)
{
  size_t first = 0;
  for (int b = 1; b <= 5; b++) {
    guint8 labels[5];
    for (int i = 0; i < b; i++)
      labels[i] = (guint8)((first + i) % 10);
    g_autoptr(GByteArray) recs = fx_cifar10_records(b, first, labels);
    g_autofree char *name = g_strdup_printf("data_batch_%d.bin", b);
    fx_write(dir, name, recs->data, recs->len);
    first += b;
  }
  const guint8 test_labels[4] = { 3, 1, 4, 1 };
  g_autoptr(GByteArray) test = fx_cifar10_records(4, 100, test_labels);
  fx_write(dir, "test_batch.bin", test->data, test->len);
  fx_write_text(dir, "batches.meta.txt", "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\n"
                                         "horse\nship\ntruck\n\n");
}

static void
put_be32(GByteArray *a, uint32_t v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append(a, b, 4);
}

GByteArray *
fx_idx_images(size_t n, int rows, int cols)
{
  GByteArray *a = g_byte_array_new();
  const guint8 magic[4] = { 0, 0, 8, 3 };
  g_byte_array_append(a, magic, 4);
  put_be32(a, n);
  put_be32(a, rows);
  put_be32(a, cols);
  for (size_t i = 0; i < n; i++)
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++) {
        guint8 v = fx_pattern(i, r, c, 0);
        g_byte_array_append(a, &v, 1);
      }
  return a;
}

GByteArray *
fx_idx_labels(size_t n)
{
  GByteArray *a = g_byte_array_new();
  const guint8 magic[4] = { 0, 0, 8, 1 };
  g_byte_array_append(a, magic, 4);
  put_be32(a, n);
  for (size_t i = 0; i < n; i++) {
    guint8 v = i % 10;
    g_byte_array_append(a, &v, 1);
  }
  return a;
}

GByteArray *
fx_gzip(const guint8 *data, gsize len)
{
  z_stream zs = { 0 };
  g_assert_cmpint(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                  ==, Z_OK);
  GByteArray *out = g_byte_array_new();
  g_byte_array_set_size(out, deflateBound(&zs, len));
  zs.next_in = (Bytef *)data;
  zs.avail_in = len;
  zs.next_out = out->data;
  zs.avail_out = out->len;
  g_assert_cmpint(deflate(&zs, Z_FINISH), ==, Z_STREAM_END);
  g_byte_array_set_size(out, zs.total_out);
  deflateEnd(&zs);
  return out;
}

static void
write_idx(const char *dir, const char *name, GByteArray *contents, gboolean gzip)
{
  if (!gzip) {
    fx_write(dir, name, contents->data, contents->len);
    return;
  }
  g_autoptr(GByteArray) gz = fx_gzip(contents->data, contents->len);
  g_autofree char *gz_name = g_strconcat(name, ".gz", NULL);
  fx_write(dir, gz_name, gz->data, gz->len);
}

void
fx_idx_folder(const char *dir, size_t n_train, size_t n_test, int rows, int cols,
              gboolean gzip)
{
  g_autoptr(GByteArray) ti = fx_idx_images(n_train, rows, cols);
  g_autoptr(GByteArray) tl = fx_idx_labels(n_train);
  g_autoptr(GByteArray) si = fx_idx_images(n_test, rows, cols);
  g_autoptr(GByteArray) sl = fx_idx_labels(n_test);
  write_idx(dir, "train-images-idx3-ubyte", ti, gzip);
  write_idx(dir, "train-labels-idx1-ubyte", tl, gzip);
  write_idx(dir, "t10k-images-idx3-ubyte", si, gzip);
  write_idx(dir, "t10k-labels-idx1-ubyte", sl, gzip);
}

void
fx_write_image(const char *path, int w, int h, const guint8 rgb[3], gboolean alpha)
{
  g_autofree char *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, alpha, 8, w, h);
  int nc = gdk_pixbuf_get_n_channels(pb), stride = gdk_pixbuf_get_rowstride(pb);
  guint8 *px = gdk_pixbuf_get_pixels(pb);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      memcpy(px + y * stride + x * nc, rgb, 3);
      if (alpha)
        px[y * stride + x * nc + 3] = 128;
    }
  gboolean jpeg = g_str_has_suffix(path, ".jpg");
  g_autoptr(GError) error = NULL;
  gdk_pixbuf_save(pb, path, jpeg ? "jpeg" : "png", &error, NULL);
  g_assert_no_error(error);
}

void
fx_assert_error(const GError *error, int code, ...)
{
  g_assert_nonnull(error);
  if (error->domain != SC_DATA_ERROR || error->code != code)
    g_error("expected SC_DATA_ERROR code %d, got %s code %d: %s", code,
            g_quark_to_string(error->domain), error->code, error->message);
  va_list args;
  va_start(args, code);
  const char *want;
  while ((want = va_arg(args, const char *)) != NULL)
    if (strstr(error->message, want) == NULL)
      g_error("error message \"%s\" lacks \"%s\"", error->message, want);
  va_end(args);
  g_test_message("error as expected: %s", error->message);
}
