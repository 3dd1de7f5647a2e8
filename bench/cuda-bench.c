/* Throughput of the CUDA backend on the reference model, 96x96x3, width 128.
 *
 *   cuda-bench [--batch 525] [--steps 200] [--runs 20] [--warmup 3]
 *              [--labeled 25] [--case contrastive|supervised|epoch|all]
 *              [--precision fp32|tf32|bf16] [--no-tf32]
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
 *     Each step gathers its batch on the device from a shuffled order, as
 *     the trainer does.
 *
 * One JSON line per case: seconds (median step, or the whole epoch), images
 * per second, and device memory: this backend's peak allocation and the
 * device's used memory (cudaMemGetInfo, cuBLAS and cuDNN included). */
#include "augment.h"
#include "bench-common.h"
#include "config.h"
#include "cuda/sc-cuda.h"
#include "loss.h"
#include "rng.h"

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int batch;   /* B */
  int steps;   /* steps of the epoch case */
  int runs;    /* timed steps of the step cases */
  int warmup;  /* untimed steps first (cuDNN's algorithm search happens here) */
  int labeled; /* probe images per epoch step */
  ScCudaPrecision precision;
} BenchConfig;

/* The epoch case: the contrastive model, the online probe and the data set. */
typedef struct {
  BenchModel m;
  ScNet *probe;
  ScParams *probe_params;
  ScAdam *probe_adam;
  uint8_t *images;  /* (steps * B, 96, 96, 3) device: the data set */
  uint8_t *batch;   /* (B, 96, 96, 3) device: this step's images */
  int32_t *indices; /* (B) device: their indices in the data set */
} EpochBench;

