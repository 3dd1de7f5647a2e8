/* Bad input: every case ends in a GError that names the file, where, and
 * expected versus found; nothing crashes and no partial data set comes back. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/readers.h"
#include "sc-error.h"
#include "test-data-fixtures.h"
#include "test-util.h"

/* Opens dir expecting failure; returns the error. */
static GError *
open_fails(const char *dir, ScDataFormat format)
{
  GError *error = NULL;
  ScDataset *d = sc_dataset_open(dir, format, &error);
  g_assert_null(d);
  g_assert_nonnull(error);
  return error;
}

/* ---- STL-10 ---- */

static void
test_stl10_not_whole_records(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_stl10_folder(tmp, 3, 2, 0);
  g_autoptr(GByteArray) recs = fx_stl10_records(3);
  fx_write(tmp, "train_X.bin", recs->data, recs->len - 100); /* truncated */
  g_autoptr(GError) e1 = open_fails(tmp, SC_FORMAT_STL10);
  fx_assert_error(e1, SC_ERROR_FORMAT, "train_X.bin", "82844 bytes", "27648",
                  "2 whole images and 27548 bytes over", NULL);
  fx_write(tmp, "train_X.bin", recs->data, 0);
  g_autoptr(GError) e2 = open_fails(tmp, SC_FORMAT_STL10);
  fx_assert_error(e2, SC_ERROR_FORMAT, "train_X.bin", "is empty", NULL);
  sc_test_rmtree(tmp);
}

static void
test_stl10_label_count(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_stl10_folder(tmp, 3, 2, 0);
  const guint8 four[4] = { 1, 2, 3, 4 };
  fx_write(tmp, "test_y.bin", four, 4); /* oversized: 4 labels, 2 images */
  g_autoptr(GError) error = open_fails(tmp, SC_FORMAT_AUTO);
  fx_assert_error(error, SC_ERROR_FORMAT, "test_y.bin", "holds 4 labels, expected 2",
                  "test_X.bin", NULL);
  sc_test_rmtree(tmp);
}

static void
test_stl10_label_range(void)
{
  const guint8 zero[3] = { 1, 0, 5 };
  const guint8 eleven[3] = { 1, 5, 0x0B };
  size_t n;
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
  g_assert_null(sc_stl10_parse_labels(zero, 3, "train_y.bin", &n, &e1));
  fx_assert_error(e1, SC_ERROR_FORMAT, "train_y.bin record 1", "label 0", "1..10", NULL);
  g_assert_null(sc_stl10_parse_labels(eleven, 3, "train_y.bin", &n, &e2));
  fx_assert_error(e2, SC_ERROR_FORMAT, "train_y.bin record 2", "byte offset 2", "label 11",
                  NULL);
  g_assert_null(sc_stl10_parse_labels(eleven, 0, "train_y.bin", &n, &e3));
  fx_assert_error(e3, SC_ERROR_FORMAT, "train_y.bin is empty", NULL);
}

static void
test_stl10_missing_file(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_stl10_folder(tmp, 2, 2, 0);
  g_autofree char *y = g_build_filename(tmp, "test_y.bin", NULL);
  g_assert_cmpint(g_remove(y), ==, 0);
  g_autoptr(GError) error = open_fails(tmp, SC_FORMAT_STL10);
  fx_assert_error(error, SC_ERROR_IO, tmp, "has no test_y.bin", NULL);
  sc_test_rmtree(tmp);
}

