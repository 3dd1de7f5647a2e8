/* libFuzzer target: IDX images and labels from memory, each raw or gzip. */
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  GBytes *images_file, *labels_file;
  if (!fuzz_cut(data, size, &images_file, &labels_file))
    return 0;
  GError *error = NULL;
  GBytes *images = sc_data_maybe_gunzip(images_file, "images", &error);
  GBytes *labels = NULL;
  if (images == NULL) {
    fuzz_check_error(error);
    error = NULL;
  } else if (!(labels = sc_data_maybe_gunzip(labels_file, "labels", &error))) {
    fuzz_check_error(error);
    error = NULL;
  }
  if (images != NULL && labels != NULL) {
    ScSplit *s = sc_idx_split_from_bytes("train", images, "images", labels, "labels", &error);
    if (s != NULL) {
      FUZZ_CHECK(sc_split_channels(s) == 1);
      FUZZ_CHECK(16 + sc_split_count(s) * sc_split_image_bytes(s) == g_bytes_get_size(images));
      fuzz_check_split(s, 10, 4);
    } else {
      fuzz_check_error(error);
    }
  }
  /* The header parser alone, on the raw input, for every rank it accepts. */
  for (int dims = 1; dims <= 3; dims++) {
    ScIdxHeader h;
    error = NULL;
    if (sc_idx_parse(data, size, "raw", dims, &h, &error))
      FUZZ_CHECK(h.data + h.data_len == data + size);
    else
      fuzz_check_error(error);
  }
  if (images != NULL)
    g_bytes_unref(images);
  if (labels != NULL)
    g_bytes_unref(labels);
  g_bytes_unref(images_file);
  g_bytes_unref(labels_file);
  return 0;
}
