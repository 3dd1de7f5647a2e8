/* The readers on well-formed fixtures: orientation, labels, class names,
 * detection; and the real Fashion-MNIST when installed. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "data/dataset.h"
#include "data/readers.h"
#include "sc-error.h"
#include "test-data-fixtures.h"
#include "test-util.h"

/* Every pixel of every image of split equals fx_pattern(first + n, ...). */
static void
assert_pattern(const ScSplit *split, size_t first)
{
  int h = sc_split_height(split), w = sc_split_width(split), c = sc_split_channels(split);
  g_autofree guint8 *img = g_malloc(sc_split_image_bytes(split));
  for (size_t n = 0; n < sc_split_count(split); n++) {
    sc_split_get_image(split, n, img);
    for (int r = 0; r < h; r++)
      for (int x = 0; x < w; x++)
        for (int ch = 0; ch < c; ch++)
          if (img[(r * w + x) * c + ch] != fx_pattern(first + n, r, x, ch))
            g_error("%s image %zu pixel (row %d, col %d, ch %d) is %u, expected %u",
                    sc_split_name(split), n, r, x, ch, img[(r * w + x) * c + ch],
                    fx_pattern(first + n, r, x, ch));
  }
}

/* Channel 0 at byte offsets x*96 (column x, row 0) set: a red top row. */
static void
test_stl10_orientation(void)
{
  guint8 *rec = g_malloc0(SC_STL10_RECORD_BYTES);
  for (int x = 0; x < 96; x++)
    rec[x * 96] = 255;
  g_autoptr(GBytes) records = g_bytes_new_take(rec, SC_STL10_RECORD_BYTES);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScSplit) split = sc_stl10_split_from_bytes("train", records, "x.bin", NULL, NULL,
                                                       &error);
  g_assert_no_error(error);
  g_assert_cmpuint(sc_split_count(split), ==, 1);
  g_assert_null(sc_split_labels(split));
  g_assert_null(sc_split_peek_hwc(split)); /* transposed on access */
  guint8 img[96 * 96 * 3];
  sc_split_get_image(split, 0, img);
  for (int x = 0; x < 96; x++) {
    g_assert_cmpuint(img[(0 * 96 + x) * 3 + 0], ==, 255); /* row 0 red */
    g_assert_cmpuint(img[(0 * 96 + x) * 3 + 1], ==, 0);
    g_assert_cmpuint(img[(0 * 96 + x) * 3 + 2], ==, 0);
  }
  for (int r = 1; r < 96; r++)
    g_assert_cmpuint(img[(r * 96 + 0) * 3 + 0], ==, 0); /* column 0 not red below */
}

static void
test_stl10_folder(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *inner = g_build_filename(tmp, "stl10_binary", NULL);
  fx_stl10_folder(inner, 12, 5, 7);
  g_autoptr(GError) error = NULL;
  /* The parent of stl10_binary/, detected. */
  g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_AUTO, &error);
  g_assert_no_error(error);
  g_assert_cmpint(d->format, ==, SC_FORMAT_STL10);
  g_assert_cmpstr(d->path, ==, inner);
  g_assert_cmpuint(sc_split_count(d->train), ==, 12);
  g_assert_cmpuint(sc_split_count(d->test), ==, 5);
  g_assert_nonnull(d->unlabeled);
  g_assert_cmpuint(sc_split_count(d->unlabeled), ==, 7);
  g_assert_null(sc_split_labels(d->unlabeled));
  g_assert_cmpint(sc_split_height(d->train), ==, 96);
  g_assert_cmpint(sc_split_channels(d->train), ==, 3);
  assert_pattern(d->train, 0);
  assert_pattern(d->unlabeled, 0);
  const int32_t *labels = sc_split_labels(d->train);
  for (int i = 0; i < 12; i++)
    g_assert_cmpint(labels[i], ==, i % 10); /* file byte i % 10 + 1 */
  /* CRLF, a trailing space and a final blank line are not part of the names. */
  g_assert_cmpint(d->n_classes, ==, 10);
  g_assert_cmpuint(g_strv_length(d->class_names), ==, 10);
  g_assert_cmpstr(d->class_names[0], ==, "airplane");
  g_assert_cmpstr(d->class_names[2], ==, "car");
  g_assert_cmpstr(d->class_names[9], ==, "truck");
  sc_test_rmtree(tmp);
}

