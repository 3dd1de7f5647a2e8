/* libFuzzer target: CIFAR-10 batch files from memory (two files). */
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  GBytes *files[2];
  if (!fuzz_cut(data, size, &files[0], &files[1]))
    return 0;
  const char *names[2] = { "data_batch_1.bin", "data_batch_2.bin" };
  for (size_t n_files = 1; n_files <= 2; n_files++) {
    GError *error = NULL;
    ScSplit *s = sc_cifar10_split_from_bytes("train", files, names, n_files, 10, &error);
    if (s != NULL) {
      gsize total = 0;
      for (size_t f = 0; f < n_files; f++)
        total += g_bytes_get_size(files[f]);
      FUZZ_CHECK(sc_split_count(s) * SC_CIFAR10_RECORD_BYTES == total);
      FUZZ_CHECK(sc_split_peek_hwc(s) != NULL);
      fuzz_check_split(s, 10, 4);
    } else {
      fuzz_check_error(error);
    }
  }
  g_bytes_unref(files[0]);
  g_bytes_unref(files[1]);
  return 0;
}