/* Class-name files: what is tolerated and what names a line. */
static void
test_class_names(void)
{
  static const struct {
    const char *text;
    const char *want[3]; /* NULL: parses */
  } cases[] = {
    { "a\r\nb\r\nc\r\n", { NULL } },
    { "  a \nb\t\nc\n\n\n", { NULL } },
    { "a\nb\nc", { NULL } },
    { "a\n\nb\nc\n", { "names.txt line 2 is blank", "line 3", NULL } },
    { "a\nb\n", { "holds 2 class names, expected 3", NULL } },
    { "a\nb\nc\nd\n", { "names.txt line 4", "\"d\"", "only 3 classes" } },
    { "a\nb\na\n", { "line 3 repeats", "\"a\"", NULL } },
    { "a\nb\xff\nc\n", { "line 2 is not UTF-8", NULL } },
    { "\n\n", { "holds 0 class names", NULL } },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) names = sc_class_names_parse(cases[i].text, strlen(cases[i].text),
                                               "names.txt", 3, &error);
    if (cases[i].want[0] == NULL) {
      g_assert_no_error(error);
      g_assert_cmpuint(g_strv_length(names), ==, 3);
      g_assert_cmpstr(names[0], ==, "a");
      g_assert_cmpstr(names[1], ==, "b");
      g_assert_cmpstr(names[2], ==, "c");
    } else {
      g_assert_null(names);
      fx_assert_error(error, SC_ERROR_FORMAT, cases[i].want[0],
                      cases[i].want[1] ? cases[i].want[1] : cases[i].want[0],
                      cases[i].want[2] ? cases[i].want[2] : cases[i].want[0], NULL);
    }
  }
  g_autoptr(GError) error = NULL;
  g_assert_null(sc_class_names_parse("", 0, "names.txt", 3, &error));
  fx_assert_error(error, SC_ERROR_FORMAT, "names.txt is empty", "expected 3", NULL);
}

static void
test_stl10_bad_class_names_file(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_stl10_folder(tmp, 2, 2, 0);
  fx_write_text(tmp, "class_names.txt", "airplane\nbird\n\ncar\n");
  g_autoptr(GError) error = open_fails(tmp, SC_FORMAT_STL10);
  fx_assert_error(error, SC_ERROR_FORMAT, "class_names.txt line 3 is blank", NULL);
  sc_test_rmtree(tmp);
}

/* ---- CIFAR-10 ---- */

static void
test_cifar10_errors(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_cifar10_folder(tmp);
  guint8 labels[3] = { 1, 2, 10 };
  g_autoptr(GByteArray) recs = fx_cifar10_records(3, 0, labels);
  fx_write(tmp, "data_batch_3.bin", recs->data, recs->len);
  g_autoptr(GError) e1 = open_fails(tmp, SC_FORMAT_CIFAR10);
  fx_assert_error(e1, SC_ERROR_FORMAT, "data_batch_3.bin record 2", "byte offset 6146",
                  "label 10", "0..9", NULL);

  fx_write(tmp, "data_batch_3.bin", recs->data, recs->len - 1);
  g_autoptr(GError) e2 = open_fails(tmp, SC_FORMAT_CIFAR10);
  fx_assert_error(e2, SC_ERROR_FORMAT, "data_batch_3.bin", "9218 bytes", "3073-byte",
                  "2 whole records and 3072 bytes over", NULL);

  fx_write(tmp, "data_batch_3.bin", recs->data, 0);
  g_autoptr(GError) e3 = open_fails(tmp, SC_FORMAT_CIFAR10);
  fx_assert_error(e3, SC_ERROR_FORMAT, "data_batch_3.bin is empty", NULL);

  g_autofree char *b4 = g_build_filename(tmp, "data_batch_4.bin", NULL);
  g_assert_cmpint(g_remove(b4), ==, 0);
  fx_write(tmp, "data_batch_3.bin", recs->data, 3073);
  g_autoptr(GError) e4 = open_fails(tmp, SC_FORMAT_AUTO);
  fx_assert_error(e4, SC_ERROR_IO, "has no data_batch_4.bin", NULL);
  sc_test_rmtree(tmp);
}

/* ---- IDX ---- */

static GError *
idx_fails(GByteArray *images, GByteArray *labels)
{
  g_autoptr(GBytes) ib = g_bytes_new(images->data, images->len);
  g_autoptr(GBytes) lb = g_bytes_new(labels->data, labels->len);
  GError *error = NULL;
  g_assert_null(sc_idx_split_from_bytes("train", ib, "img.idx", lb, "lab.idx", &error));
  g_assert_nonnull(error);
  return error;
}

