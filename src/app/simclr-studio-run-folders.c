/* Run folders: ROOT/YYYYmmdd-HHMMSS[-N], pruned to the newest few. */
#include "config.h"

#include "simclr-studio-run-folders.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sc-json.h"

/* "20261204-073000" (15 characters), optionally followed by "-N". */
static gboolean
is_run_folder_name(const char *name)
{
  size_t n = strlen(name);
  if (n < 15 || name[8] != '-')
    return FALSE;
  for (size_t i = 0; i < n; i++) {
    gboolean dash = i == 8 || i == 15;
    if (dash ? name[i] != '-' : !g_ascii_isdigit(name[i]))
      return FALSE;
  }
  return n == 15 || n > 16;
}

/* Older first: the stamps sort as text, then by the "-N" suffix. */
static int
compare_run_names(gconstpointer a, gconstpointer b)
{
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  int c = strncmp(x, y, 15);
  if (c != 0)
    return c;
  guint64 nx = x[15] ? g_ascii_strtoull(x + 16, NULL, 10) : 0;
  guint64 ny = y[15] ? g_ascii_strtoull(y + 16, NULL, 10) : 0;
  return nx < ny ? -1 : nx > ny;
}

char *
simclr_studio_runs_root_dup(void)
{
  return g_build_filename(g_get_user_data_dir(), "simclr-studio", "runs", NULL);
}

gboolean
simclr_studio_remove_tree(const char *path, GError **error)
{
  g_return_val_if_fail(path != NULL, FALSE);
  if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
    g_autoptr(GDir) dir = g_dir_open(path, 0, error);
    if (dir == NULL)
      return FALSE;
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      if (!simclr_studio_remove_tree(child, error))
        return FALSE;
    }
  }
  if (g_remove(path) != 0 && errno != ENOENT) {
    int saved_errno = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                "Could not remove %s: %s", path, g_strerror(saved_errno));
    return FALSE;
  }
  return TRUE;
}

/* Opens the folder PATH and locks it without waiting, as simclr-train locks
 * its --out folder: the lock belongs to this open file, so another window or
 * process finds it held. Returns the descriptor, or -1 with errno set
 * (EWOULDBLOCK: someone holds the lock). */
static int
lock_folder(const char *path)
{
  int fd = g_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return -1;
  }
  return fd;
}

gboolean
simclr_studio_run_folder_is_locked(const char *path)
{
  g_return_val_if_fail(path != NULL, FALSE);
  int fd = lock_folder(path);
  if (fd < 0)
    return errno == EWOULDBLOCK;
  close(fd);
  return FALSE;
}

static gboolean
holds_checkpoint(const char *root, const char *name)
{
  g_autofree char *path = g_build_filename(root, name, "checkpoint.safetensors", NULL);
  return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

typedef enum {
  RESULTS_NONE,     /* no history.json, or one of a training not finished */
  RESULTS_FINISHED, /* history.json says every run it trained is complete */
  RESULTS_UNKNOWN,  /* a history.json that cannot be read now */
} ResultsState;

static ResultsState
results_state(const char *root, const char *name)
{
  g_autofree char *path = g_build_filename(root, name, "history.json", NULL);
  g_autofree char *text = NULL;
  gsize length = 0;
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
    return RESULTS_NONE;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, &length, &error)
      || !sc_json_load_bounded(parser, text, (gssize)length, &error)) {
    g_debug("%s: %s", path, error->message);
    return RESULTS_UNKNOWN;
  }
  JsonNode *root_node = json_parser_get_root(parser);
  JsonObject *top = root_node != NULL && JSON_NODE_HOLDS_OBJECT(root_node)
                      ? json_node_get_object(root_node) : NULL;
  JsonNode *progress_node = top != NULL ? json_object_get_member(top, "progress") : NULL;
  if (progress_node == NULL || !JSON_NODE_HOLDS_OBJECT(progress_node))
    return RESULTS_UNKNOWN;
  g_autoptr(GList) runs = json_object_get_values(json_node_get_object(progress_node));
  for (GList *l = runs; l != NULL; l = l->next) {
    JsonObject *run = JSON_NODE_HOLDS_OBJECT(l->data) ? json_node_get_object(l->data) : NULL;
    if (run == NULL)
      return RESULTS_UNKNOWN;
    if (!json_object_get_boolean_member_with_default(run, "complete", FALSE))
      return RESULTS_NONE;
  }
  return runs != NULL ? RESULTS_FINISHED : RESULTS_UNKNOWN;
}

int
simclr_studio_run_folder_lock(const char *path, GError **error)
{
  g_return_val_if_fail(path != NULL, -1);
  int fd = lock_folder(path);
  if (fd < 0) {
    int saved_errno = errno;
    if (saved_errno == EWOULDBLOCK)
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                  "Another training is writing into %s", path);
    else
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                  "Could not lock the run folder %s: %s", path, g_strerror(saved_errno));
  }
  return fd;
}

/* The names of ROOT's run folders, oldest first (none when ROOT cannot be
 * read). */
static GPtrArray *
run_folder_names(const char *root)
{
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL)
    if (is_run_folder_name(name))
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, compare_run_names);
  return names;
}

