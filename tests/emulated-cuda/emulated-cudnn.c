/* The emulated cuDNN: descriptors and the three convolution directions,
 * computed directly on the CPU from the descriptors' layouts. */
#include "emulated-cuda.h"

#include <cudnn.h>

struct cudnnContext {
  cudaStream_t stream;
};

cudnnStatus_t
cudnnCreate(cudnnHandle_t *handle)
{
  if (handle == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *handle = g_new0(struct cudnnContext, 1);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnDestroy(cudnnHandle_t handle)
{
  g_free(handle);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream)
{
  if (handle == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  handle->stream = stream;
  return CUDNN_STATUS_SUCCESS;
}
