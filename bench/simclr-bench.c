/* Training-step throughput of the engine on the reference model, 96x96x3.
 *
 *   simclr-bench [--batch N] [--threads 2] [--steps 5] [--warmup 2]
 *                [--case contrastive|supervised|all] [--breakdown]
 *
 * Cases, each timed as the trainer runs it (engine API only):
 *   contrastive: two views of B images as one batch of 2B through the encoder
 *     (width 128) and the projection head, NT-Xent (cross-view, T = 0.1),
 *     backward through both nets, one Adam step; 2B images per step.
 *   supervised: B images through the encoder and Dense(10), sparse
 *     cross-entropy, backward, Adam; B images per step.
 * Inputs are random floats in [0, 1): augmentation is not part of the step.
 * Without --batch both B = 128 and B = 525 run.
 *
 * One JSON line per case: the median step time and images per second over
 * the timed steps, and the process's peak resident memory so far (getrusage
 * ru_maxrss; run one case per process for a per-case figure). */
#include "adam.h"
#include "backend.h"
#include "loss.h"
#include "model.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define WIDTH 128
#define IMAGE_SIDE 96
#define CLASSES 10
#define TEMPERATURE 0.1f

typedef struct {
  int batch;   /* B: images per batch */
  int steps;   /* timed steps */
  int warmup;  /* untimed steps first (primitive creation, page faults) */
  int threads;
  gboolean breakdown; /* also print the time per operation */
} BenchConfig;

typedef struct {
  ScBackend *be;
  ScNet *encoder, *head;
  ScParams *params;
  ScAdam *adam;
  int rows;        /* images per forward: 2B (contrastive) or B */
  float *x;        /* (rows, 96, 96, 3) */
  float *dhead;    /* (rows, head outputs) */
  float *dfeat;    /* (rows, WIDTH) */
  float *loss;     /* (rows) */
  int32_t *labels; /* (rows) host and backend alike on the CPU */
  double last_loss; /* mean loss of the last step, to show the step is real */
} Bench;

static float *
bench_alloc(Bench *b, size_t floats, const char *what, GError **error)
{
  return sc_backend_alloc(b->be, floats * sizeof(float), what, error);
}

static void
bench_clear(Bench *b)
{
  float *bufs[] = { b->x, b->dhead, b->dfeat, b->loss, (float *)b->labels };
  for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
    if (bufs[i] != NULL)
      b->be->ops->free(b->be, bufs[i]);
  sc_adam_free(b->adam);
  sc_params_free(b->params);
  sc_net_free(b->encoder);
  sc_net_free(b->head);
}

/* Models, parameters, optimizer and random inputs for one case. */
static gboolean
bench_init(Bench *b, ScBackend *be, gboolean contrastive, int batch, GError **error)
{
  *b = (Bench){ .be = be, .rows = contrastive ? 2 * batch : batch };
  b->encoder = sc_encoder_new(IMAGE_SIDE, IMAGE_SIDE, 3, WIDTH, error);
  if (b->encoder == NULL)
    return FALSE;
  b->head = contrastive ? sc_projection_head_new(WIDTH, WIDTH)
                        : sc_linear_head_new(WIDTH, CLASSES);
  ScNet *nets[2] = { b->encoder, b->head };
  ScAdamConfig ac;
  sc_adam_config_init_default(&ac);
  if (!(b->params = sc_params_new(be, nets, 2, error))
      || !(b->adam = sc_adam_new(be, b->params->count, &ac, error))
      || !sc_net_prepare(b->encoder, b->rows, error)
      || !sc_net_prepare(b->head, b->rows, error))
    return FALSE;
  sc_net_init_glorot(b->encoder, 1, 0);
  sc_net_init_glorot(b->head, 1, contrastive ? 1 : 2);

  size_t image = (size_t)IMAGE_SIDE * IMAGE_SIDE * 3;
  size_t out = sc_net_output_size(b->head);
  if (!(b->x = bench_alloc(b, b->rows * image, "the input batch", error))
      || !(b->dhead = bench_alloc(b, b->rows * out, "head gradients", error))
      || !(b->dfeat = bench_alloc(b, (size_t)b->rows * WIDTH, "feature gradients", error))
      || !(b->loss = bench_alloc(b, b->rows, "losses", error))
      || !(b->labels = sc_backend_alloc(be, b->rows * sizeof(int32_t), "labels", error)))
    return FALSE;

  ScRng rng;
  sc_rng_init(&rng, 7, SC_RNG_TEST, 0, 0, 0);
  float *host = g_new(float, b->rows * image);
  for (size_t i = 0; i < b->rows * image; i++)
    host[i] = sc_rng_uniform(&rng);
  be->ops->upload(be, b->x, host, b->rows * image * sizeof(float));
  g_free(host);
  int32_t *host_labels = g_new(int32_t, b->rows);
  for (int i = 0; i < b->rows; i++)
    host_labels[i] = (int32_t)sc_rng_below(&rng, CLASSES);
  be->ops->upload(be, b->labels, host_labels, b->rows * sizeof(int32_t));
  g_free(host_labels);
  return TRUE;
}

