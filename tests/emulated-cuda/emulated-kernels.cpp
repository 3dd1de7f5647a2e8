// The CUDA backend's kernels (cuda/cuda-kernels.cu), compiled by g++ for
// the emulated device.
#include "emulated-device.hpp"

#include "../../cuda/cuda-kernels.cu"
