/* The window's fields, shared by its files (the window and its actions) and
 * read by the tests. */
#pragma once

#include "simclr-studio-chart-view.h"
#include "simclr-studio-data-panel.h"
#include "simclr-studio-params-panel.h"
#include "simclr-studio-preview-panel.h"
#include "simclr-studio-runner.h"
#include "simclr-studio-stall-meter.h"
#include "simclr-studio-window.h"

G_BEGIN_DECLS

struct _SimclrStudioWindow {
  AdwApplicationWindow parent_instance;

  /* Template children */
  AdwWindowTitle *window_title;
  AdwToastOverlay *toast_overlay;
  GtkWidget *start_button;
  GtkWidget *continue_button;
  GtkWidget *settings_box;
  SimclrStudioDataPanel *data_panel;
  SimclrStudioParamsPanel *params_panel;
  SimclrStudioPreviewPanel *preview_panel;
  GtkStack *view_stack; /* "preview" and "training" pages */
  GtkDropDown *runs_dropdown;
  GtkProgressBar *progress_bar;
  SimclrStudioChartView *accuracy_chart;
  SimclrStudioChartView *loss_chart;
  GtkCheckButton *reference_check;
  GtkLabel *status_label;
  GtkTextView *log_view;
  GtkScrolledWindow *log_scroller;
  GtkLabel *contrastive_label; /* the glossary's c_acc entry */

  GSettings *settings;
  SimclrStudioRunner *runner;
  SimclrStudioStallMeter *stall_meter; /* while training */
  double max_stall_ms;
  GtkFileChooserNative *export_chooser;

  /* The training shown: runs chosen, progress within them, and the
   * epochs received (ScEpochMetrics per run) that the charts replay. */
  GArray *history[3];
  gboolean runs[3];
  int n_runs;
  int runs_done;
  int epochs;
  gint64 started_usec;
  char *checkpoint_path; /* last checkpoint written */
  char *checkpoint_dir;  /* the folder of the training shown */
  char *curves_data;     /* the data folder of the curves shown (see data_folder_key) */
  gboolean startup_results; /* the curves are the runs root's newest results */
  gboolean curves_read;  /* the curves were read from checkpoint_dir's history.json */
  char *results_scan;    /* runs root and data key of a look that found nothing */
  char *results_error;   /* the results folder whose failure was last said */
  guint log_end_idle;    /* scrolls the log to its end after many lines */
  int run_lock_fd;       /* holds checkpoint_dir's lock while training; -1 */
  char *runs_root;       /* where each training gets a run folder */
  guint runs_kept;       /* run folders kept in runs_root; 0: all */
  char *resumable_dir;   /* the stopped training Continue goes on with, or NULL */
  gboolean resuming;     /* the training shown goes on from a checkpoint */
  gboolean closing;      /* the window closes once the worker has stopped */
  gboolean log_follows;  /* the log scrolls to each new line */
  AdwToast *last_error_toast; /* the newest error toast, for tests */
  GtkWindow *error_dialog;    /* weak: the open error details */
  GtkWindow *quit_dialog;     /* weak: "Stop the training and quit?" */
  gboolean setting_reference; /* the reference box follows the data set */
};

/* Curves of the run series, and the dashed reference series after them. */
#define SIMCLR_STUDIO_N_RUN_SERIES 3

void simclr_studio_window_actions_init(SimclrStudioWindow *self);
/* Enables and disables actions for the current state. */
void simclr_studio_window_actions_update(SimclrStudioWindow *self);
void simclr_studio_window_toast(SimclrStudioWindow *self, const char *message);
/* Export's file: the curves as PNG or SVG, or the history as CSV, by the
 * name's extension. */
gboolean simclr_studio_window_export_to(SimclrStudioWindow *self, const char *path,
                                        GError **error);

G_END_DECLS
