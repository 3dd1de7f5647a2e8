/* Adam as Keras 3 applies it (reference section 6). The host folds the bias
 * corrections into one step size per update; the backend does the
 * elementwise part. */
#include "adam.h"

#include "sc-error.h"

#include <math.h>

void
sc_adam_config_init_default(ScAdamConfig *config)
{
  g_return_if_fail(config != NULL);
  *config = (ScAdamConfig){
    .learning_rate = 0.001f,
    .beta1 = 0.9f,
    .beta2 = 0.999f,
    .epsilon = 1e-7f,
    .schedule = SC_LR_CONSTANT,
    .decay_steps = 0,
    .final_fraction = 0.0f,
  };
}

static gboolean
check_beta(const char *name, float beta, GError **error)
{
  if (!(beta >= 0.0f && beta < 1.0f)) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Adam: %s must be in [0, 1), got %g", name, (double)beta);
    return FALSE;
  }
  return TRUE;
}

gboolean
sc_adam_config_validate(const ScAdamConfig *c, GError **error)
{
  g_return_val_if_fail(c != NULL, FALSE);

  if (!(isfinite(c->learning_rate) && c->learning_rate >= 0.0f)) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Adam: learning_rate must be >= 0 and finite, got %g",
                (double)c->learning_rate);
    return FALSE;
  }
  if (!check_beta("beta1", c->beta1, error) || !check_beta("beta2", c->beta2, error))
    return FALSE;
  if (!(isfinite(c->epsilon) && c->epsilon > 0.0f)) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Adam: epsilon must be > 0 and finite, got %g", (double)c->epsilon);
    return FALSE;
  }
  if (c->schedule != SC_LR_CONSTANT && c->schedule != SC_LR_COSINE) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Adam: unknown learning-rate schedule %d", (int)c->schedule);
    return FALSE;
  }
  if (c->schedule == SC_LR_COSINE) {
    if (c->decay_steps < 1) {
      g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                  "Adam: decay_steps must be >= 1 for the cosine schedule, got %"
                  G_GINT64_FORMAT, c->decay_steps);
      return FALSE;
    }
    if (!(c->final_fraction >= 0.0f && c->final_fraction <= 1.0f)) {
      g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                  "Adam: final_fraction must be in [0, 1], got %g",
                  (double)c->final_fraction);
      return FALSE;
    }
  }
  return TRUE;
}

ScAdam *
sc_adam_new(ScBackend *be, size_t n, const ScAdamConfig *config, GError **error)
{
  g_return_val_if_fail(be != NULL, NULL);
  g_return_val_if_fail(config != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (!sc_adam_config_validate(config, error))
    return NULL;

  ScAdam *adam = g_new0(ScAdam, 1);
  adam->config = *config;
  adam->be = be;
  adam->n = n;
  size_t bytes = n * sizeof(float);
  adam->m = sc_backend_alloc(be, bytes, "Adam first moments", error);
  if (adam->m != NULL)
    adam->v = sc_backend_alloc(be, bytes, "Adam second moments", error);
  if (adam->v == NULL) {
    sc_adam_free(adam);
    return NULL;
  }
  /* Keras starts both moments at 0. */
  be->ops->zero(be, adam->m, bytes);
  be->ops->zero(be, adam->v, bytes);
  return adam;
}

void
sc_adam_free(ScAdam *adam)
{
  if (adam == NULL)
    return;
  if (adam->m != NULL)
    adam->be->ops->free(adam->be, adam->m);
  if (adam->v != NULL)
    adam->be->ops->free(adam->be, adam->v);
  g_free(adam);
}

float
sc_adam_learning_rate(const ScAdam *adam, int64_t t)
{
  g_return_val_if_fail(adam != NULL, 0.0f);
  const ScAdamConfig *c = &adam->config;
  if (c->schedule != SC_LR_COSINE)
    return c->learning_rate;

  /* Keras's CosineDecay counts completed steps (t - 1) and holds the floor
   * once decay_steps have passed. */
  double done = (double)CLAMP(t - 1, 0, c->decay_steps);
  double cosine = 0.5 * (1.0 + cos(G_PI * done / (double)c->decay_steps));
  double floor = c->final_fraction;
  return (float)(c->learning_rate * (floor + (1.0 - floor) * cosine));
}

void
sc_adam_step(ScAdam *adam, float *params, const float *grads)
{
  g_return_if_fail(adam != NULL);
  g_return_if_fail(params != NULL && grads != NULL);
  const ScAdamConfig *c = &adam->config;

  /* alpha_t = lr(t) sqrt(1 - b2^t) / (1 - b1^t): the bias corrections folded
   * into the step, so epsilon meets the uncorrected sqrt(v). */
  int64_t t = adam->iterations + 1;
  double b1_t = pow((double)c->beta1, (double)t);
  double b2_t = pow((double)c->beta2, (double)t);
  double lr_t = sc_adam_learning_rate(adam, t) * sqrt(1.0 - b2_t) / (1.0 - b1_t);

  /* TODO: the op gets float betas, so 1 - 0.999f is 1.3e-5 off Keras's double 1 - beta2. */
  adam->be->ops->adam_update(adam->be, adam->n, params, grads, adam->m, adam->v,
                             (float)lr_t, c->beta1, c->beta2, c->epsilon);
  adam->iterations++;
}
