/* An emulated GPU for testing the CUDA backend (cuda/) on machines without
 * one. The backend's C files are compiled against the real CUDA, cuBLAS and
 * cuDNN headers and linked with this folder's implementations of the calls
 * they make; its kernels are compiled as C++ and run on the CPU, each GPU
 * thread as a fiber (emulated-device.hpp). Work queued on a stream runs at
 * once, in order.
 *
 * What it checks beyond the numbers: pointers given to copies, cuBLAS and
 * cuDNN are device memory of sufficient size, launch configurations are
 * within the device's limits, descriptors and workspaces are consistent.
 * What it cannot check: real concurrency between streams and the host,
 * the hardware's rounding (it rounds TF32 and bf16 inputs as documented and
 * sums in float, in its own order). */
#pragma once

#include <cuda_runtime_api.h>
#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

/* TRUE when [p, p + bytes) lies inside one live emulated device allocation.
 * Logs a message naming what is wrong otherwise. */
gboolean sc_emu_device_range(const void *p, size_t bytes, const char *what);

/* The error the next cudaGetLastError() returns (kept until then, as the
 * runtime keeps a launch's error). */
void sc_emu_set_last_error(cudaError_t error);

/* Bytes of emulated device memory now allocated. */
size_t sc_emu_device_bytes(void);

/* TRUE for the default stream (0) and streams created and not destroyed. */
gboolean sc_emu_stream_valid(cudaStream_t stream);

G_END_DECLS
