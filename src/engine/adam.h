/* Adam with Keras semantics (reference section 6): epsilon is added to the
 * square root of the uncorrected second moment, one step counter per
 * optimizer. Optional cosine decay of the learning rate. */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

typedef enum {
  SC_LR_CONSTANT, /* the reference's */
  SC_LR_COSINE,   /* lr * (floor + (1 - floor) * (1 + cos(pi * t / total)) / 2) */
} ScLrSchedule;

typedef struct {
  float learning_rate;  /* 0.001 */
  float beta1;          /* 0.9 */
  float beta2;          /* 0.999 */
  float epsilon;        /* 1e-7 */
  ScLrSchedule schedule;
  int64_t decay_steps;  /* cosine: steps until the floor is reached */
  float final_fraction; /* cosine: the floor as a fraction of learning_rate */
} ScAdamConfig;

typedef struct {
  ScAdamConfig config;
  ScBackend *be;
  size_t n;          /* parameters */
  float *m, *v;      /* (n) moments, backend memory */
  int64_t iterations; /* completed steps */
} ScAdam;

void sc_adam_config_init_default(ScAdamConfig *config);
/* Checks the configuration (lr >= 0, betas in [0, 1), epsilon > 0, ...). */
gboolean sc_adam_config_validate(const ScAdamConfig *config, GError **error);

ScAdam *sc_adam_new(ScBackend *be, size_t n, const ScAdamConfig *config, GError **error);
void sc_adam_free(ScAdam *adam);
/* The scheduled learning rate for step t = iterations + 1 (1-based). */
float sc_adam_learning_rate(const ScAdam *adam, int64_t t);
/* One update of params with grads (both backend memory, n values). */
void sc_adam_step(ScAdam *adam, float *params, const float *grads);

G_END_DECLS
