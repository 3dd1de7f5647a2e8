/* Shared by the fuzz targets: the input cut in two at a length in its first
 * two bytes (little-endian), and a hard stop when an invariant breaks. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "data/readers.h"
#include "sc-error.h"

/* A broken invariant is a crash for libFuzzer to report. */
#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond))                                                                             \
      __builtin_trap();                                                                      \
  } while (0)

/* data = len (2 bytes) | first (len bytes, clipped) | second (the rest). */
static inline gboolean
fuzz_cut(const uint8_t *data, size_t size, GBytes **first, GBytes **second)
{
  if (size < 2)
    return FALSE;
  size_t len = MIN((size_t)(data[0] | data[1] << 8), size - 2);
  *first = g_bytes_new_static(data + 2, len);
  *second = g_bytes_new_static(data + 2 + len, size - 2 - len);
  return TRUE;
}

/* A failed parse has an error in the data domain with a message. */
static inline void
fuzz_check_error(GError *error)
{
  FUZZ_CHECK(error != NULL && error->domain == SC_DATA_ERROR && error->message[0] != '\0');
  g_error_free(error);
}

/* Reads every image (at most `limit`) and checks labels are in 0..k-1. */
static inline void
fuzz_check_split(ScSplit *split, int n_classes, size_t limit)
{
  size_t n = sc_split_count(split), bytes = sc_split_image_bytes(split);
  FUZZ_CHECK(n > 0 && bytes > 0);
  const int32_t *labels = sc_split_labels(split);
  for (size_t i = 0; labels != NULL && i < n; i++)
    FUZZ_CHECK(labels[i] >= 0 && labels[i] < n_classes);
  guint8 *img = g_malloc(bytes);
  for (size_t i = 0; i < MIN(n, limit); i++)
    sc_split_get_image(split, i, img);
  g_free(img);
  sc_split_free(split);
}
