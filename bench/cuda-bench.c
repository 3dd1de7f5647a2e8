/* Throughput of the CUDA backend on the reference model, 96x96x3, width 128.
 *
 *   cuda-bench [--batch 525] [--steps 200] [--runs 20] [--warmup 3]
 *              [--labeled 25] [--case contrastive|supervised|epoch|all]
 *              [--no-tf32]
 *
 * Cases, each timed as the trainer runs it (engine API only):
 *   contrastive: two views of B images as one batch of 2B through the
 *     encoder and the projection head, NT-Xent (cross-view, T = 0.1),
 *     backward, Adam; inputs are random floats (no augmentation), the same
 *     step as bench/torch_gpu_bench.py times, for the side-by-side ratio.
 *   supervised: B images through the encoder and Dense(10), cross-entropy,
 *     backward, Adam; random float inputs.
 *   epoch: one pretraining epoch of the reference configuration: a data set
 *     of steps x B uint8 images uploaded once, then per step both views
 *     augmented on the device (strong), the contrastive step, and the online
 *     probe on `labeled` weakly augmented images (encoder forward, Dense(10),
 *     cross-entropy, Adam on the probe). Validation is not part of it.
 *     Batches are consecutive slices of the data set (the trainer shuffles
 *     on the host and uploads each batch: not timed here).
 *
 * One JSON line per case: seconds (median step, or the whole epoch), images
 * per second, and device memory: this backend's peak allocation and the
 * device's used memory (cudaMemGetInfo, cuBLAS and cuDNN included). */
#include "adam.h"
#include "augment.h"
#include "backend.h"
#include "config.h"
#include "cuda/sc-cuda.h"
#include "loss.h"
#include "model.h"
#include "rng.h"

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 128
#define SIDE 96
#define CLASSES 10
#define TEMPERATURE 0.1f

typedef struct {
  int batch;   /* B */
  int steps;   /* steps of the epoch case */
  int runs;    /* timed steps of the step cases */
  int warmup;  /* untimed steps first (cuDNN's algorithm search happens here) */
  int labeled; /* probe images per epoch step */
  gboolean tf32;
} BenchConfig;

typedef struct {
  ScBackend *be;
  ScNet *encoder, *head, *probe;
  ScParams *params, *probe_params;
  ScAdam *adam, *probe_adam;
  int rows;              /* images per forward: 2B or B */
  float *x;              /* (rows, 96, 96, 3) */
  float *dhead, *dfeat;  /* (rows, head outputs), (rows, WIDTH) */
  float *loss;           /* (rows) */
  int32_t *labels;       /* (rows) device */
  int32_t *host_labels;  /* (rows) */
  uint8_t *images;       /* epoch: (steps * B, 96, 96, 3) device */
} Bench;

static void
bench_clear(Bench *b)
{
  void *bufs[] = { b->x, b->dhead, b->dfeat, b->loss, b->labels, b->images };
  for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
    if (bufs[i] != NULL)
      b->be->ops->free(b->be, bufs[i]);
  sc_adam_free(b->adam);
  sc_adam_free(b->probe_adam);
  sc_params_free(b->params);
  sc_params_free(b->probe_params);
  sc_net_free(b->encoder);
  sc_net_free(b->head);
  sc_net_free(b->probe);
  g_free(b->host_labels);
}

