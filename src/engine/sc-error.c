#include "sc-error.h"

G_DEFINE_QUARK(sc-data-error-quark, sc_data_error)
G_DEFINE_QUARK(sc-checkpoint-error-quark, sc_checkpoint_error)
G_DEFINE_QUARK(sc-backend-error-quark, sc_backend_error)
G_DEFINE_QUARK(sc-trainer-error-quark, sc_trainer_error)
G_DEFINE_QUARK(sc-engine-error-quark, sc_engine_error)