static void
test_idx_header_errors(void)
{
  g_autoptr(GByteArray) labels = fx_idx_labels(4);
  g_autoptr(GByteArray) img = fx_idx_images(4, 28, 28);
  img->data[1] = 0x01; /* wrong magic */
  g_autoptr(GError) e1 = idx_fails(img, labels);
  fx_assert_error(e1, SC_ERROR_FORMAT, "img.idx", "wrong magic 00 01 08 03",
                  "expected 00 00 08 03", NULL);

  img->data[1] = 0;
  img->data[2] = 0x0D; /* float32 */
  g_autoptr(GError) e2 = idx_fails(img, labels);
  fx_assert_error(e2, SC_ERROR_FORMAT, "img.idx", "type 0x0d (float32)", "expected 0x08",
                  NULL);

  img->data[2] = 0x08;
  img->data[3] = 1; /* a labels file where images belong */
  g_autoptr(GError) e3 = idx_fails(img, labels);
  fx_assert_error(e3, SC_ERROR_FORMAT, "img.idx", "1 dimensions", "expected 3", NULL);

  img->data[3] = 3;
  img->data[11] = 0; /* rows 0 */
  g_autoptr(GError) e4 = idx_fails(img, labels);
  fx_assert_error(e4, SC_ERROR_FORMAT, "img.idx", "dimension 1 at byte offset 8 is 0", NULL);

  g_byte_array_set_size(img, 10);
  g_autoptr(GError) e5 = idx_fails(img, labels);
  fx_assert_error(e5, SC_ERROR_FORMAT, "img.idx is 10 bytes", "16-byte", NULL);

  g_byte_array_set_size(img, 0);
  g_autoptr(GError) e6 = idx_fails(img, labels);
  fx_assert_error(e6, SC_ERROR_FORMAT, "img.idx is empty", NULL);
}

static void
test_idx_size_errors(void)
{
  g_autoptr(GByteArray) labels = fx_idx_labels(4);
  g_autoptr(GByteArray) img = fx_idx_images(4, 28, 28);
  g_byte_array_set_size(img, img->len - 5);
  g_autoptr(GError) e1 = idx_fails(img, labels);
  fx_assert_error(e1, SC_ERROR_FORMAT, "img.idx is truncated", "expected 3136 data bytes",
                  "4 x 28 x 28", "found 3131", NULL);

  g_byte_array_set_size(img, img->len + 7);
  g_autoptr(GError) e2 = idx_fails(img, labels);
  fx_assert_error(e2, SC_ERROR_FORMAT, "img.idx is oversized", "found 3138", NULL);

  g_autoptr(GByteArray) img5 = fx_idx_images(5, 28, 28);
  g_autoptr(GError) e3 = idx_fails(img5, labels);
  fx_assert_error(e3, SC_ERROR_FORMAT, "lab.idx holds 4 labels, expected 5", "img.idx", NULL);

  g_autoptr(GByteArray) img4 = fx_idx_images(4, 28, 28);
  labels->data[8 + 2] = 10;
  g_autoptr(GError) e4 = idx_fails(img4, labels);
  fx_assert_error(e4, SC_ERROR_FORMAT, "lab.idx record 2", "byte offset 10", "label 10",
                  "0..9", NULL);
}