/* Resident memory of this process in KiB, or -1 where /proc is missing. */
static gint64
resident_kib(void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
    return -1;
  const char *line = strstr(status, "VmRSS:");
  return line != NULL ? g_ascii_strtoll(line + 6, NULL, 10) : -1;
}

/* The unlabeled file at its real size (100000 records, 2.76 GB, sparse on
 * disk) opens and reads a record deep inside without the process growing by
 * more than a few MiB: it is mapped, never read whole. */
static void
test_stl10_unlabeled_mapped(void)
{
  if (resident_kib() < 0) {
    g_test_skip("no /proc/self/status to measure resident memory");
    return;
  }
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_stl10_folder(tmp, 2, 2, 0);
  const gint64 n = 100000;
  g_autofree char *path = g_build_filename(tmp, "unlabeled_X.bin", NULL);
  int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(ftruncate(fd, (off_t)(n * SC_STL10_RECORD_BYTES)), ==, 0);
  /* The last record holds the pattern of image 7. */
  g_autoptr(GByteArray) recs = fx_stl10_records(8);
  const guint8 *last = recs->data + 7 * SC_STL10_RECORD_BYTES;
  g_assert_cmpint(pwrite(fd, last, SC_STL10_RECORD_BYTES,
                         (off_t)((n - 1) * SC_STL10_RECORD_BYTES)),
                  ==, SC_STL10_RECORD_BYTES);
  g_assert_cmpint(close(fd), ==, 0);

  gint64 before_kib = resident_kib();
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_STL10, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(sc_split_count(d->unlabeled), ==, (size_t)n);
  guint8 img[SC_STL10_RECORD_BYTES];
  sc_split_get_image(d->unlabeled, n - 1, img);
  for (int r = 0; r < 96; r += 5)
    for (int x = 0; x < 96; x += 7)
      g_assert_cmpuint(img[(r * 96 + x) * 3 + 2], ==, fx_pattern(7, r, x, 2));
  sc_split_get_image(d->unlabeled, n / 2, img);
  g_assert_cmpuint(img[0], ==, 0);
  gint64 growth_kib = resident_kib() - before_kib;
  g_test_message("resident memory grew by %" G_GINT64_FORMAT " KiB", growth_kib);
  g_assert_cmpint(growth_kib, <, 64 * 1024);
  sc_test_rmtree(tmp);
}

static void
test_stl10_labels(void)
{
  const guint8 bytes[] = { 0x01, 0x0A, 0x05 };
  size_t n = 0;
  g_autoptr(GError) error = NULL;
  g_autofree int32_t *labels = sc_stl10_parse_labels(bytes, 3, "y.bin", &n, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(n, ==, 3);
  g_assert_cmpint(labels[0], ==, 0);
  g_assert_cmpint(labels[1], ==, 9);
  g_assert_cmpint(labels[2], ==, 4);
}

static void
test_cifar10_folder(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *inner = g_build_filename(tmp, "cifar-10-batches-bin", NULL);
  fx_cifar10_folder(inner);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_AUTO, &error);
  g_assert_no_error(error);
  g_assert_cmpint(d->format, ==, SC_FORMAT_CIFAR10);
  g_assert_null(d->unlabeled);
  /* Five batch files of 1..5 records, in file order. */
  g_assert_cmpuint(sc_split_count(d->train), ==, 15);
  g_assert_cmpuint(sc_split_count(d->test), ==, 4);
  g_assert_cmpint(sc_split_height(d->train), ==, 32);
  g_assert_cmpint(sc_split_width(d->train), ==, 32);
  g_assert_cmpint(sc_split_channels(d->train), ==, 3);
  assert_pattern(d->train, 0);
  assert_pattern(d->test, 100);
  for (int i = 0; i < 15; i++)
    g_assert_cmpint(sc_split_labels(d->train)[i], ==, i % 10);
  g_assert_cmpint(sc_split_labels(d->test)[2], ==, 4);
  g_assert_nonnull(sc_split_peek_hwc(d->train));
  g_assert_cmpstr(d->class_names[1], ==, "automobile");
  g_assert_cmpuint(g_strv_length(d->class_names), ==, 10);
  sc_test_rmtree(tmp);
}

