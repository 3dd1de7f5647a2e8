/* SimclrStudioApplication: actions, accelerators, command-line modes. */
#include "config.h"

#include "simclr-studio-application.h"

#include "simclr-studio-resources.h"
#include "simclr-studio-run-folders.h"
#include "simclr-studio-screenshot.h"
#include "simclr-studio-settings.h"
#include "simclr-studio-window.h"
#include "trainer.h"

/* Time for the window to settle after a training before its picture. */
#define SETTLE_MS 300
/* A picture mode that has not finished by then has failed. */
#define WATCHDOG_S 600
/* Steps after the first checkpoint before --close-during-training closes
 * the window. */
#define CLOSE_AFTER_STEPS 3
/* --screenshot-during-training: the picture once pretraining has this many
 * epochs (the baseline's are all there), in a common laptop's window. */
#define PICTURE_PRETRAIN_EPOCHS 3
#define PICTURE_WIDTH_PX 1366
#define PICTURE_HEIGHT_PX 768

struct _SimclrStudioApplication {
  AdwApplication parent_instance;

  GSettings *settings;
  SimclrStudioWindow *window;
  char *screenshot_path;       /* --screenshot or --screenshot-after-training */
  char *scratch_runs_root;     /* picture modes' checkpoints, removed at exit */
  gboolean after_training;     /* --screenshot-after-training */
  gboolean during_training;    /* --screenshot-during-training */
  gboolean picture_taken;
  gboolean close_during_training;
  gboolean checkpoint_seen;
  guint n_steps_seen;
  gint64 close_requested_usec;
  guint watchdog_id;
  int frames_to_screenshot;
  int exit_status;
};

G_DEFINE_FINAL_TYPE(SimclrStudioApplication, simclr_studio_application, ADW_TYPE_APPLICATION)

void
simclr_studio_register_resources(void)
{
  static gsize registered = 0;
  if (g_once_init_enter(&registered)) {
    simclr_studio_register_resource();
    g_once_init_leave(&registered, 1);
  }
}

static gboolean
picture_mode(SimclrStudioApplication *self)
{
  return self->screenshot_path != NULL || self->close_during_training;
}

static void
fail(SimclrStudioApplication *self, const char *message)
{
  g_printerr("simclr-studio: %s\n", message);
  self->exit_status = 1;
  g_application_quit(G_APPLICATION(self));
}

/* ---- Picture modes ---- */

/* Closes the window; during a training, answers its question as one who
 * wants to quit. */
static void
close_window(SimclrStudioApplication *self)
{
  SimclrStudioWindow *window = self->window;
  gboolean training = simclr_studio_window_get_training(window);
  gtk_window_close(GTK_WINDOW(window));
  if (!training)
    return; /* the window may be gone already */
  GtkWindow *dialog = simclr_studio_window_get_quit_dialog(window);
  if (dialog == NULL) {
    fail(self, "Closing during a training did not ask before quitting");
    return;
  }
  g_print("Asked: %s %s\n", adw_message_dialog_get_heading(ADW_MESSAGE_DIALOG(dialog)),
          adw_message_dialog_get_body(ADW_MESSAGE_DIALOG(dialog)));
  adw_message_dialog_response(ADW_MESSAGE_DIALOG(dialog), "quit");
  gtk_window_destroy(dialog);
}

static void
take_screenshot(SimclrStudioApplication *self)
{
  g_autoptr(GError) error = NULL;
  if (self->window == NULL) {
    fail(self, "The window was closed before its picture was taken");
    return;
  }
  if (!simclr_studio_save_widget_png(GTK_WIDGET(self->window), self->screenshot_path,
                                     &error)) {
    fail(self, error->message);
    return;
  }
  g_print("Wrote %s\n", self->screenshot_path);
  self->picture_taken = TRUE;
  close_window(self);
}

static void
after_paint_cb(GdkFrameClock *clock, SimclrStudioApplication *self)
{
  if (--self->frames_to_screenshot > 0) {
    gtk_widget_queue_draw(GTK_WIDGET(self->window));
    return;
  }
  g_signal_handlers_disconnect_by_func(clock, after_paint_cb, self);
  /* Out of the paint cycle: the window is fully drawn now. */
  g_idle_add_once((GSourceOnceFunc)take_screenshot, self);
}