static void
epoch_bench_clear(EpochBench *b)
{
  if (b->images != NULL)
    b->m.be->ops->free(b->m.be, b->images);
  if (b->batch != NULL)
    b->m.be->ops->free(b->m.be, b->batch);
  if (b->indices != NULL)
    b->m.be->ops->free(b->m.be, b->indices);
  sc_adam_free(b->probe_adam);
  sc_params_free(b->probe_params);
  sc_net_free(b->probe);
  bench_model_clear(&b->m);
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

static gboolean
run_step_case(ScBackend *be, const BenchConfig *cfg, gboolean contrastive, GError **error)
{
  BenchModel b;
  gboolean ok = bench_model_init(&b, be, contrastive, cfg->batch, 1, error);
  g_autofree double *step_s = g_new(double, cfg->runs);
  for (int s = -cfg->warmup; ok && s < cfg->runs; s++) {
    gint64 t0 = g_get_monotonic_time();
    ok = (contrastive ? bench_contrastive_step(&b, error) : bench_supervised_step(&b, error))
         && be->ops->sync(be, error);
    if (s >= 0)
      step_s[s] = (g_get_monotonic_time() - t0) / 1e6;
  }
  if (ok) {
    qsort(step_s, cfg->runs, sizeof(double), bench_compare_double);
    double median = step_s[cfg->runs / 2], peak, used;
    memory_mib(be, &peak, &used);
    printf("{\"impl\": \"ours-cuda\", \"case\": \"%s\", \"batch\": %d, "
           "\"images_per_step\": %d, \"tf32\": %s, \"precision\": \"%s\", \"steps\": %d, \"median_step_s\": %.5f, "
           "\"min_step_s\": %.5f, \"images_per_s\": %.1f, \"loss\": %.4f, "
           "\"backend_peak_mib\": %.1f, \"device_used_mib\": %.1f}\n",
           contrastive ? "contrastive" : "supervised", cfg->batch, b.rows,
           cfg->precision == SC_CUDA_PRECISION_TF32 ? "true" : "false",
           sc_cuda_precision_name(cfg->precision), cfg->runs, median, step_s[0], b.rows / median,
           bench_mean_loss(&b, contrastive ? b.rows / 2 : b.rows), peak, used);
    fflush(stdout);
  }
  bench_model_clear(&b);
  return ok;
}

/* The augmenter's arguments for the first `n` images of the step's batch. */
static ScAugmentBatch
views_of(const EpochBench *b, int n, ScAugmentStrength s, uint32_t purpose, uint32_t step)
{
  const int side = BENCH_SIDE;
  return (ScAugmentBatch){ .images = b->batch, .batch = n,
                           .src_h = side, .src_w = side, .src_c = 3, .out_h = side,
                           .out_w = side, .training = true, .strength = s, .seed = 3,
                           .purpose = purpose, .epoch = 0, .step = step };
}

/* The online probe: labeled images through the encoder (no encoder update),
 * Dense(10), cross-entropy, Adam on the probe alone. */
static gboolean
probe_step(EpochBench *b, int labeled, uint32_t step, GError **error)
{
  BenchModel *m = &b->m;
  ScAugmentBatch v = views_of(b, labeled, SC_AUGMENT_WEAK, SC_RNG_AUG_WEAK, step);
  m->be->ops->augment(m->be, &v, m->x);
  const float *feat = sc_net_forward(m->encoder, m->x, labeled);
  const float *logits = sc_net_forward(b->probe, feat, labeled);
  int64_t correct = 0;
  if (!sc_softmax_xent_mean(m->be, labeled, BENCH_CLASSES, logits, m->labels, m->host_labels,
                            m->loss, m->dhead, &correct, error))
    return FALSE;
  sc_net_backward(b->probe, m->dhead, NULL);
  sc_adam_step(b->probe_adam, b->probe_params->params, b->probe_params->grads);
  return TRUE;
}

static gboolean
run_epoch(ScBackend *be, const BenchConfig *cfg, GError **error)
{
  EpochBench b = { 0 };
  const int batch = cfg->batch;
  gboolean ok = bench_model_init(&b.m, be, TRUE, batch, 1, error);
  ScAdamConfig ac;
  sc_adam_config_init_default(&ac);
  if (ok) {
    b.probe = sc_linear_head_new(BENCH_WIDTH, BENCH_CLASSES);
    ok = (b.probe_params = sc_params_new(be, &b.probe, 1, error)) != NULL
         && (b.probe_adam = sc_adam_new(be, b.probe_params->count, &ac, error)) != NULL
         && sc_net_prepare(b.probe, MAX(cfg->labeled, 1), error);
    if (ok)
      sc_net_init_glorot(b.probe, 1, 2);
  }
  /* The data set, uploaded once as uint8: one batch of random pixels,
   * copied to every step's slice (each step still draws its own
   * augmentations). */
  size_t n_images = (size_t)cfg->steps * batch, image = (size_t)BENCH_SIDE * BENCH_SIDE * 3;
  size_t batch_bytes = (size_t)batch * image;
  if (ok) {
    ok = (b.images = sc_backend_alloc(be, n_images * image, "the data set", error)) != NULL
         && (b.batch = sc_backend_alloc(be, batch_bytes, "a batch", error)) != NULL
         && (b.indices = sc_backend_alloc(be, batch * sizeof(int32_t), "indices", error));
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
  /* The epoch's order: a seeded shuffle, as the trainer draws on the host;
   * each step uploads its indices and gathers its images on the device. */
  g_autofree int32_t *order = g_new(int32_t, MAX(n_images, 1));
  GRand *shuffle = g_rand_new_with_seed(11);
  for (size_t i = 0; i < n_images; i++) {
    size_t j = (size_t)g_rand_int_range(shuffle, 0, (gint32)(i + 1));
    order[i] = order[j];
    order[j] = (int32_t)i;
  }
  g_rand_free(shuffle);
  const size_t view_floats = (size_t)batch * image;
  gint64 t0 = 0;
  for (int s = -cfg->warmup; ok && s < cfg->steps; s++) {
    if (s == 0) {
      ok = be->ops->sync(be, error);
      t0 = g_get_monotonic_time();
    }
    uint32_t step = (uint32_t)MAX(s, 0);
    be->ops->upload(be, b.indices, order + step * (size_t)batch, batch * sizeof(int32_t));
    be->ops->gather_rows(be, b.images, image, b.indices, batch, b.batch);
    ScAugmentBatch v1 = views_of(&b, batch, SC_AUGMENT_STRONG, SC_RNG_AUG_VIEW1, step);
    ScAugmentBatch v2 = views_of(&b, batch, SC_AUGMENT_STRONG, SC_RNG_AUG_VIEW2, step);
    be->ops->augment(be, &v1, b.m.x);
    be->ops->augment(be, &v2, b.m.x + view_floats);
    ok = ok && bench_contrastive_step(&b.m, error)
         && (cfg->labeled <= 0 || probe_step(&b, MIN(cfg->labeled, b.m.rows), step, error));
  }
  ok = ok && be->ops->sync(be, error);
  if (ok) {
    double epoch_s = (g_get_monotonic_time() - t0) / 1e6, peak, used;
    memory_mib(be, &peak, &used);
    double images = (double)cfg->steps * 2 * batch;
    printf("{\"impl\": \"ours-cuda\", \"case\": \"epoch\", \"batch\": %d, \"steps\": %d, "
           "\"labeled_per_step\": %d, \"tf32\": %s, \"precision\": \"%s\", \"epoch_s\": %.4f, "
           "\"step_s\": %.5f, \"images_per_s\": %.1f, \"backend_peak_mib\": %.1f, "
           "\"device_used_mib\": %.1f}\n",
           batch, cfg->steps, cfg->labeled,
           cfg->precision == SC_CUDA_PRECISION_TF32 ? "true" : "false",
           sc_cuda_precision_name(cfg->precision), epoch_s,
           epoch_s / cfg->steps, images / epoch_s, peak, used);
    fflush(stdout);
  }
  epoch_bench_clear(&b);
  return ok;
}

int
main(int argc, char **argv)
{
  BenchConfig cfg = { .batch = 525, .steps = 200, .runs = 20, .warmup = 3, .labeled = 25,
                      .precision = SC_CUDA_PRECISION_TF32 };
  gboolean no_tf32 = FALSE;
  g_autofree char *which = NULL, *precision = NULL;
  GOptionEntry entries[] = {
    { "batch", 'b', 0, G_OPTION_ARG_INT, &cfg.batch, "Images per batch B (525)", "N" },
    { "steps", 's', 0, G_OPTION_ARG_INT, &cfg.steps, "Steps of the epoch case (200)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &cfg.runs, "Timed steps per step case (20)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &cfg.warmup, "Untimed steps first (3)", "N" },
    { "labeled", 'l', 0, G_OPTION_ARG_INT, &cfg.labeled, "Probe images per step (25)", "N" },
    { "case", 'c', 0, G_OPTION_ARG_STRING, &which,
      "contrastive, supervised, epoch or all", "NAME" },
    { "no-tf32", 0, 0, G_OPTION_ARG_NONE, &no_tf32, "Full float32 math (--precision fp32)",
      NULL },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision, "fp32, tf32 or bf16 (tf32)",
      "NAME" },
    { NULL },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) ctx = g_option_context_new("- CUDA backend throughput");
  g_option_context_add_main_entries(ctx, entries, NULL);
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    g_printerr("cuda-bench: %s\n", error->message);
    return 2;
  }
  if (no_tf32)
    cfg.precision = SC_CUDA_PRECISION_FP32;
  if (precision != NULL && !sc_cuda_precision_parse(precision, &cfg.precision, &error)) {
    g_printerr("cuda-bench: --precision: %s\n", error->message);
    return 2;
  }
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
  sc_cuda_backend_set_precision(be, cfg.precision);
  g_printerr("cuda-bench: %s, B = %d, %s\n", sc_cuda_backend_device_name(be), cfg.batch,
             sc_cuda_precision_name(cfg.precision));
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
