/* The emulated cuBLAS: handles and the matrix products the backend calls,
 * computed on the CPU with cuBLAS's column-major conventions. */
#include "emulated-cuda.h"

#include <cublas_v2.h>

struct cublasContext {
  cudaStream_t stream;
};

cublasStatus_t
cublasCreate(cublasHandle_t *handle)
{
  if (handle == NULL)
    return CUBLAS_STATUS_INVALID_VALUE;
  *handle = g_new0(struct cublasContext, 1);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasDestroy(cublasHandle_t handle)
{
  g_free(handle);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetStream(cublasHandle_t handle, cudaStream_t stream)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}