/* Once two more frames have been painted (the log scrolls to its last line
 * in the frame after it has measured it), save the window. */
static void
screenshot_after_next_frame(SimclrStudioApplication *self)
{
  self->frames_to_screenshot = 2;
  if (self->window == NULL)
    return;
  GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(self->window));
  if (clock == NULL) {
    fail(self, "The window has no frame clock: is there a display?");
    return;
  }
  g_signal_connect(clock, "after-paint", G_CALLBACK(after_paint_cb), self);
  gtk_widget_queue_draw(GTK_WIDGET(self->window));
}

static void
training_finished_cb(SimclrStudioWindow *window, gboolean completed,
                     SimclrStudioApplication *self)
{
  g_debug("Longest main-loop stall during the training: %.1f ms",
          simclr_studio_window_get_max_stall_ms(window));
  const char *checkpoint = simclr_studio_window_get_checkpoint_path(window);
  if (checkpoint != NULL && g_file_test(checkpoint, G_FILE_TEST_IS_REGULAR))
    g_print("Checkpoint kept until exit: %s\n", checkpoint);
  if (self->close_during_training || self->screenshot_path == NULL)
    return;
  if (self->during_training) {
    if (!self->picture_taken)
      fail(self, "The training ended before its picture was taken");
    return;
  }
  if (!completed) {
    fail(self, "The training did not complete (see the window's log)");
    return;
  }
  /* The log measures its last lines in idle time: let it settle. */
  g_timeout_add_once(SETTLE_MS, (GSourceOnceFunc)screenshot_after_next_frame, self);
}

static void
training_event_cb(SimclrStudioWindow *window, const ScTrainerEvent *event,
                  SimclrStudioApplication *self)
{
  if (self->during_training && event->kind == SC_EVENT_EPOCH_DONE
      && event->run == SC_RUN_PRETRAIN && event->metrics.epoch == PICTURE_PRETRAIN_EPOCHS) {
    screenshot_after_next_frame(self);
    return;
  }
  if (!self->close_during_training)
    return;
  /* Close in the middle of an epoch, after a checkpoint exists to be kept. */
  if (event->kind == SC_EVENT_CHECKPOINT)
    self->checkpoint_seen = TRUE;
  if (!self->checkpoint_seen || event->kind != SC_EVENT_STEP)
    return;
  if (++self->n_steps_seen == CLOSE_AFTER_STEPS) {
    g_print("Closing the window during the training\n");
    self->close_requested_usec = g_get_monotonic_time();
    close_window(self);
  }
}

static void
start_training(SimclrStudioApplication *self)
{
  g_autoptr(GError) error = NULL;
  if (!simclr_studio_window_start_training(self->window, &error))
    fail(self, error->message);
}

static void
first_paint_cb(GdkFrameClock *clock, SimclrStudioApplication *self)
{
  g_signal_handlers_disconnect_by_func(clock, first_paint_cb, self);
  /* The picture is the window without its resize border: grow the window
   * by that border so the picture has the size asked for. */
  GtkWidget *window = GTK_WIDGET(self->window);
  int border_w = PICTURE_WIDTH_PX - gtk_widget_get_width(window);
  int border_h = PICTURE_HEIGHT_PX - gtk_widget_get_height(window);
  if (self->during_training && (border_w > 0 || border_h > 0))
    gtk_window_set_default_size(GTK_WINDOW(window), PICTURE_WIDTH_PX + MAX(border_w, 0),
                                PICTURE_HEIGHT_PX + MAX(border_h, 0));
  g_idle_add_once((GSourceOnceFunc)start_training, self);
}

