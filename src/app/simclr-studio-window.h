/* The main window: data set, hyperparameters, augmentation preview, run
 * controls with progress, live curves and the per-epoch log. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_WINDOW (simclr_studio_window_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioWindow, simclr_studio_window, SIMCLR_STUDIO, WINDOW,
                     AdwApplicationWindow)

/* Signals:
 *   "training-event" (const ScTrainerEvent *event): a report the window has
 *   just shown.
 *   "training-finished" (gboolean completed): after a training ended and the
 *   window has shown its outcome; completed is FALSE after a stop or error. */

/* settings: the application's (see simclr-studio-settings.h). */
SimclrStudioWindow *simclr_studio_window_new(AdwApplication *app, GSettings *settings);

/* Each training writes its checkpoints into a new folder under ROOT; the
 * oldest folders are removed so that KEEP remain (0: none removed). The
 * default is ~/.local/share/simclr-studio/runs, keeping 5. */
void simclr_studio_window_set_runs_root(SimclrStudioWindow *self, const char *root,
                                        guint keep);
/* Shows the curves of a results folder (one holding history.json, as a
 * training of the app or simclr-train --out writes) and opens the data set
 * they were trained on. A file that cannot be read, or a training running,
 * is said in an error toast and the log, and in error; returns whether the
 * curves are shown. */
gboolean simclr_studio_window_show_results(SimclrStudioWindow *self, const char *folder,
                                           GError **error);
/* Starts a training with the current settings; the error says why not. */
gboolean simclr_studio_window_start_training(SimclrStudioWindow *self, GError **error);
/* Goes on with the newest stopped training of the runs root (Continue):
 * same folder, the checkpoint's configuration, its epochs shown at once. */
gboolean simclr_studio_window_continue_training(SimclrStudioWindow *self, GError **error);
/* The run folder Continue would go on with, or NULL. */
const char *simclr_studio_window_get_resumable_dir(SimclrStudioWindow *self);
gboolean simclr_studio_window_get_training(SimclrStudioWindow *self);
/* TRUE while the data set is being opened (property "loading"). */
gboolean simclr_studio_window_get_loading(SimclrStudioWindow *self);
/* The last checkpoint the training wrote, or NULL. */
const char *simclr_studio_window_get_checkpoint_path(SimclrStudioWindow *self);
/* Longest main-loop stall of the last training, in milliseconds. */
double simclr_studio_window_get_max_stall_ms(SimclrStudioWindow *self);
/* The open "Stop the training and quit?" dialog (closing the window during a
 * training asks it), or NULL. */
GtkWindow *simclr_studio_window_get_quit_dialog(SimclrStudioWindow *self);
/* A toast naming what failed, its Details button showing MESSAGE whole. */
void simclr_studio_window_show_error(SimclrStudioWindow *self, const char *title,
                                     const char *message);

G_END_DECLS
