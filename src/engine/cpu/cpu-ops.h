/* The CPU backend's operations, one group per file, assembled into the
 * operation table by cpu-backend.c. */
#pragma once

#include "../backend.h"

G_BEGIN_DECLS

/* cpu-conv.c: convolutions (oneDNN or im2col + BLAS). */
void sc_cpu_conv2d_forward(ScBackend *be, const ScConvDesc *d, const float *x,
                           const float *w, const float *bias, float *y);
void sc_cpu_conv2d_backward(ScBackend *be, const ScConvDesc *d, const float *x,
                            const float *w, const float *dy, float *dx, float *dw,
                            float *dbias);
/* Frees cached primitives and scratch memory of cpu-conv.c. */
void sc_cpu_conv_release(ScBackend *be);

/* cpu-loss.c: cross-entropy and NT-Xent. */
void sc_cpu_softmax_xent(ScBackend *be, int n, int k, const float *logits,
                         const int32_t *labels, float grad_scale, float *loss,
                         float *dlogits, int64_t *n_correct);
void sc_cpu_ntxent(ScBackend *be, const ScNtxentArgs *args);

/* cpu-backend.c: the rest (memory, gemm, bias, relu, adam, augment). */

G_END_DECLS
