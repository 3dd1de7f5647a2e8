// Kernel launches written once for nvcc and for the emulated device
// (tests/emulated-cuda), which compiles these kernels with g++ and runs them
// on the CPU:
//
//   SC_LAUNCH(kernel, grid, block, shared_bytes, stream)(args...);
//
// is kernel<<<grid, block, shared_bytes, stream>>>(args...) under nvcc.
#pragma once

#ifdef SC_EMULATED_DEVICE
#include "emulated-device.hpp"
#define SC_LAUNCH(kernel, grid, block, shared_bytes, stream) \
  sc_emu::launch(kernel, #kernel, grid, block, shared_bytes, stream)
#else
#define SC_LAUNCH(kernel, grid, block, shared_bytes, stream) \
  kernel<<<grid, block, shared_bytes, stream>>>
#endif
