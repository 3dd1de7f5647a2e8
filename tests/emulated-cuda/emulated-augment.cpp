// The CUDA backend's augmentation kernels (cuda/cuda-augment.cu), compiled
// by g++ for the emulated device. A file of its own: each .cu has its own
// static helpers of the same names.
#include "emulated-device.hpp"

#include "../../cuda/cuda-augment.cu"