char *
simclr_studio_run_folder_find_resumable(const char *root)
{
  g_return_val_if_fail(root != NULL, NULL);
  g_autoptr(GPtrArray) names = run_folder_names(root);
  /* The newest one with a checkpoint not being trained; a finished one
   * offers nothing. */
  for (guint i = names->len; i-- > 0;) {
    if (!holds_checkpoint(root, names->pdata[i]))
      continue;
    g_autofree char *path = g_build_filename(root, names->pdata[i], NULL);
    if (simclr_studio_run_folder_is_locked(path))
      continue;
    /* One whose history cannot be read is offered: its checkpoint decides. */
    if (results_state(root, names->pdata[i]) == RESULTS_FINISHED)
      return NULL;
    return g_steal_pointer(&path);
  }
  return NULL;
}

GPtrArray *
simclr_studio_run_folder_list_results(const char *root)
{
  g_return_val_if_fail(root != NULL, NULL);
  GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) names = run_folder_names(root);
  for (guint i = names->len; i-- > 0;) {
    g_autofree char *history = g_build_filename(root, names->pdata[i], "history.json", NULL);
    g_autofree char *path = g_build_filename(root, names->pdata[i], NULL);
    /* A folder a training holds is still being written. */
    if (g_file_test(history, G_FILE_TEST_IS_REGULAR) && !simclr_studio_run_folder_is_locked(path))
      g_ptr_array_add(found, g_steal_pointer(&path));
  }
  return found;
}

char *
simclr_studio_run_folder_find_newest_results(const char *root)
{
  g_autoptr(GPtrArray) found = simclr_studio_run_folder_list_results(root);
  return found != NULL && found->len > 0 ? g_strdup(found->pdata[0]) : NULL;
}

/* Removes a run folder unless a training holds its lock; the lock is held
 * while removing, so no training can start writing into it meanwhile. */
static void
remove_logged(const char *root, const char *name)
{
  g_autofree char *path = g_build_filename(root, name, NULL);
  int fd = lock_folder(path);
  if (fd < 0) {
    if (errno == EWOULDBLOCK)
      g_debug("%s: a training holds it, kept", path);
    else
      g_warning("Failed to lock the old run folder %s: %s", path, g_strerror(errno));
    return;
  }
  g_autoptr(GError) error = NULL;
  if (!simclr_studio_remove_tree(path, &error))
    g_warning("Failed to remove an old run folder: %s", error->message);
  close(fd);
}

/* Removes the older run folders of ROOT that hold no checkpoint (runs that
 * failed or stopped before their first epoch ended: nothing to resume), then
 * the oldest ones until at most KEEP remain, the new folder CURRENT
 * included. The results of a finished training are never removed, nor
 * counted: only stopped and failed runs make way. A folder locked by a
 * training (of another window or process, perhaps before its first
 * checkpoint) is neither removed nor counted. Only
 * names that look like run folders are touched; failures are logged, not
 * fatal: a training must not fail because an old folder stayed. */
static void
prune_run_folders(const char *root, const char *current, guint keep)
{
  g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
  if (dir == NULL)
    return;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = g_build_filename(root, name, NULL);
    if (!is_run_folder_name(name) || !g_file_test(path, G_FILE_TEST_IS_DIR))
      continue;
    /* The new folder is never a candidate: within one second it may reuse
     * the name of a folder just removed and so sort as the oldest. */
    /* Unreadable results are not proof of an unfinished training: kept. */
    if (strcmp(name, current) == 0 || simclr_studio_run_folder_is_locked(path)
        || results_state(root, name) != RESULTS_NONE)
      continue;
    if (!holds_checkpoint(root, name))
      remove_logged(root, name);
    else
      g_ptr_array_add(names, g_strdup(name));
  }
  g_ptr_array_sort(names, compare_run_names);
  for (guint i = 0; i + keep < names->len + 1; i++)
    remove_logged(root, names->pdata[i]);
}

char *
simclr_studio_run_folder_new(const char *root, guint keep, int *lock_fd, GError **error)
{
  g_return_val_if_fail(root != NULL, NULL);
  if (g_mkdir_with_parents(root, 0755) != 0) {
    int saved_errno = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                "Could not create the checkpoint folder %s: %s", root,
                g_strerror(saved_errno));
    return NULL;
  }
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
  g_autofree char *dir = NULL;
  int fd = -1;
  for (int n = 1;; n++) {
    g_autofree char *name = n == 1 ? g_strdup(stamp) : g_strdup_printf("%s-%d", stamp, n);
    g_free(dir);
    dir = g_build_filename(root, name, NULL);
    gboolean made = g_mkdir(dir, 0755) == 0;
    if (made && (fd = lock_folder(dir)) >= 0)
      break;
    /* Taken: the name exists, or another instance pruning removed or locked
     * the new, still empty folder before this one locked it. */
    gboolean taken = made ? errno == ENOENT || errno == EWOULDBLOCK : errno == EEXIST;
    if (!taken || n == 1000) {
      int saved_errno = errno;
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                  "Could not %s the checkpoint folder %s: %s", made ? "lock" : "create",
                  dir, g_strerror(saved_errno));
      return NULL;
    }
  }
  if (keep > 0) {
    g_autofree char *current = g_path_get_basename(dir);
    prune_run_folders(root, current, keep);
  }
  if (lock_fd != NULL)
    *lock_fd = fd;
  else
    close(fd);
  return g_steal_pointer(&dir);
}