static void
data_ready(SimclrStudioApplication *self)
{
  if (simclr_studio_window_get_loading(self->window))
    return;
  g_signal_handlers_disconnect_by_func(self->window, data_ready, self);
  if (!self->after_training && !self->during_training && !self->close_during_training) {
    screenshot_after_next_frame(self);
    return;
  }
  /* Train once the window with its data is on screen, as a user would. */
  GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(self->window));
  if (clock == NULL) {
    fail(self, "The window has no frame clock: is there a display?");
    return;
  }
  g_signal_connect(clock, "after-paint", G_CALLBACK(first_paint_cb), self);
  gtk_widget_queue_draw(GTK_WIDGET(self->window));
}

static gboolean
watchdog_cb(gpointer data)
{
  SimclrStudioApplication *self = data;
  self->watchdog_id = 0;
  fail(self, "Gave up waiting for the window to draw or the training to end");
  return G_SOURCE_REMOVE;
}

static void
start_picture_mode(SimclrStudioApplication *self)
{
  /* Checkpoints of a check are not the user's: a folder removed at exit.
   * A picture without a training shows the window as the user finds it,
   * the newest results of the runs root included. */
  g_autoptr(GError) error = NULL;
  gboolean trains = self->after_training || self->during_training
                    || self->close_during_training;
  if (trains)
    self->scratch_runs_root = g_dir_make_tmp("simclr-studio-runs-XXXXXX", &error);
  if (trains && self->scratch_runs_root == NULL) {
    fail(self, error->message);
    return;
  }
  if (trains)
    simclr_studio_window_set_runs_root(self->window, self->scratch_runs_root, 0);
  if (self->during_training)
    gtk_window_set_default_size(GTK_WINDOW(self->window), PICTURE_WIDTH_PX, PICTURE_HEIGHT_PX);
  self->watchdog_id = g_timeout_add_seconds(WATCHDOG_S, watchdog_cb, self);
  g_signal_connect(self->window, "training-finished", G_CALLBACK(training_finished_cb),
                   self);
  g_signal_connect(self->window, "training-event", G_CALLBACK(training_event_cb), self);
  /* Wait for the data set before drawing or training. */
  g_signal_connect_swapped(self->window, "notify::loading", G_CALLBACK(data_ready), self);
  data_ready(self);
}

/* ---- Application ---- */

static void
quit_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
  /* Closing each window stops its training cleanly before the app ends. */
  GList *windows = gtk_application_get_windows(GTK_APPLICATION(data));
  g_autoptr(GList) copy = g_list_copy(windows);
  for (GList *l = copy; l != NULL; l = l->next)
    gtk_window_close(l->data);
}

static void
about_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
  GtkApplication *app = GTK_APPLICATION(data);
  static const char *const developers[] = { "SimCLR Studio contributors", NULL };
  GtkWidget *about = adw_about_window_new();
  g_object_set(about,
               "transient-for", gtk_application_get_active_window(app),
               "application-name", "SimCLR Studio",
               "application-icon", SC_APP_ID,
               "version", SC_VERSION,
               "developers", developers,
               "license-type", GTK_LICENSE_GPL_3_0,
               "comments", "Contrastive self-supervised learning, step by step: a "
                           "supervised baseline, SimCLR pretraining with a linear probe, "
                           "and finetuning, trained side by side.",
               NULL);
  gtk_window_present(GTK_WINDOW(about));
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = quit_activated },
  { .name = "about", .activate = about_activated },
};

static const struct {
  const char *action;
  const char *accels[2];
} accelerators[] = {
  { "win.start", { "<Control>Return", NULL } },
  { "win.continue", { "<Control><Shift>Return", NULL } },
  { "win.pause", { "<Control>p", NULL } },
  { "win.stop", { "<Control>period", NULL } },
  { "win.shuffle", { "<Control>r", NULL } },
  { "win.export", { "<Control>e", NULL } },
  { "app.quit", { "<Control>q", NULL } },
};