static double
mean_loss(Bench *b, int n)
{
  float *host = g_new(float, n);
  b->be->ops->download(b->be, host, b->loss, n * sizeof(float));
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += host[i];
  g_free(host);
  return sum / n;
}

/* One contrastive step: views 1 are rows 0..B-1 of x, views 2 rows B..2B-1. */
static gboolean
contrastive_step(Bench *b, GError **error)
{
  ScBackend *be = b->be;
  int batch = b->rows / 2;
  const float *feat = sc_net_forward(b->encoder, b->x, b->rows); /* (2B, WIDTH) */
  const float *proj = sc_net_forward(b->head, feat, b->rows);    /* (2B, WIDTH) */
  int64_t correct = 0;
  ScNtxentArgs args = {
    .batch = batch, .dim = WIDTH, .temperature = TEMPERATURE,
    .variant = SC_NTXENT_CROSS_VIEW,
    .p1 = proj, .p2 = proj + (size_t)batch * WIDTH, .loss = b->loss,
    .dp1 = b->dhead, .dp2 = b->dhead + (size_t)batch * WIDTH, .n_correct = &correct,
  };
  if (!sc_ntxent(be, &args, error))
    return FALSE;
  sc_net_backward(b->head, b->dhead, b->dfeat);
  sc_net_backward(b->encoder, b->dfeat, NULL);
  sc_adam_step(b->adam, b->params->params, b->params->grads);
  if (!be->ops->sync(be, error))
    return FALSE;
  b->last_loss = mean_loss(b, batch);
  return TRUE;
}

static gboolean
supervised_step(Bench *b, GError **error)
{
  ScBackend *be = b->be;
  const float *feat = sc_net_forward(b->encoder, b->x, b->rows); /* (B, WIDTH) */
  const float *logits = sc_net_forward(b->head, feat, b->rows);  /* (B, CLASSES) */
  int64_t correct = 0;
  /* Labels are host memory on the CPU, so they serve as host_labels too. */
  if (!sc_softmax_xent_mean(be, b->rows, CLASSES, logits, b->labels, b->labels, b->loss,
                            b->dhead, &correct, error))
    return FALSE;
  sc_net_backward(b->head, b->dhead, b->dfeat);
  sc_net_backward(b->encoder, b->dfeat, NULL);
  sc_adam_step(b->adam, b->params->params, b->params->grads);
  if (!be->ops->sync(be, error))
    return FALSE;
  b->last_loss = mean_loss(b, b->rows);
  return TRUE;
}

/* --breakdown: every operation of the table wrapped to add up its time. CPU
 * operations run synchronously, so the clock around each call is its cost. */
enum { OP_GEMM, OP_CONV_FWD, OP_CONV_BWD, OP_BIAS_ADD, OP_BIAS_GRAD, OP_RELU_FWD,
       OP_RELU_BWD, OP_XENT, OP_NTXENT, OP_ADAM, OP_COPY, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
  "gemm", "conv_forward", "conv_backward", "bias_add", "bias_grad", "relu_forward",
  "relu_backward", "softmax_xent", "ntxent", "adam", "copy",
};
static const ScBackendOps *inner_ops;
static ScBackendOps timed_ops;
static double op_seconds[OP_COUNT];

#define TIMED(op, call)                                     \
  do {                                                      \
    gint64 t0_ = g_get_monotonic_time();                    \
    call;                                                   \
    op_seconds[op] += (g_get_monotonic_time() - t0_) / 1e6; \
  } while (0)

