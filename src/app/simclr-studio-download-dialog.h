/* The "Get STL-10" dialog: downloads the official archive, or imports an
 * archive or an unpacked folder already on disk, in a worker thread, and on
 * success makes the result the app's data set (the data folder key). Closing
 * it cancels the work; a cancelled download keeps its partial file, which the
 * next Download resumes. */
#pragma once

#include <adwaita.h>

#include "data/download.h"

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_DOWNLOAD_DIALOG (simclr_studio_download_dialog_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioDownloadDialog, simclr_studio_download_dialog,
                     SIMCLR_STUDIO, DOWNLOAD_DIALOG, AdwWindow)

/* A modal dialog over parent that writes the data folder key of settings. */
SimclrStudioDownloadDialog *simclr_studio_download_dialog_new(GtkWindow *parent,
                                                              GSettings *settings);

/* What Download, Import Archive and Import Folder expect (default: STL-10
 * from Stanford, sc_download_source_stl10). source is borrowed and must
 * outlive the dialog. Tests point it at a loopback server. */
void simclr_studio_download_dialog_set_source(SimclrStudioDownloadDialog *self,
                                              const ScDownloadSource *source);

/* The folder Download and Import Archive unpack into; default:
 * <XDG data dir>/simclr-studio/datasets. Import Folder uses a folder in place. */
void simclr_studio_download_dialog_set_destination(SimclrStudioDownloadDialog *self,
                                                   const char *dir);
const char *simclr_studio_download_dialog_get_destination(SimclrStudioDownloadDialog *self);

/* What the buttons and file choosers start; FALSE when work is running. */
gboolean simclr_studio_download_dialog_download(SimclrStudioDownloadDialog *self);
gboolean simclr_studio_download_dialog_import_archive(SimclrStudioDownloadDialog *self,
                                                      const char *archive_path);
gboolean simclr_studio_download_dialog_import_folder(SimclrStudioDownloadDialog *self,
                                                     const char *folder);
/* Cancels the running work, as the Cancel button does. */
void simclr_studio_download_dialog_cancel(SimclrStudioDownloadDialog *self);

/* TRUE from a start until its result was shown. */
gboolean simclr_studio_download_dialog_get_running(SimclrStudioDownloadDialog *self);
/* The data set folder of the last success, or NULL. */
const char *simclr_studio_download_dialog_get_dataset_path(SimclrStudioDownloadDialog *self);
/* The last failure (a cancel included), or NULL. */
const GError *simclr_studio_download_dialog_get_error(SimclrStudioDownloadDialog *self);
/* Bytes done in the last progress shown (any stage), for tests. */
guint64 simclr_studio_download_dialog_get_shown_bytes(SimclrStudioDownloadDialog *self);

G_END_DECLS