static void
simclr_studio_application_startup(GApplication *app)
{
  SimclrStudioApplication *self = SIMCLR_STUDIO_APPLICATION(app);
  G_APPLICATION_CLASS(simclr_studio_application_parent_class)->startup(app);
  g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions),
                                  app);
  for (size_t i = 0; i < G_N_ELEMENTS(accelerators); i++)
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), accelerators[i].action,
                                          accelerators[i].accels);

  g_autoptr(GError) error = NULL;
  self->settings = simclr_studio_settings_new(picture_mode(self), &error);
  if (self->settings == NULL) {
    fail(self, error->message);
    return;
  }
  if (self->after_training || self->during_training || self->close_during_training)
    simclr_studio_settings_apply_quick(self->settings);
}

static void
simclr_studio_application_activate(GApplication *app)
{
  SimclrStudioApplication *self = SIMCLR_STUDIO_APPLICATION(app);
  if (self->settings == NULL)
    return; /* startup failed and said why */
  if (self->window == NULL) {
    self->window = simclr_studio_window_new(ADW_APPLICATION(app), self->settings);
    g_object_add_weak_pointer(G_OBJECT(self->window), (gpointer *)&self->window);
    if (picture_mode(self))
      start_picture_mode(self);
  }
  gtk_window_present(GTK_WINDOW(self->window));
}

/* `simclr-studio FOLDER`: a results folder (history.json in it, as
 * simclr-train --out and the app's run folders hold) shows its curves with
 * their data set; any other folder is the data set to open (the file
 * manager's "Open With" gives a folder the same way). */
static void
simclr_studio_application_open(GApplication *app, GFile **files, int n_files,
                               const char *hint)
{
  SimclrStudioApplication *self = SIMCLR_STUDIO_APPLICATION(app);
  if (self->settings == NULL)
    return;
  g_autofree char *path = n_files > 0 ? g_file_get_path(files[0]) : NULL;
  g_autofree char *shown = path != NULL ? g_strdup(path) : g_file_get_uri(files[0]);
  g_autofree char *history = path != NULL ? g_build_filename(path, "history.json", NULL)
                                          : NULL;
  gboolean results = history != NULL && g_file_test(history, G_FILE_TEST_EXISTS);
  g_autofree char *problem = NULL;
  if (n_files > 1)
    g_printerr("simclr-studio: one folder at a time: opening %s only\n", shown);
  if (path == NULL || !g_file_test(path, G_FILE_TEST_EXISTS))
    problem = g_strdup_printf("%s does not exist: give the folder of a data set or of "
                              "results", shown);
  else if (!g_file_test(path, G_FILE_TEST_IS_DIR))
    problem = g_strdup_printf("%s is not a folder: give the folder of a data set or of "
                              "results", shown);
  else if (self->window != NULL && simclr_studio_window_get_training(self->window))
    problem = g_strdup_printf("A training is running: open %s again once it has ended",
                              shown);
  else if (!results)
    g_settings_set_string(self->settings, SC_KEY_DATA_FOLDER, path);
  simclr_studio_application_activate(app);
  /* The window says itself why results cannot be shown; so does stderr. */
  g_autoptr(GError) error = NULL;
  if (problem == NULL && results && self->window != NULL
      && !simclr_studio_window_show_results(self->window, path, &error))
    g_printerr("simclr-studio: could not show the results in %s: %s\n", path, error->message);
  /* Said in the window too: started from a launcher, nobody reads stderr. */
  if (problem != NULL) {
    g_printerr("simclr-studio: %s\n", problem);
    if (self->window != NULL)
      simclr_studio_window_show_error(self->window, "Cannot open that folder", problem);
  }
}

static int
simclr_studio_application_handle_local_options(GApplication *app, GVariantDict *options)
{
  SimclrStudioApplication *self = SIMCLR_STUDIO_APPLICATION(app);
  const char *path = NULL;
  if (g_variant_dict_lookup(options, "screenshot-after-training", "^&ay", &path))
    self->after_training = TRUE;
  else if (g_variant_dict_lookup(options, "screenshot-during-training", "^&ay", &path))
    self->during_training = TRUE;
  else
    g_variant_dict_lookup(options, "screenshot", "^&ay", &path);
  self->screenshot_path = g_strdup(path);
  self->close_during_training = g_variant_dict_contains(options, "close-during-training");
  if (self->screenshot_path != NULL && self->close_during_training) {
    g_printerr("simclr-studio: --close-during-training takes no screenshot; use one "
               "option at a time\n");
    return 2;
  }
  /* Without this, GTK's own start-up prints a bare warning and exits. */
  if (!gtk_init_check()) {
    g_printerr("simclr-studio: no display found, so the window cannot open. Without a "
               "display, train with simclr-train on the command line "
               "(simclr-train --help).\n");
    return 1;
  }
  /* Picture modes run on their own, beside any other instance. */
  if (picture_mode(self))
    g_application_set_flags(app, g_application_get_flags(app) | G_APPLICATION_NON_UNIQUE);
  return -1;
}

