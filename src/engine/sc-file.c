/* Atomic writes with messages about the file the user named. GLib's
 * g_file_set_contents_full() does the same steps but its errors name the
 * temporary file ("p.png.9XSTZ3"), which the user never asked for. */
#include "sc-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "sc-error.h"

char *
sc_file_describe_write_errno(const char *path, int err)
{
  g_autofree char *dir = g_path_get_dirname(path);
  switch (err) {
  case ENOENT:
    if (!g_file_test(dir, G_FILE_TEST_EXISTS))
      return g_strdup_printf("its folder %s does not exist (create it first, or give a "
                             "path in an existing folder)", dir);
    break;
  case ENOTDIR:
    return g_strdup_printf("a part of the folder path %s is a file, not a folder", dir);
  case EACCES:
  case EPERM:
    return g_strdup_printf("no permission to write into the folder %s (%s)", dir,
                           g_strerror(err));
  case EROFS:
    return g_strdup_printf("the folder %s is on a read-only file system", dir);
  case EISDIR:
    return g_strdup_printf("%s is a folder", path);
  default:
    break;
  }
  return g_strdup(g_strerror(err));
}

static gboolean
write_all(int fd, const guint8 *data, gsize len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return FALSE;
    }
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

gboolean
sc_file_write_atomic(const char *path, const void *data, gsize len, int mode,
                     gboolean durable, GQuark domain, GError **error)
{
  g_return_val_if_fail(path != NULL && (data != NULL || len == 0), FALSE);
  g_autofree char *tmp = g_strconcat(path, ".XXXXXX", NULL);
  int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, mode);
  int err = 0;
  if (fd < 0) {
    err = errno;
  } else {
    /* Replacing a file: sync first, or a crash could leave it empty. */
    gboolean sync = durable || g_file_test(path, G_FILE_TEST_EXISTS);
    if (!write_all(fd, data, len) || (sync && fsync(fd) != 0))
      err = errno;
    if (close(fd) != 0 && err == 0)
      err = errno;
    if (err == 0 && g_rename(tmp, path) != 0)
      err = errno;
    if (err != 0)
      g_unlink(tmp);
  }
  if (err == 0)
    return TRUE;
  g_autofree char *why = sc_file_describe_write_errno(path, err);
  int code = domain == G_FILE_ERROR ? (int)g_file_error_from_errno(err) : SC_ERROR_IO;
  g_set_error(error, domain, code, "Cannot write %s: %s", path, why);
  return FALSE;
}
