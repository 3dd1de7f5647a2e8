#include "bench-common.h"

#include "loss.h"
#include "rng.h"

void
bench_model_clear(BenchModel *b)
{
  void *bufs[] = { b->x, b->dhead, b->dfeat, b->loss, b->labels };
  for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
    if (bufs[i] != NULL)
      b->be->ops->free(b->be, bufs[i]);
  sc_adam_free(b->adam);
  sc_params_free(b->params);
  sc_net_free(b->encoder);
  sc_net_free(b->head);
  g_free(b->host_labels);
}

gboolean
bench_model_init(BenchModel *b, ScBackend *be, gboolean contrastive, int batch,
                 uint32_t head_id, GError **error)
{
  *b = (BenchModel){ .be = be, .rows = contrastive ? 2 * batch : batch };
  b->encoder = sc_encoder_new(BENCH_SIDE, BENCH_SIDE, 3, BENCH_WIDTH, error);
  if (b->encoder == NULL)
    return FALSE;
  b->head = contrastive ? sc_projection_head_new(BENCH_WIDTH, BENCH_WIDTH)
                        : sc_linear_head_new(BENCH_WIDTH, BENCH_CLASSES);
  ScNet *nets[2] = { b->encoder, b->head };
  ScAdamConfig ac;
  sc_adam_config_init_default(&ac);
  if (!(b->params = sc_params_new(be, nets, 2, error))
      || !(b->adam = sc_adam_new(be, b->params->count, &ac, error))
      || !sc_net_prepare(b->encoder, b->rows, error)
      || !sc_net_prepare(b->head, b->rows, error))
    return FALSE;
  sc_net_init_glorot(b->encoder, 1, 0);
  sc_net_init_glorot(b->head, 1, head_id);

  /* dhead is at least BENCH_CLASSES wide so a probe's gradient fits too. */
  size_t image = (size_t)BENCH_SIDE * BENCH_SIDE * 3;
  size_t out = MAX(sc_net_output_size(b->head), BENCH_CLASSES);
  if (!(b->x = sc_backend_alloc(be, b->rows * image * sizeof(float), "the input batch", error))
      || !(b->dhead = sc_backend_alloc(be, b->rows * out * sizeof(float), "head gradients",
                                       error))
      || !(b->dfeat = sc_backend_alloc(be, (size_t)b->rows * BENCH_WIDTH * sizeof(float),
                                       "feature gradients", error))
      || !(b->loss = sc_backend_alloc(be, b->rows * sizeof(float), "losses", error))
      || !(b->labels = sc_backend_alloc(be, b->rows * sizeof(int32_t), "labels", error)))
    return FALSE;

  ScRng rng;
  sc_rng_init(&rng, 7, SC_RNG_TEST, 0, 0, 0);
  g_autofree float *host = g_new(float, b->rows * image);
  for (size_t i = 0; i < b->rows * image; i++)
    host[i] = sc_rng_uniform(&rng);
  be->ops->upload(be, b->x, host, b->rows * image * sizeof(float));
  b->host_labels = g_new(int32_t, b->rows);
  for (int i = 0; i < b->rows; i++)
    b->host_labels[i] = (int32_t)sc_rng_below(&rng, BENCH_CLASSES);
  be->ops->upload(be, b->labels, b->host_labels, b->rows * sizeof(int32_t));
  return TRUE;
}

/* Views 1 are rows 0..B-1 of x, views 2 rows B..2B-1. */
gboolean
bench_contrastive_step(BenchModel *b, GError **error)
{
  int batch = b->rows / 2;
  const float *feat = sc_net_forward(b->encoder, b->x, b->rows); /* (2B, WIDTH) */
  const float *proj = sc_net_forward(b->head, feat, b->rows);    /* (2B, WIDTH) */
  int64_t correct = 0;
  ScNtxentArgs args = {
    .batch = batch, .dim = BENCH_WIDTH, .temperature = BENCH_TEMPERATURE,
    .variant = SC_NTXENT_CROSS_VIEW,
    .p1 = proj, .p2 = proj + (size_t)batch * BENCH_WIDTH, .loss = b->loss,
    .dp1 = b->dhead, .dp2 = b->dhead + (size_t)batch * BENCH_WIDTH,
    .n_correct = &correct, /* the metric that comes back each step */
  };
  if (!sc_ntxent(b->be, &args, error))
    return FALSE;
  sc_net_backward(b->head, b->dhead, b->dfeat);
  sc_net_backward(b->encoder, b->dfeat, NULL);
  sc_adam_step(b->adam, b->params->params, b->params->grads);
  return TRUE;
}

gboolean
bench_supervised_step(BenchModel *b, GError **error)
{
  const float *feat = sc_net_forward(b->encoder, b->x, b->rows); /* (B, WIDTH) */
  const float *logits = sc_net_forward(b->head, feat, b->rows);  /* (B, CLASSES) */
  int64_t correct = 0;
  if (!sc_softmax_xent_mean(b->be, b->rows, BENCH_CLASSES, logits, b->labels, b->host_labels,
                            b->loss, b->dhead, &correct, error))
    return FALSE;
  sc_net_backward(b->head, b->dhead, b->dfeat);
  sc_net_backward(b->encoder, b->dfeat, NULL);
  sc_adam_step(b->adam, b->params->params, b->params->grads);
  return TRUE;
}

double
bench_mean_loss(BenchModel *b, int n)
{
  g_autofree float *host = g_new(float, n);
  b->be->ops->download(b->be, host, b->loss, n * sizeof(float));
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += host[i];
  return sum / n;
}

int
bench_compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
