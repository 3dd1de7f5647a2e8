/* libFuzzer target: class-name files (first byte: how many names to expect). */
#include <string.h>

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  int expected = 1 + data[0] % 16;
  GError *error = NULL;
  char **names = sc_class_names_parse((const char *)data + 1, size - 1, "names", expected,
                                      &error);
  if (names == NULL) {
    fuzz_check_error(error);
    return 0;
  }
  FUZZ_CHECK((int)g_strv_length(names) == expected);
  for (int i = 0; i < expected; i++) {
    size_t len = strlen(names[i]);
    FUZZ_CHECK(len > 0 && g_utf8_validate(names[i], -1, NULL));
    FUZZ_CHECK(!g_ascii_isspace(names[i][0]) && !g_ascii_isspace(names[i][len - 1]));
    FUZZ_CHECK(strchr(names[i], '\n') == NULL);
    for (int j = 0; j < i; j++)
      FUZZ_CHECK(strcmp(names[i], names[j]) != 0);
  }
  g_strfreev(names);
  return 0;
}
