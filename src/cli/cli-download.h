/* simclr-train --download-stl10 DIR: the official STL-10 archive downloaded
 * (or resumed) and unpacked into DIR/stl10_binary, progress on stderr. */
#pragma once

#include "data/download.h"

G_BEGIN_DECLS

/* Downloads source (NULL: STL-10) into dest_dir in a worker thread while the
 * main thread waits for it or for Ctrl-C, which cancels it and keeps the
 * bytes received for the next run. terminal: redraw one progress line in
 * place, else print a line per stage and per tenth. Returns the exit status:
 * 0 done (the data set's folder on stdout), 1 failed (message on stderr),
 * 130 interrupted. */
int cli_download_dataset(const ScDownloadSource *source, const char *dest_dir,
                         gboolean terminal);

G_END_DECLS
