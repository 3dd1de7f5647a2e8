/* The CUDA backend's private state, shared by cuda-backend.c and
 * cuda-conv.c. All work is queued on one stream; an operation cannot
 * return an error (backend.h), so the first failure is kept and reported by
 * the next sync(). */
#pragma once

#include "sc-cuda.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

G_BEGIN_DECLS

/* Scratch buffers, each grown to the largest need and kept. */
typedef enum {
  SC_CUDA_SCRATCH_LOSS,     /* NT-Xent intermediates */
  SC_CUDA_SCRATCH_AUGMENT,  /* augmenter parameters and rasters */
  SC_CUDA_SCRATCH_BIAS,     /* column-sum partials */
  SC_CUDA_SCRATCH_WS,       /* cuDNN workspace */
  SC_CUDA_SCRATCH_W,        /* weights in cuDNN's layout */
  SC_CUDA_SCRATCH_DW,       /* weight gradient in cuDNN's layout */
  SC_CUDA_SCRATCH_PAD,      /* padded input or its gradient */
  SC_CUDA_SCRATCH_BF16_X,   /* bf16 convolution input */
  SC_CUDA_SCRATCH_BF16_W,   /* bf16 weights */
  SC_CUDA_SCRATCH_BF16_DY,  /* bf16 output gradient */
  SC_CUDA_SCRATCH_BF16_OUT, /* bf16 result before conversion to float */
  SC_CUDA_SCRATCH_COUNT,
} ScCudaScratch;

typedef struct _ScCudaConv ScCudaConv;

typedef struct {
  ScBackend base;      /* first, so an ScBackend * is an ScCudaBackend * */
  int device;
  char device_name[256];
  cudaStream_t stream;
  cublasHandle_t cublas;
  cudnnHandle_t cudnn;
  ScCudaPrecision precision;
  unsigned long long *counter; /* (1) device counter for n_correct */
  void *scratch[SC_CUDA_SCRATCH_COUNT];
  size_t scratch_bytes[SC_CUDA_SCRATCH_COUNT];
  GHashTable *sizes;   /* device pointer -> size, for the byte counts */
  size_t bytes_in_use, bytes_peak;
  ScCudaConv *conv;    /* cached cuDNN plans (cuda-conv.c) */
  GMutex lock;         /* guards pending and the byte counts */
  GError *pending;     /* first failure since the last sync(), or NULL */
} ScCudaBackend;

static inline ScCudaBackend *
sc_cuda_backend(ScBackend *be)
{
  return (ScCudaBackend *)be;
}

/* Keep the first failure: each returns TRUE when the status is success. */
gboolean sc_cuda_check(ScCudaBackend *cuda, cudaError_t status, const char *what);
gboolean sc_cublas_check(ScCudaBackend *cuda, cublasStatus_t status, const char *what);
gboolean sc_cudnn_check(ScCudaBackend *cuda, cudnnStatus_t status, const char *what);
/* Keeps error (taking ownership) unless an earlier one is pending. */
void sc_cuda_fail(ScCudaBackend *cuda, GError *error);

/* A scratch buffer of at least bytes, or NULL (the failure is kept). */
void *sc_cuda_scratch(ScCudaBackend *cuda, ScCudaScratch slot, size_t bytes);

/* cuda-conv.c */
ScCudaConv *sc_cuda_conv_new(void);
void sc_cuda_conv_free(ScCudaConv *conv);
/* Drops every plan (TF32 changed). */
void sc_cuda_conv_clear(ScCudaConv *conv);
void sc_cuda_conv2d_forward(ScBackend *be, const ScConvDesc *d, const float *x,
                            const float *w, const float *bias, float *y);
void sc_cuda_conv2d_backward(ScBackend *be, const ScConvDesc *d, const float *x,
                             const float *w, const float *dy, float *dx, float *dw,
                             float *dbias);

G_END_DECLS
