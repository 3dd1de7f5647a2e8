/* Where the application's trainings keep their checkpoints: one folder per
 * training under a root, the oldest ones removed so that the root holds at
 * most a few. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Normal runs keep this many run folders (the newest). */
#define SIMCLR_STUDIO_RUNS_KEPT 5

char *simclr_studio_runs_root_dup(void);
char *simclr_studio_run_folder_new(const char *root, guint keep, GError **error);
gboolean simclr_studio_remove_tree(const char *path, GError **error);

G_END_DECLS
