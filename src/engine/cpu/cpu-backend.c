#include "cpu-ops.h"

#include "../sc-error.h"

ScBackend *
sc_backend_cpu_new(int threads, GError **error)
{
  /* TODO: being written. */
  g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED, "CPU backend not written yet");
  return NULL;
}