/* A known pixel: red at (row 2, col 5) of a CIFAR-10 record stays there. */
static void
test_cifar10_orientation(void)
{
  const guint8 label = 7;
  g_autoptr(GByteArray) rec = fx_cifar10_records(1, 0, &label);
  memset(rec->data + 1, 0, 3072);
  rec->data[1 + 0 * 1024 + 2 * 32 + 5] = 255;
  g_autoptr(GBytes) bytes = g_bytes_new(rec->data, rec->len);
  const char *name = "b.bin";
  g_autoptr(GError) error = NULL;
  g_autoptr(ScSplit) s = sc_cifar10_split_from_bytes("train", &bytes, &name, 1, 10, &error);
  g_assert_no_error(error);
  const guint8 *hwc = sc_split_peek_hwc(s);
  for (int i = 0; i < 32 * 32 * 3; i++)
    g_assert_cmpuint(hwc[i], ==, i == (2 * 32 + 5) * 3 ? 255 : 0);
  g_assert_cmpint(sc_split_labels(s)[0], ==, 7);
}

static void
check_idx_folder(gboolean gzip)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *dir = g_build_filename(tmp, "Fashion-test", NULL);
  fx_idx_folder(dir, 23, 9, 28, 28, gzip);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(dir, SC_FORMAT_AUTO, &error);
  g_assert_no_error(error);
  g_assert_cmpint(d->format, ==, SC_FORMAT_IDX);
  g_assert_cmpuint(sc_split_count(d->train), ==, 23);
  g_assert_cmpuint(sc_split_count(d->test), ==, 9);
  g_assert_cmpint(sc_split_height(d->train), ==, 28);
  g_assert_cmpint(sc_split_channels(d->train), ==, 1);
  assert_pattern(d->train, 0);
  assert_pattern(d->test, 0);
  for (int i = 0; i < 23; i++)
    g_assert_cmpint(sc_split_labels(d->train)[i], ==, i % 10);
  /* "fashion" in the folder's name: Fashion-MNIST's classes. */
  g_assert_cmpstr(d->class_names[0], ==, "T-shirt/top");
  g_assert_cmpstr(d->class_names[9], ==, "Ankle boot");
  sc_test_rmtree(tmp);
}

static void
test_idx_raw(void)
{
  check_idx_folder(FALSE);
}

static void
test_idx_gzip(void)
{
  check_idx_folder(TRUE);
}

/* Pixel (row 3, col 1) of image 1 at byte 16 + 784 + 3*28 + 1; digits' names. */
static void
test_idx_orientation(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autoptr(GByteArray) images = fx_idx_images(2, 28, 28);
  memset(images->data + 16, 0, 2 * 784);
  images->data[16 + 784 + 3 * 28 + 1] = 200;
  g_autoptr(GByteArray) labels = fx_idx_labels(2);
  fx_write(tmp, "train-images-idx3-ubyte", images->data, images->len);
  fx_write(tmp, "train-labels-idx1-ubyte", labels->data, labels->len);
  fx_write(tmp, "t10k-images-idx3-ubyte", images->data, images->len);
  fx_write(tmp, "t10k-labels-idx1-ubyte", labels->data, labels->len);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_IDX, &error);
  g_assert_no_error(error);
  guint8 img[784];
  sc_split_get_image(d->train, 1, img);
  for (int i = 0; i < 784; i++)
    g_assert_cmpuint(img[i], ==, i == 3 * 28 + 1 ? 200 : 0);
  g_assert_cmpstr(d->class_names[0], ==, "0");
  g_assert_cmpstr(d->class_names[9], ==, "9");
  sc_test_rmtree(tmp);
}

static void
test_gather(void)
{
  g_autoptr(GByteArray) records = fx_stl10_records(4);
  g_autoptr(GBytes) bytes = g_bytes_new(records->data, records->len);
  g_autoptr(ScSplit) s = sc_stl10_split_from_bytes("train", bytes, "x", NULL, NULL, NULL);
  const int32_t idx[3] = { 3, 0, 3 };
  size_t ib = sc_split_image_bytes(s);
  g_autofree guint8 *batch = g_malloc(3 * ib);
  g_autofree guint8 *one = g_malloc(ib);
  sc_split_gather(s, idx, 3, batch);
  for (int i = 0; i < 3; i++) {
    sc_split_get_image(s, idx[i], one);
    g_assert_cmpmem(batch + i * ib, ib, one, ib);
  }
  g_assert_cmpuint(batch[0], ==, fx_pattern(3, 0, 0, 0));
}

