/* Data-set fixtures written at test time, in every format. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* A test pattern value for pixel (n, row, col, ch) of any format. */
static inline guint8
fx_pattern(size_t n, int row, int col, int ch)
{
  return (guint8)(n * 31 + row * 7 + col * 13 + ch * 101);
}

/* dir/name <- data; creates dir's missing parents. */
void fx_write(const char *dir, const char *name, const void *data, gsize len);
void fx_write_text(const char *dir, const char *name, const char *text);

/* n STL-10 records holding fx_pattern in column-major planes. */
GByteArray *fx_stl10_records(size_t n);
/* An STL-10 folder: train n_train, test n_test, unlabeled n_unlabeled (0: no
 * file); labels (k % 10) + 1; class_names.txt with CRLF ends. */
void fx_stl10_folder(const char *dir, size_t n_train, size_t n_test, size_t n_unlabeled);

/* n CIFAR-10 records with labels[i] and fx_pattern (n offset by first). */
GByteArray *fx_cifar10_records(size_t n, size_t first, const guint8 *labels);
/* A CIFAR-10 folder: data_batch_b.bin holds b records (b = 1..5), test 4. */
void fx_cifar10_folder(const char *dir);

/* IDX files: images (n, rows, cols) of fx_pattern; labels i % 10. */
GByteArray *fx_idx_images(size_t n, int rows, int cols);
GByteArray *fx_idx_labels(size_t n);
/* gzip of data. */
GByteArray *fx_gzip(const guint8 *data, gsize len);
/* An IDX folder with n_train / n_test images of rows x cols, gzipped or raw. */
void fx_idx_folder(const char *dir, size_t n_train, size_t n_test, int rows, int cols,
                   gboolean gzip);

/* A w x h PNG (or JPEG when the name ends in .jpg) of one colour; alpha adds
 * a fourth channel of 128. */
void fx_write_image(const char *path, int w, int h, const guint8 rgb[3], gboolean alpha);

/* Asserts that error is SC_DATA_ERROR/code and its message holds every one
 * of the NULL-terminated strings. */
void fx_assert_error(const GError *error, int code, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
