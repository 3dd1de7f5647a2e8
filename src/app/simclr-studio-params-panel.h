/* Hyperparameters, label budget and backend, bound to the settings. The
 * CUDA choice is greyed out, with the reason, when no GPU can be used. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_PARAMS_PANEL (simclr_studio_params_panel_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioParamsPanel, simclr_studio_params_panel, SIMCLR_STUDIO,
                     PARAMS_PANEL, AdwBin)

void simclr_studio_params_panel_set_settings(SimclrStudioParamsPanel *self,
                                             GSettings *settings);

/* Takes the values typed into the fields but not confirmed yet (no Enter,
 * focus still there), as leaving the field would. */
void simclr_studio_params_panel_commit(SimclrStudioParamsPanel *self);
/* Back to the defaults: hyperparameters, labels, backend and augmentations. */
void simclr_studio_params_panel_reset(SimclrStudioParamsPanel *self);

/* When the data give no step at the batch size set: size (> 0) is the
 * nearest that works, shown beside the field with a button that sets it,
 * and why the message that says so; 0 hides it. */
void simclr_studio_params_panel_set_batch_suggestion(SimclrStudioParamsPanel *self, int size,
                                                     const char *why);
int simclr_studio_params_panel_get_batch_suggestion(SimclrStudioParamsPanel *self);

/* NULL while the probe for a GPU runs or when CUDA is usable, else why not. */
const char *simclr_studio_params_panel_get_cuda_problem(SimclrStudioParamsPanel *self);

G_END_DECLS