static const guint8 colours[3][3] = { { 250, 10, 10 }, { 10, 250, 10 }, { 10, 10, 250 } };

/* Class folders b, a (sorted to a, b), PNG with alpha and JPEG, unlabeled/. */
static void
test_folder(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  for (int i = 0; i < 10; i++) {
    g_autofree char *a = g_strdup_printf("%s/apple/%02d.png", tmp, i);
    g_autofree char *b = g_strdup_printf("%s/banana/%02d.jpg", tmp, i);
    fx_write_image(a, 6, 4, colours[0], i % 2 == 0);
    fx_write_image(b, 6, 4, colours[1], FALSE);
  }
  for (int i = 0; i < 3; i++) {
    g_autofree char *u = g_strdup_printf("%s/unlabeled/u%d.png", tmp, i);
    fx_write_image(u, 6, 4, colours[2], FALSE);
  }
  fx_write_text(tmp, "apple/notes.txt", "not an image");
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_AUTO, &error);
  g_assert_no_error(error);
  g_assert_cmpint(d->format, ==, SC_FORMAT_FOLDER);
  g_assert_cmpint(d->n_classes, ==, 2);
  g_assert_cmpstr(d->class_names[0], ==, "apple");
  g_assert_cmpstr(d->class_names[1], ==, "banana");
  g_assert_null(d->class_names[2]);
  /* 20% of each class held out: 2 + 2 test, 8 + 8 train. */
  g_assert_cmpuint(sc_split_count(d->train), ==, 16);
  g_assert_cmpuint(sc_split_count(d->test), ==, 4);
  g_assert_cmpuint(sc_split_count(d->unlabeled), ==, 3);
  g_assert_cmpint(sc_split_height(d->train), ==, 4);
  g_assert_cmpint(sc_split_width(d->train), ==, 6);
  g_assert_cmpint(sc_split_channels(d->train), ==, 3); /* alpha dropped */
  size_t per_class[2] = { 0, 0 };
  for (size_t i = 0; i < 4; i++)
    per_class[sc_split_labels(d->test)[i]]++;
  g_assert_cmpuint(per_class[0], ==, 2);
  g_assert_cmpuint(per_class[1], ==, 2);
  const guint8 *train = sc_split_peek_hwc(d->train);
  for (size_t i = 0; i < 16; i++) {
    int k = sc_split_labels(d->train)[i];
    const guint8 *px = train + i * 6 * 4 * 3 + (2 * 6 + 3) * 3;
    for (int ch = 0; ch < 3; ch++) /* PNG exact; JPEG within a few levels */
      g_assert_cmpint(ABS(px[ch] - colours[k][ch]), <=, k == 0 ? 0 : 8);
  }
  /* The hold-out is the same every time. */
  g_autoptr(ScDataset) again = sc_dataset_open(tmp, SC_FORMAT_FOLDER, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(sc_split_peek_hwc(d->test), 4 * 72, sc_split_peek_hwc(again->test), 4 * 72);
  sc_test_rmtree(tmp);
}

static void
test_folder_test_dir(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  for (int i = 0; i < 3; i++) {
    g_autofree char *a = g_strdup_printf("%s/a/%d.png", tmp, i);
    g_autofree char *b = g_strdup_printf("%s/b/%d.png", tmp, i);
    g_autofree char *t = g_strdup_printf("%s/test/b/%d.png", tmp, i);
    fx_write_image(a, 5, 5, colours[0], FALSE);
    fx_write_image(b, 5, 5, colours[1], FALSE);
    fx_write_image(t, 5, 5, colours[2], FALSE);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_AUTO, &error);
  g_assert_no_error(error);
  g_assert_cmpint(d->n_classes, ==, 2); /* test/ is not a class */
  g_assert_cmpuint(sc_split_count(d->train), ==, 6);
  g_assert_cmpuint(sc_split_count(d->test), ==, 3);
  g_assert_null(d->unlabeled);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint(sc_split_labels(d->test)[i], ==, 1);
  g_assert_cmpuint(sc_split_peek_hwc(d->test)[2], ==, 250);
  sc_test_rmtree(tmp);
}

/* DATA/train/<class>/ + DATA/test/<class>/ + DATA/unlabeled/: the classes
 * are train/'s folders, a class may be missing from test/. */
