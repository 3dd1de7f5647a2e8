/* Files written whole and atomically, with messages that name the file the
 * caller asked for (never the temporary one) and say why it failed. Needs
 * GLib only, so code outside the engine can build it too. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes len bytes to path through a temporary file beside it, renamed over
 * path once complete, so a reader never sees half a file. It is synced to
 * disk first when durable or when it replaces a file; mode is filtered by
 * the umask. On failure nothing is left behind and error reads
 * "Cannot write PATH: REASON" (e.g. "its folder DIR does not exist"), code
 * SC_ERROR_IO, or the errno's GFileError when domain is G_FILE_ERROR. */
gboolean sc_file_write_atomic(const char *path, const void *data, gsize len, int mode,
                              gboolean durable, GQuark domain, GError **error);

G_END_DECLS