static void
test_gzip_errors(void)
{
  g_autoptr(GByteArray) img = fx_idx_images(20, 28, 28);
  g_autoptr(GByteArray) gz = fx_gzip(img->data, img->len);

  /* Corrupt: a flipped block-type region in the deflate data. */
  g_autoptr(GByteArray) bad = g_byte_array_new();
  g_byte_array_append(bad, gz->data, gz->len);
  for (guint i = 10; i < 40; i++)
    bad->data[i] ^= 0xA5;
  g_autoptr(GBytes) bb = g_bytes_new(bad->data, bad->len);
  g_autoptr(GError) e1 = NULL;
  g_assert_null(sc_data_maybe_gunzip(bb, "img.gz", &e1));
  fx_assert_error(e1, SC_ERROR_FORMAT, "img.gz", "gzip", NULL);

  /* Truncated. */
  g_autoptr(GBytes) tb = g_bytes_new(gz->data, gz->len / 2);
  g_autoptr(GError) e2 = NULL;
  g_assert_null(sc_data_maybe_gunzip(tb, "img.gz", &e2));
  fx_assert_error(e2, SC_ERROR_FORMAT, "img.gz", "ends early", "truncated", NULL);

  /* Trailing bytes that are not another gzip member. */
  g_autoptr(GByteArray) tail = g_byte_array_new();
  g_byte_array_append(tail, gz->data, gz->len);
  g_byte_array_append(tail, (const guint8 *)"junk", 4);
  g_autoptr(GBytes) jb = g_bytes_new(tail->data, tail->len);
  g_autoptr(GError) e3 = NULL;
  g_assert_null(sc_data_maybe_gunzip(jb, "img.gz", &e3));
  fx_assert_error(e3, SC_ERROR_FORMAT, "img.gz", "4 bytes after the end", NULL);

  /* Two members concatenated are one valid file. */
  g_autoptr(GByteArray) two = g_byte_array_new();
  g_byte_array_append(two, gz->data, gz->len);
  g_byte_array_append(two, gz->data, gz->len);
  g_autoptr(GBytes) twob = g_bytes_new(two->data, two->len);
  g_autoptr(GError) e4 = NULL;
  g_autoptr(GBytes) out = sc_data_maybe_gunzip(twob, "img.gz", &e4);
  g_assert_no_error(e4);
  g_assert_cmpuint(g_bytes_get_size(out), ==, 2 * img->len);

  /* A gzipped folder with a corrupt file fails when opened. */
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_idx_folder(tmp, 5, 5, 28, 28, TRUE);
  fx_write(tmp, "t10k-labels-idx1-ubyte.gz", bad->data, bad->len);
  g_autoptr(GError) e5 = open_fails(tmp, SC_FORMAT_AUTO);
  fx_assert_error(e5, SC_ERROR_FORMAT, "t10k-labels-idx1-ubyte.gz", NULL);
  sc_test_rmtree(tmp);
}

/* Test images of another size than the train images. */
static void
test_idx_split_sizes_disagree(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  fx_idx_folder(tmp, 5, 5, 28, 28, FALSE);
  g_autoptr(GByteArray) other = fx_idx_images(5, 32, 32);
  fx_write(tmp, "t10k-images-idx3-ubyte", other->data, other->len);
  g_autoptr(GError) error = open_fails(tmp, SC_FORMAT_IDX);
  fx_assert_error(error, SC_ERROR_FORMAT, "test images are 32x32x1", "expected 28x28x1",
                  NULL);
  sc_test_rmtree(tmp);
}

/* ---- Folders ---- */

static const guint8 grey[3] = { 100, 100, 100 };

static void
test_folder_errors(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  for (int i = 0; i < 3; i++) {
    g_autofree char *a = g_strdup_printf("%s/a/%d.png", tmp, i);
    g_autofree char *b = g_strdup_printf("%s/b/%d.png", tmp, i);
    fx_write_image(a, 8, 8, grey, FALSE);
    fx_write_image(b, 8, 8, grey, FALSE);
  }
  /* A file that is no image is named, with what to do about it. */
  g_autofree char *odd = g_strdup_printf("%s/b/odd.png", tmp);
  fx_write_text(tmp, "b/odd.png", "this is not a PNG");
  g_autoptr(GError) e2 = open_fails(tmp, SC_FORMAT_FOLDER);
  fx_assert_error(e2, SC_ERROR_FORMAT, "Could not read image", "odd.png", NULL);
  g_assert_true(g_str_has_suffix(e2->message, "remove or replace it"));
  g_assert_cmpint(g_remove(odd), ==, 0);

  g_autofree char *empty = g_build_filename(tmp, "c", NULL);
  g_assert_cmpint(g_mkdir(empty, 0755), ==, 0);
  g_autoptr(GError) e3 = open_fails(tmp, SC_FORMAT_FOLDER);
  fx_assert_error(e3, SC_ERROR_FORMAT, "/c holds no images", NULL);
  g_assert_cmpint(g_rmdir(empty), ==, 0);

  g_autofree char *stray = g_strdup_printf("%s/test/zebra/0.png", tmp);
  fx_write_image(stray, 8, 8, grey, FALSE);
  g_autoptr(GError) e4 = open_fails(tmp, SC_FORMAT_AUTO);
  fx_assert_error(e4, SC_ERROR_FORMAT, "zebra is not one of the training classes", "a, b",
                  NULL);
  sc_test_rmtree(tmp);
}