static void
test_folder_train_dir(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  for (int i = 0; i < 4; i++) {
    g_autofree char *a = g_strdup_printf("%s/train/cat/%d.png", tmp, i);
    g_autofree char *b = g_strdup_printf("%s/train/dog/%d.png", tmp, i);
    fx_write_image(a, 5, 5, colours[0], FALSE);
    fx_write_image(b, 5, 5, colours[1], FALSE);
  }
  for (int i = 0; i < 2; i++) {
    g_autofree char *t = g_strdup_printf("%s/test/dog/%d.png", tmp, i);
    g_autofree char *u = g_strdup_printf("%s/unlabeled/%d.png", tmp, i);
    fx_write_image(t, 5, 5, colours[1], FALSE);
    fx_write_image(u, 5, 5, colours[2], FALSE);
  }
  const ScDataFormat formats[] = { SC_FORMAT_AUTO, SC_FORMAT_FOLDER };
  for (size_t f = 0; f < G_N_ELEMENTS(formats); f++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScDataset) d = sc_dataset_open(tmp, formats[f], &error);
    g_assert_no_error(error);
    g_assert_cmpint(d->format, ==, SC_FORMAT_FOLDER);
    g_assert_cmpint(d->n_classes, ==, 2);
    g_assert_cmpstr(d->class_names[0], ==, "cat");
    g_assert_cmpstr(d->class_names[1], ==, "dog");
    g_assert_cmpuint(sc_split_count(d->train), ==, 8);
    g_assert_cmpuint(sc_split_count(d->test), ==, 2);
    g_assert_cmpuint(sc_split_count(d->unlabeled), ==, 3 - 1);
    for (size_t i = 0; i < 8; i++) {
      int k = sc_split_labels(d->train)[i];
      g_assert_cmpuint(sc_split_peek_hwc(d->train)[i * 75 + 1], ==, colours[k][1]);
    }
    for (size_t i = 0; i < 2; i++)
      g_assert_cmpint(sc_split_labels(d->test)[i], ==, 1);
  }
  sc_test_rmtree(tmp);
}

/* Whether every pixel of image i of split is rgb, within tolerance. */
static gboolean
image_is(const ScSplit *split, size_t i, const guint8 rgb[3], int tolerance)
{
  g_autofree guint8 *img = g_malloc(sc_split_image_bytes(split));
  sc_split_get_image(split, i, img);
  for (size_t p = 0; p < sc_split_image_bytes(split); p++)
    if (ABS(img[p] - rgb[p % 3]) > tolerance)
      return FALSE;
  return TRUE;
}

/* Photos come in many sizes: the most common size is the data set's, the
 * others are scaled to it and counted. */
