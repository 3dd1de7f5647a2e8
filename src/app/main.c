/* simclr-studio: the GTK application's entry point. */
#include "simclr-studio-application.h"

int
main(int argc, char *argv[])
{
  g_autoptr(SimclrStudioApplication) app = simclr_studio_application_new();
  int status = g_application_run(G_APPLICATION(app), argc, argv);
  return status != 0 ? status : simclr_studio_application_get_exit_status(app);
}
