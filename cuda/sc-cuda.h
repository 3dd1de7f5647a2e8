/* The CUDA backend (cuda/): cuBLAS for matrix products, cuDNN for
 * convolutions, our kernels for the rest. Built only when nvcc is found
 * (config.h's SC_HAVE_CUDA); sc_backend_new("cuda") is the usual way in. */
#pragma once

#include "src/engine/backend.h"

G_BEGIN_DECLS

/* The backend on the first visible GPU. Fails with SC_ERROR_UNSUPPORTED and
 * the reason (no driver, no device, a device older than this build's code,
 * a cuBLAS or cuDNN that does not start) when no GPU is usable. */
ScBackend *sc_backend_cuda_new(int threads, GError **error);

/* TRUE when be is a CUDA backend. */
gboolean sc_backend_is_cuda(const ScBackend *be);

/* The arithmetic of matrix products and convolutions. Parameters,
 * gradients, optimizer state and the activations between layers stay
 * float32 in every mode; the modes differ in what the tensor cores get:
 *   FP32: nothing rounded (float32 FMA only)
 *   TF32: inputs rounded to TF32 (10-bit mantissa) inside cuBLAS and
 *         cuDNN, float32 sums (the default)
 *   BF16: convolution inputs and outputs converted to bfloat16 (7-bit
 *         mantissa) around cuDNN's bf16 kernels, products through cuBLAS's
 *         bf16 tensor-core mode; float32 sums and float32 master weights.
 * The losses' own products stay float32 in every mode. */
typedef enum {
  SC_CUDA_PRECISION_FP32,
  SC_CUDA_PRECISION_TF32,
  SC_CUDA_PRECISION_BF16,
} ScCudaPrecision;

/* "fp32", "tf32" or "bf16". */
const char *sc_cuda_precision_name(ScCudaPrecision precision);
gboolean sc_cuda_precision_parse(const char *name, ScCudaPrecision *precision,
                                 GError **error);

/* A new backend takes its precision from the environment: SC_CUDA_PRECISION
 * (a name above), else SC_CUDA_TF32=0 for FP32, else TF32. Changing it
 * drops the cached convolution plans. */
void sc_cuda_backend_set_precision(ScBackend *be, ScCudaPrecision precision);
ScCudaPrecision sc_cuda_backend_get_precision(const ScBackend *be);
/* TF32 (TRUE) or FP32 (FALSE). */
void sc_cuda_backend_set_tf32(ScBackend *be, gboolean allow);

/* The device's name and memory, for logs and benchmarks. */
const char *sc_cuda_backend_device_name(const ScBackend *be);
/* Bytes this backend holds on the device now and at most since creation
 * (its own allocations and scratch; cuBLAS and cuDNN handles not counted). */
size_t sc_cuda_backend_bytes_in_use(const ScBackend *be);
size_t sc_cuda_backend_bytes_peak(const ScBackend *be);

/* The cuDNN algorithms chosen for d: forward, backward data, backward
 * filter (-1 where that direction has not run yet). FALSE when d has no
 * plan. Plans are kept per ScConvDesc, so each batch size has its own. */
gboolean sc_cuda_conv_algorithms(ScBackend *be, const ScConvDesc *d, int algos[3]);
/* How many convolution plans are cached. */
guint sc_cuda_conv_plan_count(ScBackend *be);

G_END_DECLS
