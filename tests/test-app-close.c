/* Closing the window in the middle of a training: simclr-studio
 * --close-during-training (path in $SC_STUDIO_EXE) must ask before quitting
 * (it answers Quit) and end with status 0 within seconds of the close, having kept the checkpoint of the last
 * epoch in a scratch folder that is gone at exit, not in the user's runs.
 * Without a display it says so in words and exits 1. */
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>

#include "test-util.h"

#define LIMIT_S 120

typedef struct {
  GSubprocess *child;
  gboolean done;
  gboolean timed_out;
  char *out;
  GError *error;
} Run;

static gboolean
kill_cb(gpointer data)
{
  Run *run = data;
  run->timed_out = TRUE;
  g_subprocess_force_exit(run->child);
  return G_SOURCE_REMOVE;
}

static void
communicated_cb(GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), result, &run->out, NULL,
                                       &run->error);
  run->done = TRUE;
}

static void
test_close_mid_training(void)
{
  const char *exe = g_getenv("SC_STUDIO_EXE");
  if (exe == NULL || g_getenv("DISPLAY") == NULL) {
    g_test_skip("needs SC_STUDIO_EXE and a display (run under xvfb-run)");
    return;
  }
  g_autofree char *home = sc_test_mkdtemp();
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv(launcher, "XDG_DATA_HOME", home, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child =
    g_subprocess_launcher_spawn(launcher, &error, exe, "--close-during-training", NULL);
  g_assert_no_error(error);

  Run run = { .child = child };
  guint id = g_timeout_add_seconds(LIMIT_S, kill_cb, &run);
  g_subprocess_communicate_utf8_async(child, NULL, NULL, communicated_cb, &run);
  while (!run.done)
    g_main_context_iteration(NULL, TRUE);
  if (!run.timed_out)
    g_source_remove(id);
  g_assert_no_error(run.error);
  g_autofree char *out = run.out;
  g_test_message("%s", out);
  g_assert_false(run.timed_out);

  g_assert_true(g_subprocess_get_if_exited(child));
  g_assert_cmpint(g_subprocess_get_exit_status(child), ==, 0);
  g_assert_nonnull(strstr(out, "Closing the window during the training"));
  /* It asked first, naming the run folder whose checkpoint is kept. */
  g_assert_nonnull(strstr(out, "Asked: Stop the training and quit? "));
  g_assert_nonnull(strstr(out, "last checkpoint is kept in "));
  const char *closed = strstr(out, "The window closed ");
  g_assert_nonnull(closed);
  double seconds = g_ascii_strtod(closed + strlen("The window closed "), NULL);
  g_assert_cmpfloat(seconds, <, 5.0);
  /* The checkpoint existed until the exit, outside the user's data. */
  const char *kept = strstr(out, "Checkpoint kept until exit: ");
  g_assert_nonnull(kept);
  g_autofree char *path = g_strndup(kept + strlen("Checkpoint kept until exit: "),
                                    strcspn(kept + strlen("Checkpoint kept until exit: "),
                                            "\n"));
  g_assert_true(g_str_has_suffix(path, "checkpoint.safetensors"));
  g_assert_false(g_str_has_prefix(path, home));
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_autofree char *runs = g_build_filename(home, "simclr-studio", NULL);
  g_assert_false(g_file_test(runs, G_FILE_TEST_EXISTS));
  sc_test_rmtree(home);
}

/* --screenshot-during-training: the README's picture, taken at 1366x768
 * while the pretraining trains (closing then asks, and it answers). */
static void
test_screenshot_during_training(void)
{
  const char *exe = g_getenv("SC_STUDIO_EXE");
  if (exe == NULL || g_getenv("DISPLAY") == NULL) {
    g_test_skip("needs SC_STUDIO_EXE and a display (run under xvfb-run)");
    return;
  }
  g_autofree char *home = sc_test_mkdtemp();
  g_autofree char *png = g_build_filename(home, "during.png", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv(launcher, "XDG_DATA_HOME", home, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = g_subprocess_launcher_spawn(
    launcher, &error, exe, "--screenshot-during-training", png, NULL);
  g_assert_no_error(error);
  Run run = { .child = child };
  guint id = g_timeout_add_seconds(LIMIT_S, kill_cb, &run);
  g_subprocess_communicate_utf8_async(child, NULL, NULL, communicated_cb, &run);
  while (!run.done)
    g_main_context_iteration(NULL, TRUE);
  if (!run.timed_out)
    g_source_remove(id);
  g_assert_no_error(run.error);
  g_autofree char *out = run.out;
  g_test_message("%s", out);
  g_assert_false(run.timed_out);
  g_assert_cmpint(g_subprocess_get_exit_status(child), ==, 0);
  g_assert_nonnull(strstr(out, "Asked: Stop the training and quit? "));
  g_autoptr(GdkPixbuf) picture = gdk_pixbuf_new_from_file(png, &error);
  g_assert_no_error(error);
  g_assert_cmpint(gdk_pixbuf_get_height(picture), ==, 768);
  /* A screen narrower than the window and its border (xvfb-run's default
   * is 1280x1024) narrows it. */
  g_assert_true(gtk_init_check());
  GListModel *monitors = gdk_display_get_monitors(gdk_display_get_default());
  g_autoptr(GdkMonitor) monitor = g_list_model_get_item(monitors, 0);
  GdkRectangle screen;
  gdk_monitor_get_geometry(monitor, &screen);
  g_test_message("screen %dx%d", screen.width, screen.height);
  if (screen.width >= 1366 + 10)
    g_assert_cmpint(gdk_pixbuf_get_width(picture), ==, 1366);
  else
    g_assert_cmpint(gdk_pixbuf_get_width(picture), >, screen.width - 20);
  sc_test_rmtree(home);
}

static void
test_no_display(void)
{
  const char *exe = g_getenv("SC_STUDIO_EXE");
  if (exe == NULL) {
    g_test_skip("needs SC_STUDIO_EXE");
    return;
  }
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_unsetenv(launcher, "DISPLAY");
  g_subprocess_launcher_unsetenv(launcher, "WAYLAND_DISPLAY");
  g_subprocess_launcher_setenv(launcher, "GDK_BACKEND", "x11,wayland", TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = g_subprocess_launcher_spawn(launcher, &error, exe, NULL);
  g_assert_no_error(error);
  g_autofree char *out = NULL;
  g_assert_true(g_subprocess_communicate_utf8(child, NULL, NULL, &out, NULL, &error));
  g_assert_no_error(error);
  g_test_message("%s", out);
  g_assert_true(g_subprocess_get_if_exited(child));
  g_assert_cmpint(g_subprocess_get_exit_status(child), ==, 1);
  g_assert_nonnull(strstr(out, "no display found"));
  g_assert_nonnull(strstr(out, "simclr-train"));
  g_assert_null(strstr(out, "Gtk-WARNING"));
}

int
main(int argc, char *argv[])
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/App/Close/mid-training", test_close_mid_training);
  g_test_add_func("/App/Close/screenshot-during-training", test_screenshot_during_training);
  g_test_add_func("/App/Close/no-display", test_no_display);
  return g_test_run();
}
