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

/* TF32 tensor-core math in gemm and convolutions (the default, unless the
 * environment has SC_CUDA_TF32=0); FALSE keeps full float32. Changing it
 * drops the cached convolution plans. */
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
