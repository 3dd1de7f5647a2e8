/* libFuzzer target: STL-10 labels and image records from memory. */
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  GBytes *labels, *records;
  if (!fuzz_cut(data, size, &labels, &records))
    return 0;
  GError *error = NULL;
  gsize labels_len;
  const guint8 *label_bytes = g_bytes_get_data(labels, &labels_len);
  size_t n = 0;
  int32_t *parsed = sc_stl10_parse_labels(label_bytes, labels_len, "y", &n, &error);
  if (parsed != NULL) {
    FUZZ_CHECK(n == labels_len);
    for (size_t i = 0; i < n; i++)
      FUZZ_CHECK(parsed[i] == label_bytes[i] - 1 && parsed[i] >= 0 && parsed[i] < 10);
    g_free(parsed);
  } else {
    fuzz_check_error(error);
    error = NULL;
  }
  /* With and without labels. */
  for (int with = 0; with < 2; with++) {
    ScSplit *s = sc_stl10_split_from_bytes("train", records, "x", with ? labels : NULL, "y",
                                           &error);
    if (s != NULL) {
      FUZZ_CHECK(sc_split_count(s) * SC_STL10_RECORD_BYTES == g_bytes_get_size(records));
      fuzz_check_split(s, 10, 2);
    } else {
      fuzz_check_error(error);
      error = NULL;
    }
  }
  g_bytes_unref(labels);
  g_bytes_unref(records);
  return 0;
}
