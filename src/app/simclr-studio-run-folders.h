/* Where the application's trainings keep their checkpoints: one folder per
 * training under a root, the oldest ones removed so that the root holds at
 * most a few. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Normal runs keep this many run folders (the newest). */
#define SIMCLR_STUDIO_RUNS_KEPT 5

char *simclr_studio_runs_root_dup(void);
/* Creates ROOT/STAMP (STAMP-2, -3... when a folder of that second exists)
 * and locks it, then keeps only the newest KEEP run folders of ROOT that
 * hold a checkpoint, the new one included; KEEP 0 keeps them all. Folders
 * another training has locked, and those holding a finished training's
 * results (history.json, every run complete), are never removed. *lock_fd gets the
 * descriptor that holds the new folder's lock (close it once the training
 * ends); with lock_fd NULL the folder is left unlocked. */
char *simclr_studio_run_folder_new(const char *root, guint keep, int *lock_fd,
                                   GError **error);
/* TRUE while a training (of any window or process) holds the folder's lock. */
gboolean simclr_studio_run_folder_is_locked(const char *path);
/* Locks an existing run folder for a training that goes on in it; returns
 * the descriptor to close once it ends, or -1 with the error (another
 * training holds it, or it is gone). */
int simclr_studio_run_folder_lock(const char *path, GError **error);
/* The newest run folder of ROOT that holds a checkpoint, if its training
 * was stopped before it finished and no training holds it now: the one
 * Continue goes on with. NULL when there is none. */
char *simclr_studio_run_folder_find_resumable(const char *root);
/* The newest run folder of ROOT that holds a history.json (the results of
 * a training, finished or stopped) and that no training holds, or NULL. */
char *simclr_studio_run_folder_find_newest_results(const char *root);
/* All such folders of ROOT, the newest first (an empty array when none). */
GPtrArray *simclr_studio_run_folder_list_results(const char *root);
gboolean simclr_studio_remove_tree(const char *path, GError **error);

G_END_DECLS
