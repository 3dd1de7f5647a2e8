/* Atomic writes through g_file_set_contents_full(), with messages about
 * the file the user named: GLib's own name its temporary file
 * ("p.png.9XSTZ3"), which the user never asked for. */
#include "sc-file.h"

#include <string.h>

#include "sc-error.h"

/* Why writing path failed, from GLib's error code, in words that say what
 * to check. */
static char *
describe(const char *path, const GError *e)
{
  g_autofree char *dir = g_path_get_dirname(path);
  switch (e->domain == G_FILE_ERROR ? e->code : -1) {
  case G_FILE_ERROR_NOENT:
    if (!g_file_test(dir, G_FILE_TEST_EXISTS))
      return g_strdup_printf("its folder %s does not exist (create it first, or give a "
                             "path in an existing folder)", dir);
    break;
  case G_FILE_ERROR_NOTDIR:
    return g_strdup_printf("a part of the folder path %s is a file, not a folder", dir);
  case G_FILE_ERROR_ACCES:
  case G_FILE_ERROR_PERM:
    return g_strdup_printf("no permission to write into the folder %s", dir);
  case G_FILE_ERROR_ROFS:
    return g_strdup_printf("the folder %s is on a read-only file system", dir);
  case G_FILE_ERROR_ISDIR:
    return g_strdup_printf("%s is a folder", path);
  case G_FILE_ERROR_NOSPC:
    return g_strdup_printf("no space left on the device of %s", dir);
  default:
    break;
  }
  /* GLib's message names its temporary file; its last part is the reason. */
  const char *reason = strrchr(e->message, ':');
  return g_strdup(reason != NULL ? reason + 2 : e->message);
}

gboolean
sc_file_write_atomic(const char *path, const void *data, gsize len, int mode,
                     gboolean durable, GQuark domain, GError **error)
{
  g_return_val_if_fail(path != NULL && (data != NULL || len == 0), FALSE);
  /* GLib writes a temporary file beside path, syncs it when durable or when
   * it replaces a file, renames it over path, and removes it on failure. */
  g_autoptr(GError) local = NULL;
  GFileSetContentsFlags flags = G_FILE_SET_CONTENTS_CONSISTENT
                                | (durable ? G_FILE_SET_CONTENTS_DURABLE : 0);
  if (g_file_set_contents_full(path, data != NULL ? data : "", (gssize)len, flags, mode,
                               &local))
    return TRUE;
  g_autofree char *why = describe(path, local);
  int code = domain == G_FILE_ERROR ? local->code : SC_ERROR_IO;
  g_set_error(error, domain, code, "Cannot write %s: %s", path, why);
  return FALSE;
}
