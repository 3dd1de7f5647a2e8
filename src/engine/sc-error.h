/* Error domains of the engine. Every fallible function returns a gboolean
 * (or a pointer) and fills a GError from one of these domains. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SC_ERROR_INVALID_ARGUMENT, /* a value outside what the operation accepts */
  SC_ERROR_IO,               /* a file could not be read or written */
  SC_ERROR_FORMAT,           /* a file's contents are not what was expected */
  SC_ERROR_NUMERIC,          /* NaN or Inf where a finite number is needed */
  SC_ERROR_CANCELLED,        /* the user stopped the operation */
  SC_ERROR_UNSUPPORTED,      /* a feature or device this build or machine lacks */
  SC_ERROR_OUT_OF_MEMORY,
} ScErrorCode;

#define SC_DATA_ERROR (sc_data_error_quark())
#define SC_CHECKPOINT_ERROR (sc_checkpoint_error_quark())
#define SC_BACKEND_ERROR (sc_backend_error_quark())
#define SC_TRAINER_ERROR (sc_trainer_error_quark())
#define SC_ENGINE_ERROR (sc_engine_error_quark())

GQuark sc_data_error_quark(void);
GQuark sc_checkpoint_error_quark(void);
GQuark sc_backend_error_quark(void);
GQuark sc_trainer_error_quark(void);
GQuark sc_engine_error_quark(void);

G_END_DECLS
