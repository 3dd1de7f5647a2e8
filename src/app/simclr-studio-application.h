/* The application: one window, app-wide actions and accelerators, the
 * settings, and the picture-taking modes used for documentation and checks
 * (--screenshot, --screenshot-after-training, --close-during-training). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SIMCLR_STUDIO_TYPE_APPLICATION (simclr_studio_application_get_type())
G_DECLARE_FINAL_TYPE(SimclrStudioApplication, simclr_studio_application, SIMCLR_STUDIO,
                     APPLICATION, AdwApplication)

SimclrStudioApplication *simclr_studio_application_new(void);

/* Non-zero when a picture-taking mode failed (g_application_run returns 0
 * for a normal quit). */
int simclr_studio_application_get_exit_status(SimclrStudioApplication *self);

/* Registers the application's resources (templates, CSS) once; tests that
 * build widgets without the application call it too. */
void simclr_studio_register_resources(void);

G_END_DECLS