static gboolean
bench_init(Bench *b, ScBackend *be, gboolean contrastive, int batch, GError **error)
{
  *b = (Bench){ .be = be, .rows = contrastive ? 2 * batch : batch };
  ScAdamConfig ac;
  sc_adam_config_init_default(&ac);
  b->encoder = sc_encoder_new(SIDE, SIDE, 3, WIDTH, error);
  if (b->encoder == NULL)
    return FALSE;
  b->head = contrastive ? sc_projection_head_new(WIDTH, WIDTH)
                        : sc_linear_head_new(WIDTH, CLASSES);
  ScNet *nets[2] = { b->encoder, b->head };
  if (!(b->params = sc_params_new(be, nets, 2, error))
      || !(b->adam = sc_adam_new(be, b->params->count, &ac, error))
      || !sc_net_prepare(b->encoder, b->rows, error) || !sc_net_prepare(b->head, b->rows, error))
    return FALSE;
  sc_net_init_glorot(b->encoder, 1, 0);
  sc_net_init_glorot(b->head, 1, 1);

  size_t image = (size_t)SIDE * SIDE * 3, out = sc_net_output_size(b->head);
  if (!(b->x = sc_backend_alloc(be, b->rows * image * sizeof(float), "the views", error))
      || !(b->dhead = sc_backend_alloc(be, b->rows * MAX(out, CLASSES) * sizeof(float),
                                       "head gradients", error))
      || !(b->dfeat = sc_backend_alloc(be, (size_t)b->rows * WIDTH * sizeof(float),
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
    b->host_labels[i] = (int32_t)sc_rng_below(&rng, CLASSES);
  be->ops->upload(be, b->labels, b->host_labels, b->rows * sizeof(int32_t));
  return TRUE;
}

/* The contrastive step on x (views 1 in rows 0..B-1, views 2 after). */
static gboolean
contrastive_step(Bench *b, GError **error)
{
  int batch = b->rows / 2;
  const float *feat = sc_net_forward(b->encoder, b->x, b->rows); /* (2B, WIDTH) */
  const float *proj = sc_net_forward(b->head, feat, b->rows);    /* (2B, WIDTH) */
  int64_t correct = 0;
  ScNtxentArgs args = {
    .batch = batch, .dim = WIDTH, .temperature = TEMPERATURE,
    .variant = SC_NTXENT_CROSS_VIEW, .p1 = proj, .p2 = proj + (size_t)batch * WIDTH,
    .loss = b->loss, .dp1 = b->dhead, .dp2 = b->dhead + (size_t)batch * WIDTH,
    .n_correct = &correct, /* the metric that comes back each step */
  };
  if (!sc_ntxent(b->be, &args, error))
    return FALSE;
  sc_net_backward(b->head, b->dhead, b->dfeat);
  sc_net_backward(b->encoder, b->dfeat, NULL);
  sc_adam_step(b->adam, b->params->params, b->params->grads);
  return TRUE;
}

static gboolean
supervised_step(Bench *b, GError **error)
{
  const float *feat = sc_net_forward(b->encoder, b->x, b->rows);
  const float *logits = sc_net_forward(b->head, feat, b->rows);
  int64_t correct = 0;
  if (!sc_softmax_xent_mean(b->be, b->rows, CLASSES, logits, b->labels, b->host_labels,
                            b->loss, b->dhead, &correct, error))
    return FALSE;
  sc_net_backward(b->head, b->dhead, b->dfeat);
  sc_net_backward(b->encoder, b->dfeat, NULL);
  sc_adam_step(b->adam, b->params->params, b->params->grads);
  return TRUE;
}

/* Device memory: this backend's peak and the device's used bytes, in MiB. */
static void
memory_mib(ScBackend *be, double *peak, double *used)
{
  size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  *peak = sc_cuda_backend_bytes_peak(be) / 1048576.0;
  *used = (total_b - free_b) / 1048576.0;
}

static double
mean_loss(Bench *b, int n)
{
  g_autofree float *host = g_new(float, n);
  b->be->ops->download(b->be, host, b->loss, n * sizeof(float));
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += host[i];
  return sum / n;
}

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static gboolean
run_step_case(ScBackend *be, const BenchConfig *cfg, gboolean contrastive, GError **error)
{
  Bench b;
  gboolean ok = bench_init(&b, be, contrastive, cfg->batch, error);
  g_autofree double *step_s = g_new(double, cfg->runs);
  for (int s = -cfg->warmup; ok && s < cfg->runs; s++) {
    gint64 t0 = g_get_monotonic_time();
    ok = (contrastive ? contrastive_step(&b, error) : supervised_step(&b, error))
         && be->ops->sync(be, error);
    if (s >= 0)
      step_s[s] = (g_get_monotonic_time() - t0) / 1e6;
  }
  if (ok) {
    qsort(step_s, cfg->runs, sizeof(double), compare_double);
    double median = step_s[cfg->runs / 2], peak, used;
    memory_mib(be, &peak, &used);
    printf("{\"impl\": \"ours-cuda\", \"case\": \"%s\", \"batch\": %d, "
           "\"images_per_step\": %d, \"tf32\": %s, \"steps\": %d, \"median_step_s\": %.5f, "
           "\"min_step_s\": %.5f, \"images_per_s\": %.1f, \"loss\": %.4f, "
           "\"backend_peak_mib\": %.1f, \"device_used_mib\": %.1f}\n",
           contrastive ? "contrastive" : "supervised", cfg->batch, b.rows,
           cfg->tf32 ? "true" : "false", cfg->runs, median, step_s[0], b.rows / median,
           mean_loss(&b, contrastive ? b.rows / 2 : b.rows), peak, used);
    fflush(stdout);
  }
  bench_clear(&b);
  return ok;
}

/* The augmenter's arguments for `n` images of the data set from `first`. */
static ScAugmentBatch
views_of(const Bench *b, size_t first, int n, ScAugmentStrength s, uint32_t purpose,
         uint32_t step)
{
  return (ScAugmentBatch){ .images = b->images + first * SIDE * SIDE * 3, .batch = n,
                           .src_h = SIDE, .src_w = SIDE, .src_c = 3, .out_h = SIDE,
                           .out_w = SIDE, .training = true, .strength = s, .seed = 3,
                           .purpose = purpose, .epoch = 0, .step = step };
}

/* The online probe: labeled images through the encoder (no encoder update),
 * Dense(10), cross-entropy, Adam on the probe alone. */
static gboolean
probe_step(Bench *b, int labeled, uint32_t step, GError **error)
{
  ScAugmentBatch v = views_of(b, 0, labeled, SC_AUGMENT_WEAK, SC_RNG_AUG_WEAK, step);
  b->be->ops->augment(b->be, &v, b->x);
  const float *feat = sc_net_forward(b->encoder, b->x, labeled);
  const float *logits = sc_net_forward(b->probe, feat, labeled);
  int64_t correct = 0;
  if (!sc_softmax_xent_mean(b->be, labeled, CLASSES, logits, b->labels, b->host_labels,
                            b->loss, b->dhead, &correct, error))
    return FALSE;
  sc_net_backward(b->probe, b->dhead, NULL);
  sc_adam_step(b->probe_adam, b->probe_params->params, b->probe_params->grads);
  return TRUE;
}

static gboolean
run_epoch(ScBackend *be, const BenchConfig *cfg, GError **error)
{
  Bench b;
  const int batch = cfg->batch;
  gboolean ok = bench_init(&b, be, TRUE, batch, error);
  ScAdamConfig ac;
  sc_adam_config_init_default(&ac);
  if (ok) {
    b.probe = sc_linear_head_new(WIDTH, CLASSES);
    ok = (b.probe_params = sc_params_new(be, &b.probe, 1, error)) != NULL
         && (b.probe_adam = sc_adam_new(be, b.probe_params->count, &ac, error)) != NULL
         && sc_net_prepare(b.probe, MAX(cfg->labeled, 1), error);
    if (ok)
      sc_net_init_glorot(b.probe, 1, 2);
  }
  /* The data set, uploaded once as uint8: one batch of random pixels,
   * copied to every step's slice (each step still draws its own
   * augmentations). */
  size_t n_images = (size_t)cfg->steps * batch, image = (size_t)SIDE * SIDE * 3;
  size_t batch_bytes = (size_t)batch * image;
  if (ok) {
    ok = (b.images = sc_backend_alloc(be, n_images * image, "the data set", error)) != NULL;
    if (ok) {
      g_autofree uint8_t *host = g_malloc(batch_bytes);
      ScRng rng;
      sc_rng_init(&rng, 9, SC_RNG_TEST, 0, 0, 0);
      for (size_t i = 0; i < batch_bytes; i += 4) {
        uint32_t r = sc_rng_u32(&rng);
        memcpy(host + i, &r, MIN(4, batch_bytes - i));
      }
      for (int s = 0; s < cfg->steps; s++)
        be->ops->upload(be, b.images + s * batch_bytes, host, batch_bytes);
    }
  }
  const size_t view_floats = (size_t)batch * image;
  gint64 t0 = 0;
  for (int s = -cfg->warmup; ok && s < cfg->steps; s++) {
    if (s == 0) {
      ok = be->ops->sync(be, error);
      t0 = g_get_monotonic_time();
    }
    uint32_t step = (uint32_t)MAX(s, 0);
    ScAugmentBatch v1 = views_of(&b, step * (size_t)batch, batch, SC_AUGMENT_STRONG,
                                 SC_RNG_AUG_VIEW1, step);
    ScAugmentBatch v2 = views_of(&b, step * (size_t)batch, batch, SC_AUGMENT_STRONG,
                                 SC_RNG_AUG_VIEW2, step);
    be->ops->augment(be, &v1, b.x);
    be->ops->augment(be, &v2, b.x + view_floats);
    ok = ok && contrastive_step(&b, error)
         && (cfg->labeled <= 0 || probe_step(&b, MIN(cfg->labeled, b.rows), step, error));
  }
  ok = ok && be->ops->sync(be, error);
  if (ok) {
    double epoch_s = (g_get_monotonic_time() - t0) / 1e6, peak, used;
    memory_mib(be, &peak, &used);
    double images = (double)cfg->steps * 2 * batch;
    printf("{\"impl\": \"ours-cuda\", \"case\": \"epoch\", \"batch\": %d, \"steps\": %d, "
           "\"labeled_per_step\": %d, \"tf32\": %s, \"epoch_s\": %.4f, "
           "\"step_s\": %.5f, \"images_per_s\": %.1f, \"backend_peak_mib\": %.1f, "
           "\"device_used_mib\": %.1f}\n",
           batch, cfg->steps, cfg->labeled, cfg->tf32 ? "true" : "false", epoch_s,
           epoch_s / cfg->steps, images / epoch_s, peak, used);
    fflush(stdout);
  }
  bench_clear(&b);
  return ok;
}

int
main(int argc, char **argv)
{
  BenchConfig cfg = { .batch = 525, .steps = 200, .runs = 20, .warmup = 3, .labeled = 25,
                      .tf32 = TRUE };
  gboolean no_tf32 = FALSE;
  g_autofree char *which = NULL;
  GOptionEntry entries[] = {
    { "batch", 'b', 0, G_OPTION_ARG_INT, &cfg.batch, "Images per batch B (525)", "N" },
    { "steps", 's', 0, G_OPTION_ARG_INT, &cfg.steps, "Steps of the epoch case (200)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &cfg.runs, "Timed steps per step case (20)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &cfg.warmup, "Untimed steps first (3)", "N" },
    { "labeled", 'l', 0, G_OPTION_ARG_INT, &cfg.labeled, "Probe images per step (25)", "N" },
    { "case", 'c', 0, G_OPTION_ARG_STRING, &which,
      "contrastive, supervised, epoch or all", "NAME" },
    { "no-tf32", 0, 0, G_OPTION_ARG_NONE, &no_tf32, "Full float32 math", NULL },
    { NULL },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) ctx = g_option_context_new("- CUDA backend throughput");
  g_option_context_add_main_entries(ctx, entries, NULL);
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    g_printerr("cuda-bench: %s\n", error->message);
    return 2;
  }
  cfg.tf32 = !no_tf32;
  if (cfg.batch < 2 || cfg.steps < 1 || cfg.runs < 1 || cfg.warmup < 0 || cfg.labeled < 0) {
    g_printerr("cuda-bench: --batch must be >= 2, --steps and --runs >= 1, "
               "--warmup and --labeled >= 0\n");
    return 2;
  }
  const char *name = which != NULL ? which : "all";
  gboolean all = g_str_equal(name, "all");
  if (!all && !g_str_equal(name, "contrastive") && !g_str_equal(name, "supervised")
      && !g_str_equal(name, "epoch")) {
    g_printerr("cuda-bench: unknown case '%s': expected contrastive, supervised, epoch or "
               "all\n", name);
    return 2;
  }

  ScBackend *be = sc_backend_new("cuda", 0, &error);
  if (be == NULL) {
    g_printerr("cuda-bench: %s\n", error->message);
    return 77;
  }
  sc_cuda_backend_set_tf32(be, cfg.tf32);
  g_printerr("cuda-bench: %s, B = %d, TF32 %s\n", sc_cuda_backend_device_name(be), cfg.batch,
             cfg.tf32 ? "on" : "off");
  gboolean ok = TRUE;
  if (ok && (all || g_str_equal(name, "contrastive")))
    ok = run_step_case(be, &cfg, TRUE, &error);
  if (ok && (all || g_str_equal(name, "supervised")))
    ok = run_step_case(be, &cfg, FALSE, &error);
  if (ok && (all || g_str_equal(name, "epoch")))
    ok = run_epoch(be, &cfg, &error);
  if (!ok)
    g_printerr("cuda-bench: %s\n", error->message);
  sc_backend_free(be);
  return ok ? 0 : 1;
}
