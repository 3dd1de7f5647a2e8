/* A widget showing the augmentation preview figure (preview.h): 8 images in
 * four rows (original, weak, strong, strong), drawn at up to twice its size
 * in half steps, the small images kept sharp. */
#pragma once

#include <gtk/gtk.h>

#include "preview.h"

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_PREVIEW (simclr_studio_preview_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioPreview, simclr_studio_preview, SIMCLR_STUDIO, PREVIEW,
                     GtkWidget)

GtkWidget *simclr_studio_preview_new(void);

/* Copies 8 images (8, h, w, c) uint8 HWC; NULL clears the figure. */
void simclr_studio_preview_set_images(SimclrStudioPreview *self, const guint8 *images, int h,
                                      int w, int c);
void simclr_studio_preview_set_strengths(SimclrStudioPreview *self,
                                         const ScAugmentStrength *weak,
                                         const ScAugmentStrength *strong);
/* Cell side in pixels (the model's input size). */
void simclr_studio_preview_set_out_size(SimclrStudioPreview *self, int out_size);
void simclr_studio_preview_set_seed(SimclrStudioPreview *self, guint64 seed);

/* The figure at one pixel per figure pixel (owned by the widget), or NULL
 * when there are no images or the spec is invalid (see get_error). */
cairo_surface_t *simclr_studio_preview_get_figure(SimclrStudioPreview *self);
const char *simclr_studio_preview_get_error(SimclrStudioPreview *self);

G_END_DECLS
