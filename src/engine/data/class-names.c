/* Class-name files: one name per line (STL-10 class_names.txt, CIFAR-10
 * batches.meta.txt, which ends in a blank line). */
#include "readers.h"

#include <string.h>

#include "sc-error.h"

static void
format_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
format_error(GError **error, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, args);
  va_end(args);
  g_set_error_literal(error, SC_DATA_ERROR, SC_ERROR_FORMAT, msg);
}

char **
sc_class_names_parse(const char *text, gsize len, const char *name, int expected,
                     GError **error)
{
  g_return_val_if_fail(expected > 0 && (text != NULL || len == 0), NULL);
  if (len == 0) {
    format_error(error, "%s is empty: expected %d class names, one per line", name,
                 expected);
    return NULL;
  }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  int first_blank = 0; /* line number of a blank line not yet followed by a name */
  int line_no = 0;
  for (gsize pos = 0; pos < len; line_no++) {
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    gsize line_len = nl != NULL ? (gsize)(nl - start) : len - pos;
    pos += line_len + (nl != NULL);

    if (!g_utf8_validate_len(start, line_len, NULL)) {
      format_error(error, "%s line %d is not UTF-8 text", name, line_no + 1);
      return NULL;
    }
    /* CR (from CRLF files) and spaces around the name are not part of it. */
    char *label = g_strstrip(g_strndup(start, line_len));
    if (*label == '\0') {
      g_free(label);
      if (first_blank == 0)
        first_blank = line_no + 1;
      continue;
    }
    if (first_blank != 0) {
      format_error(error, "%s line %d is blank, but line %d holds another name: expected "
                   "one name per line with no blank lines between them", name,
                   first_blank, line_no + 1);
      g_free(label);
      return NULL;
    }
    if ((int)names->len == expected) {
      format_error(error, "%s line %d holds name %u (\"%s\"), but the labels allow only "
                   "%d classes", name, line_no + 1, names->len + 1, label, expected);
      g_free(label);
      return NULL;
    }
    for (guint i = 0; i < names->len; i++) {
      if (strcmp(names->pdata[i], label) == 0) {
        format_error(error, "%s line %d repeats the class name \"%s\"", name, line_no + 1,
                     label);
        g_free(label);
        return NULL;
      }
    }
    g_ptr_array_add(names, label);
  }
  if ((int)names->len != expected) {
    format_error(error, "%s holds %u class names, expected %d (one per label)", name,
                 names->len, expected);
    return NULL;
  }
  g_ptr_array_add(names, NULL);
  return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}