static void
test_folder_mixed_sizes(void)
{
  static const guint8 odd_colour[3] = { 200, 10, 60 };
  g_autofree char *tmp = sc_test_mkdtemp();
  for (int i = 0; i < 4; i++) {
    g_autofree char *a = g_strdup_printf("%s/a/%d.png", tmp, i);
    g_autofree char *b = g_strdup_printf("%s/b/%d.png", tmp, i);
    fx_write_image(a, 8, 6, colours[0], FALSE);
    fx_write_image(b, 8, 6, colours[1], FALSE);
  }
  /* Larger, smaller and of another aspect, one a JPEG with alpha-free RGB. */
  g_autofree char *big = g_strdup_printf("%s/b/big.png", tmp);
  g_autofree char *small = g_strdup_printf("%s/a/small.png", tmp);
  g_autofree char *photo = g_strdup_printf("%s/unlabeled/photo.jpg", tmp);
  fx_write_image(big, 64, 30, odd_colour, TRUE);
  fx_write_image(small, 3, 3, colours[0], FALSE);
  fx_write_image(photo, 40, 40, colours[2], FALSE);

  g_autoptr(GError) error = NULL;
  g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_AUTO, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(d->n_scaled, ==, 3);
  const ScSplit *splits[] = { d->train, d->test, d->unlabeled };
  size_t n = 0, odd = 0;
  for (size_t s = 0; s < G_N_ELEMENTS(splits); s++) {
    g_assert_cmpint(sc_split_width(splits[s]), ==, 8);
    g_assert_cmpint(sc_split_height(splits[s]), ==, 6);
    g_assert_cmpint(sc_split_channels(splits[s]), ==, 3);
    for (size_t i = 0; i < sc_split_count(splits[s]); i++, n++)
      odd += image_is(splits[s], i, odd_colour, 1);
  }
  g_assert_cmpuint(n, ==, 11);
  /* A plain colour stays that colour when scaled, alpha dropped. */
  g_assert_cmpuint(odd, ==, 1);
  g_assert_true(image_is(d->unlabeled, 0, colours[2], 8)); /* JPEG: a few levels */

  /* All of one size: nothing scaled. */
  g_assert_cmpint(g_remove(big), ==, 0);
  g_assert_cmpint(g_remove(small), ==, 0);
  g_assert_cmpint(g_remove(photo), ==, 0);
  g_autofree char *unlabeled = g_path_get_dirname(photo);
  g_assert_cmpint(g_rmdir(unlabeled), ==, 0);
  g_autoptr(ScDataset) same = sc_dataset_open(tmp, SC_FORMAT_FOLDER, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(same->n_scaled, ==, 0);
  sc_test_rmtree(tmp);
}

/* Two sizes of as many images: the larger area wins; equal areas too: the
 * size of the first image in file order. */
static void
test_folder_size_ties(void)
{
  const struct {
    int a_w, a_h, b_w, b_h; /* class a's images, class b's */
    int want_w, want_h;
  } cases[] = {
    { 6, 6, 10, 10, 10, 10 },  /* larger area, though met second */
    { 12, 10, 10, 10, 12, 10 },
    { 4, 16, 16, 4, 4, 16 },   /* one area: the first in file order */
    { 16, 4, 4, 16, 16, 4 },
  };
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    g_autofree char *tmp = sc_test_mkdtemp();
    for (int i = 0; i < 3; i++) {
      g_autofree char *a = g_strdup_printf("%s/a/%d.png", tmp, i);
      g_autofree char *b = g_strdup_printf("%s/b/%d.png", tmp, i);
      fx_write_image(a, cases[c].a_w, cases[c].a_h, colours[0], FALSE);
      fx_write_image(b, cases[c].b_w, cases[c].b_h, colours[1], FALSE);
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(ScDataset) d = sc_dataset_open(tmp, SC_FORMAT_FOLDER, &error);
    g_assert_no_error(error);
    g_assert_cmpint(sc_split_width(d->train), ==, cases[c].want_w);
    g_assert_cmpint(sc_split_height(d->train), ==, cases[c].want_h);
    g_assert_cmpuint(d->n_scaled, ==, 3);
    sc_test_rmtree(tmp);
  }
}

static void
test_format_names(void)
{
  const ScDataFormat all[] = { SC_FORMAT_AUTO, SC_FORMAT_STL10, SC_FORMAT_CIFAR10,
                               SC_FORMAT_IDX, SC_FORMAT_FOLDER };
  for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
    ScDataFormat f = SC_FORMAT_AUTO;
    g_assert_true(sc_data_format_parse(sc_data_format_name(all[i]), &f, NULL));
    g_assert_cmpint(f, ==, all[i]);
  }
  ScDataFormat f;
  g_assert_true(sc_data_format_parse("Fashion-MNIST", &f, NULL));
  g_assert_cmpint(f, ==, SC_FORMAT_IDX);
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_data_format_parse("tfrecord", &f, &error));
  fx_assert_error(error, SC_ERROR_INVALID_ARGUMENT, "tfrecord", "stl10", "folder", NULL);
}

static void
test_detect_fails(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_write_text(tmp, "readme.txt", "nothing here");
  /* Folders without images one or two levels down are no image folder. */
  fx_write_text(tmp, "train/a/notes.txt", "no images");
  fx_write_text(tmp, "deep/a/b/0.png", "too deep to count");
  g_autoptr(GError) error = NULL;
  g_assert_null(sc_dataset_open(tmp, SC_FORMAT_AUTO, &error));
  fx_assert_error(error, SC_ERROR_FORMAT, tmp, "train_X.bin", "data_batch_1.bin",
                  "train-images-idx3-ubyte", "sub-folders", "one per class", NULL);
  /* deep/ is no data set either: nothing to suggest. */
  g_assert_null(strstr(error->message, "did you mean"));
  sc_test_rmtree(tmp);
}

/* The folder above a data set (as /usr/share/datasets for
 * /usr/share/datasets/fashion-mnist): the error names the ones below. */
