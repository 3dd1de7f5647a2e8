/* The data set group: the default data set or a chosen folder, opened in a
 * worker thread, with its format, split sizes, class names or the reason it
 * could not be opened. */
#pragma once

#include <adwaita.h>

#include "data/dataset.h"

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_DATA_PANEL (simclr_studio_data_panel_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioDataPanel, simclr_studio_data_panel, SIMCLR_STUDIO,
                     DATA_PANEL, AdwBin)

/* Follows the data folder key of settings and opens what it names. */
void simclr_studio_data_panel_set_settings(SimclrStudioDataPanel *self, GSettings *settings);

/* The open data set (owned by the panel, valid until the next
 * "dataset-changed"), or NULL while loading or after an error. */
const ScDataset *simclr_studio_data_panel_get_dataset(SimclrStudioDataPanel *self);
/* The last loading error, or NULL. */
const char *simclr_studio_data_panel_get_error(SimclrStudioDataPanel *self);
gboolean simclr_studio_data_panel_get_loading(SimclrStudioDataPanel *self);
/* The "Images" row's text: the images of each split a training uses. */
const char *simclr_studio_data_panel_get_images_text(SimclrStudioDataPanel *self);
/* Shows the "Get STL-10" dialog (one at a time), as its button does; NULL
 * when the app was built without download support. */
GtkWindow *simclr_studio_data_panel_open_download_dialog(SimclrStudioDataPanel *self);

G_END_DECLS
