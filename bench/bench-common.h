/* The reference model's training steps, shared by the throughput benchmarks:
 * 96x96x3 images, encoder of width 128, and either the projection head
 * (contrastive: two views of B images as one batch of 2B, NT-Xent
 * cross-view with T = 0.1) or Dense(10) (supervised: B images, sparse
 * cross-entropy), backward through both nets and one Adam step. Inputs are
 * random floats in [0, 1) and random labels. */
#pragma once

#include "adam.h"
#include "backend.h"
#include "model.h"

#define BENCH_WIDTH 128
#define BENCH_SIDE 96
#define BENCH_CLASSES 10
#define BENCH_TEMPERATURE 0.1f

typedef struct {
  ScBackend *be;
  ScNet *encoder, *head;
  ScParams *params;
  ScAdam *adam;
  int rows;             /* images per forward: 2B (contrastive) or B */
  float *x;             /* (rows, 96, 96, 3) */
  float *dhead;         /* (rows, max(head outputs, BENCH_CLASSES)) */
  float *dfeat;         /* (rows, BENCH_WIDTH) */
  float *loss;          /* (rows) */
  int32_t *labels;      /* (rows) in backend memory */
  int32_t *host_labels; /* (rows) the same on the host */
} BenchModel;

/* Models, parameters, optimizer and random inputs for one case; the head's
 * Glorot draw is that of net head_id. On failure the caller still calls
 * bench_model_clear(). */
gboolean bench_model_init(BenchModel *b, ScBackend *be, gboolean contrastive, int batch,
                          uint32_t head_id, GError **error);
void bench_model_clear(BenchModel *b);

/* One step as the trainer runs it, queued on the backend (not synced). */
gboolean bench_contrastive_step(BenchModel *b, GError **error);
gboolean bench_supervised_step(BenchModel *b, GError **error);

/* Mean of the first n losses of the last step (downloads, so syncs). */
double bench_mean_loss(BenchModel *b, int n);

/* qsort order of doubles, smallest first. */
int bench_compare_double(const void *a, const void *b);