static void
timed_gemm(ScBackend *be, bool ta, bool tb, int m, int n, int k, float alpha,
           const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  TIMED(OP_GEMM, inner_ops->gemm(be, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
}

static void
timed_conv_fwd(ScBackend *be, const ScConvDesc *d, const float *x, const float *w,
               const float *bias, float *y)
{
  TIMED(OP_CONV_FWD, inner_ops->conv2d_forward(be, d, x, w, bias, y));
}

static void
timed_conv_bwd(ScBackend *be, const ScConvDesc *d, const float *x, const float *w,
               const float *dy, float *dx, float *dw, float *dbias)
{
  TIMED(OP_CONV_BWD, inner_ops->conv2d_backward(be, d, x, w, dy, dx, dw, dbias));
}

static void
timed_bias_add(ScBackend *be, int rows, int cols, float *y, const float *bias)
{
  TIMED(OP_BIAS_ADD, inner_ops->bias_add(be, rows, cols, y, bias));
}

static void
timed_bias_grad(ScBackend *be, int rows, int cols, const float *dy, float *dbias)
{
  TIMED(OP_BIAS_GRAD, inner_ops->bias_grad(be, rows, cols, dy, dbias));
}

static void
timed_relu_fwd(ScBackend *be, size_t n, const float *x, float *y)
{
  TIMED(OP_RELU_FWD, inner_ops->relu_forward(be, n, x, y));
}

static void
timed_relu_bwd(ScBackend *be, size_t n, const float *y, const float *dy, float *dx)
{
  TIMED(OP_RELU_BWD, inner_ops->relu_backward(be, n, y, dy, dx));
}

static void
timed_xent(ScBackend *be, int n, int k, const float *logits, const int32_t *labels,
           float grad_scale, float *loss, float *dlogits, int64_t *n_correct)
{
  TIMED(OP_XENT, inner_ops->softmax_xent(be, n, k, logits, labels, grad_scale, loss, dlogits,
                                         n_correct));
}

static void
timed_ntxent(ScBackend *be, const ScNtxentArgs *args)
{
  TIMED(OP_NTXENT, inner_ops->ntxent(be, args));
}

static void
timed_adam(ScBackend *be, size_t n, float *params, const float *grads, float *m, float *v,
           float lr_t, float beta1, float beta2, float epsilon)
{
  TIMED(OP_ADAM, inner_ops->adam_update(be, n, params, grads, m, v, lr_t, beta1, beta2,
                                        epsilon));
}

static void
timed_copy(ScBackend *be, void *dst, const void *src, size_t bytes)
{
  TIMED(OP_COPY, inner_ops->copy(be, dst, src, bytes));
}

static void
install_timed_ops(ScBackend *be)
{
  inner_ops = be->ops;
  timed_ops = *be->ops;
  timed_ops.gemm = timed_gemm;
  timed_ops.conv2d_forward = timed_conv_fwd;
  timed_ops.conv2d_backward = timed_conv_bwd;
  timed_ops.bias_add = timed_bias_add;
  timed_ops.bias_grad = timed_bias_grad;
  timed_ops.relu_forward = timed_relu_fwd;
  timed_ops.relu_backward = timed_relu_bwd;
  timed_ops.softmax_xent = timed_xent;
  timed_ops.ntxent = timed_ntxent;
  timed_ops.adam_update = timed_adam;
  timed_ops.copy = timed_copy;
  be->ops = &timed_ops;
}

/* One JSON line: milliseconds per timed step in each operation. */
static void
print_breakdown(const char *name, int batch, int steps, double step_total_s)
{
  double ops_s = 0.0;
  printf("{\"impl\": \"ours\", \"case\": \"%s\", \"batch\": %d, \"ms_per_step\": {",
         name, batch);
  for (int i = 0; i < OP_COUNT; i++) {
    printf("\"%s\": %.1f, ", op_names[i], 1e3 * op_seconds[i] / steps);
    ops_s += op_seconds[i];
  }
  printf("\"other\": %.1f}}\n", 1e3 * (step_total_s - ops_s) / steps);
}

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static gboolean
run_case(ScBackend *be, const BenchConfig *cfg, gboolean contrastive, GError **error)
{
  Bench b;
  gboolean ok = bench_init(&b, be, contrastive, cfg->batch, error);
  double *step_s = g_new(double, cfg->steps);
  double total_s = 0.0;
  for (int s = -cfg->warmup; ok && s < cfg->steps; s++) {
    if (s == 0)
      memset(op_seconds, 0, sizeof op_seconds);
    gint64 t0 = g_get_monotonic_time();
    ok = contrastive ? contrastive_step(&b, error) : supervised_step(&b, error);
    if (s >= 0) {
      step_s[s] = (g_get_monotonic_time() - t0) / 1e6;
      total_s += step_s[s];
    }
  }
  if (ok) {
    qsort(step_s, cfg->steps, sizeof(double), compare_double);
    double median = cfg->steps % 2 ? step_s[cfg->steps / 2]
                                   : 0.5 * (step_s[cfg->steps / 2 - 1]
                                            + step_s[cfg->steps / 2]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"impl\": \"ours\", \"case\": \"%s\", \"batch\": %d, \"images_per_step\": %d, "
           "\"threads\": %d, \"steps\": %d, \"median_step_s\": %.4f, "
           "\"min_step_s\": %.4f, \"images_per_s\": %.1f, \"loss\": %.4f, "
           "\"peak_rss_mib\": %.1f}\n",
           contrastive ? "contrastive" : "supervised", cfg->batch, b.rows, cfg->threads,
           cfg->steps, median, step_s[0], b.rows / median, b.last_loss,
           ru.ru_maxrss / 1024.0);
    if (cfg->breakdown)
      print_breakdown(contrastive ? "contrastive" : "supervised", cfg->batch, cfg->steps,
                      total_s);
    fflush(stdout);
  }
  g_free(step_s);
  bench_clear(&b);
  return ok;
}

int
main(int argc, char **argv)
{
  BenchConfig cfg = { .batch = 0, .steps = 5, .warmup = 2, .threads = 2 };
  g_autofree char *which = NULL;
  GOptionEntry entries[] = {
    { "batch", 'b', 0, G_OPTION_ARG_INT, &cfg.batch, "Images per batch B (128 and 525)",
      "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &cfg.threads, "CPU threads (2)", "N" },
    { "steps", 's', 0, G_OPTION_ARG_INT, &cfg.steps, "Timed steps per case (5)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &cfg.warmup, "Untimed steps first (2)", "N" },
    { "case", 'c', 0, G_OPTION_ARG_STRING, &which, "contrastive, supervised or all", "NAME" },
    { "breakdown", 0, 0, G_OPTION_ARG_NONE, &cfg.breakdown,
      "Also print milliseconds per step in each backend operation", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- training-step throughput");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "simclr-bench: %s\n", error->message);
    return 2;
  }
  const char *bad = cfg.batch < 0 || (cfg.batch == 1) ? "--batch must be >= 2"
                    : cfg.steps < 1                   ? "--steps must be >= 1"
                    : cfg.warmup < 0                  ? "--warmup must be >= 0"
                    : cfg.threads < 0                 ? "--threads must be >= 0"
                                                      : NULL;
  gboolean all = which == NULL || g_str_equal(which, "all");
  if (bad == NULL && !all && !g_str_equal(which, "contrastive")
      && !g_str_equal(which, "supervised"))
    bad = "--case must be contrastive, supervised or all";
  if (bad != NULL) {
    fprintf(stderr, "simclr-bench: %s\n", bad);
    return 2;
  }

  ScBackend *be = sc_backend_cpu_new(cfg.threads, &error);
  if (be == NULL) {
    fprintf(stderr, "simclr-bench: %s\n", error->message);
    return 1;
  }
  if (cfg.breakdown)
    install_timed_ops(be);
  static const int default_batches[] = { 128, 525 };
  int n_batches = cfg.batch > 0 ? 1 : (int)G_N_ELEMENTS(default_batches);
  int status = 0;
  for (int i = 0; i < n_batches && status == 0; i++) {
    BenchConfig c = cfg;
    c.batch = cfg.batch > 0 ? cfg.batch : default_batches[i];
    for (int contrastive = 1; contrastive >= 0 && status == 0; contrastive--) {
      if (!all && g_str_equal(which, "contrastive") != contrastive)
        continue;
      if (!run_case(be, &c, contrastive, &error)) {
        fprintf(stderr, "simclr-bench: %s case, batch %d: %s\n",
                contrastive ? "contrastive" : "supervised", c.batch, error->message);
        status = 1;
      }
    }
  }
  sc_backend_free(be);
  return status;
}