static void
simclr_studio_application_shutdown(GApplication *app)
{
  SimclrStudioApplication *self = SIMCLR_STUDIO_APPLICATION(app);
  g_clear_handle_id(&self->watchdog_id, g_source_remove);
  if (self->close_requested_usec != 0)
    g_print("The window closed %.2f s after the close request\n",
            (g_get_monotonic_time() - self->close_requested_usec) / 1e6);
  if (self->scratch_runs_root != NULL) {
    g_autoptr(GError) error = NULL;
    if (!simclr_studio_remove_tree(self->scratch_runs_root, &error))
      g_printerr("simclr-studio: %s\n", error->message);
    g_clear_pointer(&self->scratch_runs_root, g_free);
  }
  G_APPLICATION_CLASS(simclr_studio_application_parent_class)->shutdown(app);
}

static void
simclr_studio_application_finalize(GObject *object)
{
  SimclrStudioApplication *self = SIMCLR_STUDIO_APPLICATION(object);
  g_clear_object(&self->settings);
  g_free(self->screenshot_path);
  g_free(self->scratch_runs_root);
  G_OBJECT_CLASS(simclr_studio_application_parent_class)->finalize(object);
}

static void
simclr_studio_application_class_init(SimclrStudioApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS(klass);
  object_class->finalize = simclr_studio_application_finalize;
  app_class->startup = simclr_studio_application_startup;
  app_class->activate = simclr_studio_application_activate;
  app_class->open = simclr_studio_application_open;
  app_class->handle_local_options = simclr_studio_application_handle_local_options;
  app_class->shutdown = simclr_studio_application_shutdown;
}

static const GOptionEntry options[] = {
  { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    "Open the window as it starts (the default data and the newest results of the same "
    "data, or FOLDER), save it as a PNG once drawn, and exit", "FILE" },
  { "screenshot-after-training", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    "Train briefly on a tiny subset, save the window with its curves as a PNG, and exit",
    "FILE" },
  { "screenshot-during-training", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    "Train briefly on a tiny subset, save the 1366x768 window during the pretraining, "
    "and exit", "FILE" },
  { "close-during-training", 0, 0, G_OPTION_ARG_NONE, NULL,
    "Start a short training and close the window during it (checks a clean stop)", NULL },
  { NULL },
};

static void
simclr_studio_application_init(SimclrStudioApplication *self)
{
  g_application_add_main_option_entries(G_APPLICATION(self), options);
  g_application_set_option_context_parameter_string(G_APPLICATION(self), "[FOLDER]");
  g_application_set_option_context_summary(
    G_APPLICATION(self), "Train and compare a supervised baseline, SimCLR pretraining and "
                         "finetuning. Without a display, use simclr-train.\n\n"
                         "FOLDER: a data set to open, or a results folder (one holding "
                         "history.json, as simclr-train --out writes) whose curves to "
                         "show with the data set they were trained on.");
}

SimclrStudioApplication *
simclr_studio_application_new(void)
{
  simclr_studio_register_resources();
  return g_object_new(SIMCLR_STUDIO_TYPE_APPLICATION,
                      "application-id", SC_APP_ID,
                      "flags", G_APPLICATION_HANDLES_OPEN,
                      "resource-base-path", SC_RESOURCE_PATH,
                      NULL);
}

int
simclr_studio_application_get_exit_status(SimclrStudioApplication *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_APPLICATION(self), 1);
  return self->exit_status;
}