/* One class: every prediction would be right; the error names the folder. */
static void
test_folder_one_class(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  for (int i = 0; i < 3; i++) {
    g_autofree char *a = g_strdup_printf("%s/only/%d.png", tmp, i);
    fx_write_image(a, 8, 8, grey, FALSE);
  }
  g_autoptr(GError) e1 = open_fails(tmp, SC_FORMAT_FOLDER);
  fx_assert_error(e1, SC_ERROR_FORMAT, tmp, "1 class sub-folder (only)", "at least 2",
                  NULL);
  g_autoptr(GError) e2 = open_fails(tmp, SC_FORMAT_AUTO);
  fx_assert_error(e2, SC_ERROR_FORMAT, "at least 2", NULL);
  sc_test_rmtree(tmp);
}

/* Class folders nested deeper than train/<class>/: the folder reader says
 * where images go; detection says what it looked for. */
static void
test_folder_nested_classes(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  /* One level deeper than DATA/train/<class>/. */
  const char *names[] = { "images/train/a", "images/train/b" };
  for (size_t k = 0; k < G_N_ELEMENTS(names); k++)
    for (int i = 0; i < 2; i++) {
      g_autofree char *p = g_strdup_printf("%s/%s/%d.png", tmp, names[k], i);
      fx_write_image(p, 8, 8, grey, FALSE);
    }
  g_autoptr(GError) e = open_fails(tmp, SC_FORMAT_FOLDER);
  fx_assert_error(e, SC_ERROR_FORMAT, "/images holds no images but sub-folders (train, ...)",
                  "must hold its .png, .jpg or .jpeg images directly",
                  "DATA/train/<class>/*.png", "optional DATA/test/<class>/", NULL);
  /* Detection looks one level down only, but images/ is a data set of the
   * train/<class>/ layout: the error names it. */
  g_autoptr(GError) detect = open_fails(tmp, SC_FORMAT_AUTO);
  g_autofree char *images = g_strdup_printf("did you mean %s/images (folder)?", tmp);
  fx_assert_error(detect, SC_ERROR_FORMAT, "Could not tell the data format", images, NULL);
  sc_test_rmtree(tmp);
}

/* A PNG or JPEG cut short is an error naming the file, never a partly
 * decoded image. */
static void
test_folder_truncated_images(void)
{
  const char *names[] = { "cut.png", "cut.jpg" };
  for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
    g_autofree char *tmp = sc_test_mkdtemp();
    for (int i = 0; i < 2; i++) {
      g_autofree char *a = g_strdup_printf("%s/a/%d.png", tmp, i);
      g_autofree char *b = g_strdup_printf("%s/b/%d.png", tmp, i);
      fx_write_image(a, 40, 30, grey, FALSE);
      fx_write_image(b, 40, 30, grey, FALSE);
    }
    g_autofree char *cut = g_build_filename(tmp, "b", names[k], NULL);
    fx_write_image(cut, 40, 30, grey, FALSE);
    g_autofree char *whole = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(cut, &whole, &len, NULL));
    g_autofree char *dir = g_path_get_dirname(cut);
    fx_write(dir, names[k], whole, len - 12); /* past the headers, before the end */
    g_autoptr(GError) error = open_fails(tmp, SC_FORMAT_FOLDER);
    fx_assert_error(error, SC_ERROR_FORMAT, names[k], NULL);
    g_assert_true(g_str_has_suffix(error->message, "remove or replace it"));
    if (k == 1)
      fx_assert_error(error, SC_ERROR_FORMAT, "ends at byte offset", "expected FF D9", NULL);
    sc_test_rmtree(tmp);
  }
}