static void
test_detect_suggests_subfolder(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *idx = g_build_filename(tmp, "fashion-mnist", NULL);
  g_autofree char *photos = g_build_filename(tmp, "photos", NULL);
  fx_idx_folder(idx, 10, 5, 28, 28, TRUE);
  for (int i = 0; i < 2; i++) {
    g_autofree char *a = g_strdup_printf("%s/train/a/%d.png", photos, i);
    g_autofree char *b = g_strdup_printf("%s/train/b/%d.png", photos, i);
    fx_write_image(a, 5, 5, colours[0], FALSE);
    fx_write_image(b, 5, 5, colours[1], FALSE);
  }
  fx_write_text(tmp, "notes/readme.txt", "not a data set");
  g_autoptr(GError) error = NULL;
  g_assert_null(sc_dataset_open(tmp, SC_FORMAT_AUTO, &error));
  g_autofree char *want = g_strdup_printf("did you mean %s (idx) or %s (folder)?", idx,
                                          photos);
  fx_assert_error(error, SC_ERROR_FORMAT, "Could not tell the data format", want, NULL);
  g_assert_null(strstr(error->message, "notes"));
  /* Both suggestions open. */
  g_autoptr(ScDataset) a = sc_dataset_open(idx, SC_FORMAT_AUTO, NULL);
  g_autoptr(ScDataset) b = sc_dataset_open(photos, SC_FORMAT_AUTO, NULL);
  g_assert_nonnull(a);
  g_assert_nonnull(b);

  /* Only one: no "or". */
  sc_test_rmtree(photos);
  g_clear_error(&error);
  g_assert_null(sc_dataset_open(tmp, SC_FORMAT_AUTO, &error));
  g_autofree char *one = g_strdup_printf("did you mean %s (idx)?", idx);
  fx_assert_error(error, SC_ERROR_FORMAT, one, "a sub-folder does", NULL);
  sc_test_rmtree(tmp);
}

/* The folder above two folder data sets (imgs/<class>/, imgs2/<class>/):
 * its images lie two levels down like those of a class layout, but it is
 * no data set; both are named instead of "imgs" being called a class. */
static void
test_detect_suggests_folder_datasets(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  for (int i = 0; i < 2; i++) {
    g_autofree char *a = g_strdup_printf("%s/imgs/cat/%d.png", tmp, i);
    g_autofree char *b = g_strdup_printf("%s/imgs2/dog/%d.png", tmp, i);
    fx_write_image(a, 5, 5, colours[0], FALSE);
    fx_write_image(b, 5, 5, colours[1], FALSE);
  }
  g_autoptr(GError) error = NULL;
  g_assert_null(sc_dataset_open(tmp, SC_FORMAT_AUTO, &error));
  g_autofree char *want = g_strdup_printf("did you mean %s/imgs (folder) or %s/imgs2 (folder)?",
                                          tmp, tmp);
  fx_assert_error(error, SC_ERROR_FORMAT, tmp, "sub-folders do", want, NULL);
  /* A class layout with one class folder of images and one of sub-folders
   * still gets the folder reader's message about the latter. */
  sc_test_rmtree(tmp);
  tmp = sc_test_mkdtemp();
  g_autofree char *image = g_strdup_printf("%s/cat/0.png", tmp);
  g_autofree char *nested = g_strdup_printf("%s/dog/x/0.png", tmp);
  fx_write_image(image, 5, 5, colours[0], FALSE);
  fx_write_image(nested, 5, 5, colours[1], FALSE);
  g_clear_error(&error);
  g_assert_null(sc_dataset_open(tmp, SC_FORMAT_AUTO, &error));
  g_autofree char *dog = g_build_filename(tmp, "dog", NULL);
  fx_assert_error(error, SC_ERROR_FORMAT, dog, "holds no images but sub-folders", NULL);
  sc_test_rmtree(tmp);
}

/* The default data: Debian's dataset-fashion-mnist ships the four IDX files
 * gzipped in SC_DEFAULT_DATA_DIR (/usr/share/datasets/fashion-mnist). Known
 * values from Python's gzip module: training image 0 is an ankle boot whose
 * pixel (row 4, col 15) is 136 while (row 15, col 4) is 0. */
