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
#include "bench-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct {
  int batch;   /* B: images per batch */
  int steps;   /* timed steps */
  int warmup;  /* untimed steps first (primitive creation, page faults) */
  int threads;
  gboolean breakdown; /* also print the time per operation */
} BenchConfig;

/* One step, synced, and the mean loss of its rows, to show the step is real. */
static gboolean
synced_step(BenchModel *b, gboolean contrastive, double *loss, GError **error)
{
  if (!(contrastive ? bench_contrastive_step(b, error) : bench_supervised_step(b, error))
      || !b->be->ops->sync(b->be, error))
    return FALSE;
  *loss = bench_mean_loss(b, contrastive ? b->rows / 2 : b->rows);
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

static gboolean
run_case(ScBackend *be, const BenchConfig *cfg, gboolean contrastive, GError **error)
{
  BenchModel b;
  gboolean ok = bench_model_init(&b, be, contrastive, cfg->batch, contrastive ? 1 : 2, error);
  double *step_s = g_new(double, cfg->steps);
  double total_s = 0.0, loss = 0.0;
  for (int s = -cfg->warmup; ok && s < cfg->steps; s++) {
    if (s == 0)
      memset(op_seconds, 0, sizeof op_seconds);
    gint64 t0 = g_get_monotonic_time();
    ok = synced_step(&b, contrastive, &loss, error);
    if (s >= 0) {
      step_s[s] = (g_get_monotonic_time() - t0) / 1e6;
      total_s += step_s[s];
    }
  }
  if (ok) {
    qsort(step_s, cfg->steps, sizeof(double), bench_compare_double);
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
           cfg->steps, median, step_s[0], b.rows / median, loss,
           ru.ru_maxrss / 1024.0);
    if (cfg->breakdown)
      print_breakdown(contrastive ? "contrastive" : "supervised", cfg->batch, cfg->steps,
                      total_s);
    fflush(stdout);
  }
  g_free(step_s);
  bench_model_clear(&b);
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
