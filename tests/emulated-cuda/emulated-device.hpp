// The emulated device for kernels compiled by g++ (SC_EMULATED_DEVICE):
// the built-in indices, __syncthreads, warp shuffles, atomics and the
// launch that cuda/launch.h's SC_LAUNCH expands to.
//
// A launch runs at once on the calling thread, blocks one after another.
// Until a kernel has been seen to run a whole launch without a barrier or a
// shuffle, each GPU thread of a block is a fiber with its own stack, so
// __syncthreads and shuffles wait as on the device; after that the kernel's
// threads are plain calls, and a barrier or shuffle in a later launch is
// reported as an emulator limitation.
//
// Include this before any CUDA header: it defines __shared__ first.
#pragma once

#if defined(__shared__)
#error "emulated-device.hpp must come before the CUDA headers"
#endif

// Blocks run one at a time and one launch at a time, so a block's shared
// memory can be the function's statics.
#define __shared__ static

#include <cuda_runtime_api.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <tuple>
#include <type_traits>

extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
static const int warpSize = 32;

namespace sc_emu {

enum ShuffleKind { SHUFFLE_IDX, SHUFFLE_UP, SHUFFLE_DOWN, SHUFFLE_XOR };

// Lane's value (its bits) exchanged within the warp; returns the bits this
// lane receives. line: the caller's, for messages.
uint64_t shuffle(unsigned mask, uint64_t bits, ShuffleKind kind, int param, int width,
                 int line);
void barrier(int line);

// Runs thread(ctx) once for every thread of the grid, with the built-in
// indices set; a configuration the device would refuse sets the last error
// (cudaErrorInvalidConfiguration) and runs nothing.
void run_grid(uintptr_t kernel_id, const char *name, dim3 grid, dim3 block,
              size_t shared_bytes, cudaStream_t stream, void (*thread)(void *), void *ctx);

// What SC_LAUNCH returns: called with the kernel's arguments, converted to
// its parameter types as a <<<>>> launch converts them.
template <typename... P> class Launch
{
public:
  Launch(void (*kernel)(P...), const char *name, dim3 grid, dim3 block, size_t shared_bytes,
         cudaStream_t stream)
    : kernel_(kernel), name_(name), grid_(grid), block_(block), shared_bytes_(shared_bytes),
      stream_(stream)
  {
  }

  void operator()(P... args) const
  {
    Call call{ kernel_, std::tuple<P...>(args...) };
    run_grid(reinterpret_cast<uintptr_t>(kernel_), name_, grid_, block_, shared_bytes_,
             stream_, &Launch::thread, &call);
  }

private:
  struct Call {
    void (*kernel)(P...);
    std::tuple<P...> args;
  };

  // Each GPU thread gets its own copy of the arguments, as on the device.
  static void thread(void *p)
  {
    const Call *call = static_cast<const Call *>(p);
    std::apply(call->kernel, call->args);
  }

  void (*kernel_)(P...);
  const char *name_;
  dim3 grid_, block_;
  size_t shared_bytes_;
  cudaStream_t stream_;
};

template <typename... P>
Launch<P...>
launch(void (*kernel)(P...), const char *name, dim3 grid, dim3 block, size_t shared_bytes,
       cudaStream_t stream)
{
  return Launch<P...>(kernel, name, grid, block, shared_bytes, stream);
}

template <typename T>
T
shuffle_value(unsigned mask, T v, ShuffleKind kind, int param, int width, int line)
{
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable<T>::value,
                "shuffles move values of at most 8 bytes");
  uint64_t bits = 0;
  memcpy(&bits, &v, sizeof(T));
  bits = shuffle(mask, bits, kind, param, width, line);
  T out;
  memcpy(&out, &bits, sizeof(T));
  return out;
}

} // namespace sc_emu

// ---- Intrinsics (the call site's line comes along for messages) ----

static inline void
__syncthreads(int line = __builtin_LINE())
{
  sc_emu::barrier(line);
}

template <typename T>
static inline T
__shfl_sync(unsigned mask, T v, int src_lane, int width = 32, int line = __builtin_LINE())
{
  return sc_emu::shuffle_value(mask, v, sc_emu::SHUFFLE_IDX, src_lane, width, line);
}

template <typename T>
static inline T
__shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, int line = __builtin_LINE())
{
  return sc_emu::shuffle_value(mask, v, sc_emu::SHUFFLE_UP, (int)delta, width, line);
}

template <typename T>
static inline T
__shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32,
                 int line = __builtin_LINE())
{
  return sc_emu::shuffle_value(mask, v, sc_emu::SHUFFLE_DOWN, (int)delta, width, line);
}

template <typename T>
static inline T
__shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32, int line = __builtin_LINE())
{
  return sc_emu::shuffle_value(mask, v, sc_emu::SHUFFLE_XOR, lane_mask, width, line);
}

// ---- Atomics: each returns the old value, as on the device ----

template <typename T>
static inline T
atomicAdd(T *address, T value)
{
  static_assert(std::is_integral<T>::value, "atomicAdd: integers, float or double");
  return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
}

template <typename T>
static inline T
atomic_float_add(T *address, T value)
{
  T old, sum;
  __atomic_load(address, &old, __ATOMIC_RELAXED);
  do
    sum = old + value;
  while (!__atomic_compare_exchange(address, &old, &sum, true, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED));
  return old;
}

static inline float
atomicAdd(float *address, float value)
{
  return atomic_float_add(address, value);
}

static inline double
atomicAdd(double *address, double value)
{
  return atomic_float_add(address, value);
}

template <typename T>
static inline T
atomicSub(T *address, T value)
{
  static_assert(std::is_integral<T>::value, "atomicSub: integers");
  return __atomic_fetch_sub(address, value, __ATOMIC_RELAXED);
}

template <typename T>
static inline T
atomicExch(T *address, T value)
{
  return __atomic_exchange_n(address, value, __ATOMIC_RELAXED);
}

template <typename T>
static inline T
atomicCAS(T *address, T compare, T value)
{
  __atomic_compare_exchange_n(address, &compare, value, false, __ATOMIC_RELAXED,
                              __ATOMIC_RELAXED);
  return compare;
}

template <typename T>
static inline T
atomicMax(T *address, T value)
{
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (old < value && !__atomic_compare_exchange_n(address, &old, value, true,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}

template <typename T>
static inline T
atomicMin(T *address, T value)
{
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (value < old && !__atomic_compare_exchange_n(address, &old, value, true,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