static void
test_real_fashion_mnist(void)
{
  g_autofree char *gz = g_build_filename(SC_DEFAULT_DATA_DIR, "train-images-idx3-ubyte.gz",
                                         NULL);
  g_autofree char *raw = g_build_filename(SC_DEFAULT_DATA_DIR, "train-images-idx3-ubyte",
                                          NULL);
  if (!g_file_test(gz, G_FILE_TEST_EXISTS) && !g_file_test(raw, G_FILE_TEST_EXISTS)) {
    g_test_skip("Fashion-MNIST is not installed in " SC_DEFAULT_DATA_DIR
                " (Debian package dataset-fashion-mnist)");
    return;
  }
  g_autoptr(GError) error = NULL;
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(ScDataset) d = sc_dataset_open(SC_DEFAULT_DATA_DIR, SC_FORMAT_AUTO, &error);
  g_assert_no_error(error);
  g_test_message("opened Fashion-MNIST in %.0f ms", (g_get_monotonic_time() - t0) / 1e3);
  g_assert_cmpint(d->format, ==, SC_FORMAT_IDX);
  g_assert_cmpuint(sc_split_count(d->train), ==, 60000);
  g_assert_cmpuint(sc_split_count(d->test), ==, 10000);
  g_assert_null(d->unlabeled);
  g_assert_cmpint(sc_split_height(d->train), ==, 28);
  g_assert_cmpint(sc_split_width(d->train), ==, 28);
  g_assert_cmpint(sc_split_channels(d->train), ==, 1);
  size_t counts[10] = { 0 };
  for (size_t i = 0; i < 60000; i++) {
    int32_t l = sc_split_labels(d->train)[i];
    g_assert_cmpint(l, >=, 0);
    g_assert_cmpint(l, <=, 9);
    counts[l]++;
  }
  for (int k = 0; k < 10; k++)
    g_assert_cmpuint(counts[k], ==, 6000);
  g_assert_cmpint(sc_split_labels(d->train)[0], ==, 9);
  g_assert_cmpint(sc_split_labels(d->test)[0], ==, 9);
  g_assert_cmpint(sc_split_labels(d->test)[9999], ==, 5);
  g_assert_cmpstr(d->class_names[9], ==, "Ankle boot");

  guint8 img[784];
  sc_split_get_image(d->train, 0, img);
  g_assert_cmpuint(img[4 * 28 + 15], ==, 136);
  g_assert_cmpuint(img[15 * 28 + 4], ==, 0);
  g_assert_cmpuint(img[17 * 28 + 1], ==, 57);
  const struct {
    const ScSplit *split;
    size_t index;
    guint64 sum;
  } sums[] = { { d->train, 0, 76247 }, { d->train, 59999, 16684 }, { d->test, 0, 33456 } };
  for (size_t s = 0; s < G_N_ELEMENTS(sums); s++) {
    sc_split_get_image(sums[s].split, sums[s].index, img);
    guint64 sum = 0;
    for (int i = 0; i < 784; i++)
      sum += img[i];
    g_assert_cmpuint(sum, ==, sums[s].sum);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/Data/STL10/orientation", test_stl10_orientation);
  g_test_add_func("/Data/STL10/labels", test_stl10_labels);
  g_test_add_func("/Data/STL10/unlabeled-mapped", test_stl10_unlabeled_mapped);
  g_test_add_func("/Data/STL10/folder", test_stl10_folder);
  g_test_add_func("/Data/CIFAR10/folder", test_cifar10_folder);
  g_test_add_func("/Data/CIFAR10/orientation", test_cifar10_orientation);
  g_test_add_func("/Data/IDX/raw", test_idx_raw);
  g_test_add_func("/Data/IDX/gzip", test_idx_gzip);
  g_test_add_func("/Data/IDX/orientation", test_idx_orientation);
  g_test_add_func("/Data/Split/gather", test_gather);
  g_test_add_func("/Data/Folder/holdout", test_folder);
  g_test_add_func("/Data/Folder/test-dir", test_folder_test_dir);
  g_test_add_func("/Data/Folder/train-dir", test_folder_train_dir);
  g_test_add_func("/Data/Folder/mixed-sizes", test_folder_mixed_sizes);
  g_test_add_func("/Data/Folder/size-ties", test_folder_size_ties);
  g_test_add_func("/Data/Format/names", test_format_names);
  g_test_add_func("/Data/Format/detect-fails", test_detect_fails);
  g_test_add_func("/Data/Format/suggest-subfolder", test_detect_suggests_subfolder);
  g_test_add_func("/data/detect/suggests-folder-datasets", test_detect_suggests_folder_datasets);
  g_test_add_func("/Data/FashionMNIST/real", test_real_fashion_mnist);
  return g_test_run();
}