static void
test_open_bad_paths(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *missing = g_build_filename(tmp, "nope", NULL);
  g_autoptr(GError) e1 = open_fails(missing, SC_FORMAT_AUTO);
  fx_assert_error(e1, SC_ERROR_IO, missing, "does not exist", NULL);
  fx_write_text(tmp, "file", "x");
  g_autofree char *file = g_build_filename(tmp, "file", NULL);
  g_autoptr(GError) e2 = open_fails(file, SC_FORMAT_AUTO);
  fx_assert_error(e2, SC_ERROR_IO, file, "is not a folder", NULL);
  g_autoptr(GError) e3 = open_fails(tmp, SC_FORMAT_CIFAR10);
  fx_assert_error(e3, SC_ERROR_IO, "has no data_batch_1.bin", NULL);
  sc_test_rmtree(tmp);
}

/* A data folder its user may not read: the message names the folder and
 * the permission, not an unknown format. Root reads everything, so the
 * check runs in a child that drops to user nobody. */
static char *
unreadable_dir(GPid parent)
{
  g_autofree char *name = g_strdup_printf("sc-unreadable-%d", (int)parent);
  return g_build_filename(g_get_tmp_dir(), name, "data", NULL);
}

static void
test_open_unreadable(void)
{
  if (g_test_subprocess()) {
    g_autofree char *data = unreadable_dir(getppid());
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
      g_error("cannot become user nobody");
    g_autoptr(GError) e = open_fails(data, SC_FORMAT_AUTO);
    fx_assert_error(e, SC_ERROR_IO, data, "Permission denied", NULL);
    return;
  }
  g_autofree char *data = unreadable_dir(getpid());
  g_autofree char *top = g_path_get_dirname(data);
  fx_idx_folder(data, 10, 10, 28, 28, FALSE);
  g_assert_cmpint(g_chmod(top, 0755), ==, 0);
  g_assert_cmpint(g_chmod(data, 0), ==, 0);
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_assert_cmpint(g_chmod(data, 0755), ==, 0);
  sc_test_rmtree(top);
  g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/Data/Errors/STL10/not-whole-records", test_stl10_not_whole_records);
  g_test_add_func("/Data/Errors/STL10/label-count", test_stl10_label_count);
  g_test_add_func("/Data/Errors/STL10/label-range", test_stl10_label_range);
  g_test_add_func("/Data/Errors/STL10/missing-file", test_stl10_missing_file);
  g_test_add_func("/Data/Errors/STL10/class-names-file", test_stl10_bad_class_names_file);
  g_test_add_func("/Data/Errors/class-names", test_class_names);
  g_test_add_func("/Data/Errors/CIFAR10", test_cifar10_errors);
  g_test_add_func("/Data/Errors/IDX/header", test_idx_header_errors);
  g_test_add_func("/Data/Errors/IDX/sizes", test_idx_size_errors);
  g_test_add_func("/Data/Errors/IDX/split-sizes", test_idx_split_sizes_disagree);
  g_test_add_func("/Data/Errors/gzip", test_gzip_errors);
  g_test_add_func("/Data/Errors/folder", test_folder_errors);
  g_test_add_func("/Data/Errors/folder-one-class", test_folder_one_class);
  g_test_add_func("/Data/Errors/folder-nested-classes", test_folder_nested_classes);
  g_test_add_func("/Data/Errors/folder-truncated-images", test_folder_truncated_images);
  g_test_add_func("/Data/Errors/paths", test_open_bad_paths);
  g_test_add_func("/Data/Errors/unreadable", test_open_unreadable);
  return g_test_run();
}
