/* The augmentation preview with its Shuffle button and live controls of
 * the weak and strong presets (smallest area, brightness, colour jitter). */
#pragma once

#include <adwaita.h>

#include "data/dataset.h"
#include "simclr-studio-preview.h"

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_PREVIEW_PANEL (simclr_studio_preview_panel_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioPreviewPanel, simclr_studio_preview_panel, SIMCLR_STUDIO,
                     PREVIEW_PANEL, AdwBin)

void simclr_studio_preview_panel_set_settings(SimclrStudioPreviewPanel *self,
                                              GSettings *settings);
/* Borrowed: the caller keeps it alive until the next call (NULL clears). */
void simclr_studio_preview_panel_set_dataset(SimclrStudioPreviewPanel *self,
                                             const ScDataset *dataset);
/* Draws 8 new images and new augmentations. */
void simclr_studio_preview_panel_shuffle(SimclrStudioPreviewPanel *self);
/* The train-split indices of the SC_PREVIEW_COLUMNS images shown. */
const int32_t *simclr_studio_preview_panel_get_indices(SimclrStudioPreviewPanel *self);

SimclrStudioPreview *simclr_studio_preview_panel_get_preview(SimclrStudioPreviewPanel *self);
/* The text shown in place of the figure, or NULL while the figure shows. */
const char *simclr_studio_preview_panel_get_placeholder(SimclrStudioPreviewPanel *self);

G_END_DECLS
