// The emulated device (tests/emulated-cuda) on kernels of our own: barriers
// and shuffles give the known results, launches are checked as the device
// checks them, and the runtime refuses host pointers where device memory is
// needed. Kernel bugs the emulator must stop on run in subprocesses.
#include "emulated-device.hpp"

#include "cuda/launch.h"
#include "emulated-cuda.h"

#include <glib.h>

// ---- Kernels ----

// Sum of v over the block, for every thread: shuffles within each warp,
// the warp sums through shared memory, and warp 0 alone shuffles them.
__device__ long long
block_sum(long long v)
{
  __shared__ long long partial[32];
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int off = 16; off > 0; off >>= 1)
    v += __shfl_down_sync(0xffffffffu, v, off);
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    int n_warps = (blockDim.x + 31) / 32;
    v = lane < n_warps ? partial[lane] : 0;
    for (int off = 16; off > 0; off >>= 1)
      v += __shfl_down_sync(0xffffffffu, v, off);
    if (lane == 0)
      partial[0] = v;
  }
  __syncthreads();
  v = partial[0];
  __syncthreads(); // partial is reused by the next call
  return v;
}

// out[b] = sum over the threads t of block b of (b * 10000 + t), seen by
// every thread; wrong[b] counts threads that saw another sum.
__global__ void
block_sum_kernel(long long *out, int *wrong)
{
  long long v = (long long)blockIdx.x * 10000 + threadIdx.x;
  long long sum = block_sum(v);
  long long again = block_sum(v); // the same shared memory, a second time
  if (sum != again)
    atomicAdd(wrong, 1);
  if (threadIdx.x == 0)
    out[blockIdx.x] = sum;
}

// Only warp 0 shuffles; the other warps leave at once. prefix[l] = lane
// sum 0..l (shuffle up), total[0] = lane 0's broadcast of the full sum.
__global__ void
warp0_kernel(int *prefix, int *total)
{
  if (threadIdx.x >= 32)
    return;
  int lane = threadIdx.x;
  int x = lane;
  for (int off = 1; off < 32; off <<= 1) {
    int y = __shfl_up_sync(0xffffffffu, x, off);
    if (lane >= off)
      x += y;
  }
  prefix[lane] = x;
  int all = lane;
  for (int m = 16; m > 0; m >>= 1)
    all += __shfl_xor_sync(0xffffffffu, all, m);
  all = __shfl_sync(0xffffffffu, all, 0);
  if (lane == 0)
    total[0] = all;
}

// y[i] = 2 x[i] + i over n elements, grid-stride, in 2-D blocks.
__global__ void
grid_stride_kernel(int n, const float *x, float *y)
{
  int threads = (int)(gridDim.x * blockDim.x * blockDim.y);
  int first = (int)(blockIdx.x * blockDim.x * blockDim.y + threadIdx.y * blockDim.x
                    + threadIdx.x);
  for (int i = first; i < n; i += threads)
    y[i] = 2.0f * x[i] + (float)i;
}

__global__ void
atomics_kernel(unsigned long long *count, float *fsum, int *imax, int *imin, unsigned *cas)
{
  int t = (int)(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(count, 1ull);
  atomicAdd(fsum, 0.5f);
  atomicMax(imax, t);
  atomicMin(imin, -t);
  // Exactly one thread swaps 0 for its index + 1.
  atomicCAS(cas, 0u, (unsigned)t + 1u);
}

__global__ void
touch_kernel(int *ran)
{
  atomicAdd(ran, 1);
}

// Threads of the first half wait at one barrier, the rest at another.
__global__ void
divergent_barrier_kernel(int *out)
{
  if (threadIdx.x < 16) {
    __syncthreads();
    out[0] = 1;
  } else {
    __syncthreads();
    out[1] = 1;
  }
}

// Lane 5 returns; the others shuffle with it in the mask.
__global__ void
stranded_shuffle_kernel(int *out)
{
  if (threadIdx.x == 5)
    return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, (int)threadIdx.x, 1);
}

// Synchronises only when asked: a first launch without makes the emulator
// run it as plain calls after.
__global__ void
sometimes_sync_kernel(int sync, int *out)
{
  if (sync)
    __syncthreads();
  out[threadIdx.x] = 1;
}

// ---- Helpers ----

template <typename T>
T *
device_alloc(size_t n)
{
  void *p = nullptr;
  g_assert_cmpint(cudaMalloc(&p, n * sizeof(T)), ==, cudaSuccess);
  g_assert_cmpint(cudaMemset(p, 0, n * sizeof(T)), ==, cudaSuccess);
  return static_cast<T *>(p);
}

// ---- Tests ----

static void
test_block_sum(void)
{
  const unsigned sizes[] = { 32, 64, 96, 256, 1024 };
  const unsigned blocks = 3;
  for (unsigned s = 0; s < G_N_ELEMENTS(sizes); s++) {
    long long *out = device_alloc<long long>(blocks);
    int *wrong = device_alloc<int>(1);
    SC_LAUNCH(block_sum_kernel, blocks, sizes[s], 0, 0)(out, wrong);
    g_assert_cmpint(cudaGetLastError(), ==, cudaSuccess);
    long long got[blocks];
    int n_wrong = -1;
    g_assert_cmpint(cudaMemcpy(got, out, sizeof(got), cudaMemcpyDeviceToHost), ==, cudaSuccess);
    g_assert_cmpint(cudaMemcpy(&n_wrong, wrong, sizeof(int), cudaMemcpyDeviceToHost), ==,
                    cudaSuccess);
    long long n = sizes[s];
    for (unsigned b = 0; b < blocks; b++)
      g_assert_cmpint(got[b], ==, n * b * 10000 + n * (n - 1) / 2);
    g_assert_cmpint(n_wrong, ==, 0);
    cudaFree(out);
    cudaFree(wrong);
  }
}

static void
test_warp0_shuffles(void)
{
  int *prefix = device_alloc<int>(32), *total = device_alloc<int>(1);
  SC_LAUNCH(warp0_kernel, 2, 128, 0, 0)(prefix, total);
  g_assert_cmpint(cudaGetLastError(), ==, cudaSuccess);
  int p[32], t = 0;
  cudaMemcpy(p, prefix, sizeof(p), cudaMemcpyDeviceToHost);
  cudaMemcpy(&t, total, sizeof(t), cudaMemcpyDeviceToHost);
  for (int l = 0; l < 32; l++)
    g_assert_cmpint(p[l], ==, l * (l + 1) / 2);
  g_assert_cmpint(t, ==, 31 * 32 / 2);
  cudaFree(prefix);
  cudaFree(total);
}

static void
test_grid_stride(void)
{
  const int n = 1000;
  float x[n], y[n];
  for (int i = 0; i < n; i++)
    x[i] = (float)(i % 7) - 3.0f;
  float *dx = device_alloc<float>(n), *dy = device_alloc<float>(n);
  cudaMemcpy(dx, x, sizeof(x), cudaMemcpyHostToDevice);
  // Twice: the second launch runs the threads as plain calls.
  for (int run = 0; run < 2; run++) {
    cudaMemset(dy, 0, sizeof(y));
    SC_LAUNCH(grid_stride_kernel, 3, dim3(16, 4), 0, 0)(n, dx, dy);
    g_assert_cmpint(cudaGetLastError(), ==, cudaSuccess);
    cudaMemcpy(y, dy, sizeof(y), cudaMemcpyDeviceToHost);
    for (int i = 0; i < n; i++)
      g_assert_cmpfloat(y[i], ==, 2.0f * x[i] + (float)i);
  }
  cudaFree(dx);
  cudaFree(dy);
}

static void
test_atomics(void)
{
  unsigned long long *count = device_alloc<unsigned long long>(1);
  float *fsum = device_alloc<float>(1);
  int *imax = device_alloc<int>(1), *imin = device_alloc<int>(1);
  unsigned *cas = device_alloc<unsigned>(1);
  SC_LAUNCH(atomics_kernel, 5, 200, 0, 0)(count, fsum, imax, imin, cas);
  g_assert_cmpint(cudaGetLastError(), ==, cudaSuccess);
  unsigned long long c = 0;
  float f = 0.0f;
  int mx = 0, mn = 0;
  unsigned winner = 0;
  cudaMemcpy(&c, count, sizeof(c), cudaMemcpyDeviceToHost);
  cudaMemcpy(&f, fsum, sizeof(f), cudaMemcpyDeviceToHost);
  cudaMemcpy(&mx, imax, sizeof(mx), cudaMemcpyDeviceToHost);
  cudaMemcpy(&mn, imin, sizeof(mn), cudaMemcpyDeviceToHost);
  cudaMemcpy(&winner, cas, sizeof(winner), cudaMemcpyDeviceToHost);
  g_assert_cmpuint(c, ==, 1000);
  g_assert_cmpfloat(f, ==, 500.0f);
  g_assert_cmpint(mx, ==, 999);
  g_assert_cmpint(mn, ==, -999);
  g_assert_cmpuint(winner, >=, 1);
  g_assert_cmpuint(winner, <=, 1000);
  cudaFree(count);
  cudaFree(fsum);
  cudaFree(imax);
  cudaFree(imin);
  cudaFree(cas);
}

static void
test_launch_limits(void)
{
  int *ran = device_alloc<int>(1);
  struct {
    dim3 grid, block;
    size_t shared_bytes;
  } bad[] = {
    { dim3(1), dim3(1025), 0 },       { dim3(1), dim3(1, 1025), 0 },
    { dim3(1), dim3(1, 1, 65), 0 },   { dim3(1), dim3(64, 32), 0 },
    { dim3(0), dim3(32), 0 },         { dim3(1, 65536), dim3(32), 0 },
    { dim3(1, 1, 65536), dim3(32), 0 }, { dim3(1), dim3(0), 0 },
    { dim3(1), dim3(32), 48 * 1024 + 1 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    SC_LAUNCH(touch_kernel, bad[i].grid, bad[i].block, bad[i].shared_bytes, 0)(ran);
    g_assert_cmpint(cudaGetLastError(), ==, cudaErrorInvalidConfiguration);
    g_assert_cmpint(cudaGetLastError(), ==, cudaSuccess);
  }
  // The limits themselves are allowed.
  SC_LAUNCH(touch_kernel, dim3(1, 2), dim3(1024), 48 * 1024, 0)(ran);
  SC_LAUNCH(touch_kernel, 1, dim3(1, 16, 64), 0, 0)(ran);
  g_assert_cmpint(cudaGetLastError(), ==, cudaSuccess);
  int n = 0;
  cudaMemcpy(&n, ran, sizeof(n), cudaMemcpyDeviceToHost);
  g_assert_cmpint(n, ==, 2048 + 1024);
  g_assert_cmpstr(cudaGetErrorName(cudaErrorInvalidConfiguration), ==,
                  "cudaErrorInvalidConfiguration");
  g_assert_cmpstr(cudaGetErrorString(cudaErrorInvalidConfiguration), ==,
                  "invalid configuration argument");
  cudaFree(ran);
}

static void
test_host_pointer_refused(void)
{
  float host[16] = { 0 };
  float *dev = device_alloc<float>(16);
  // Each refusal says why through a message, and sets the last error.
  g_test_expect_message(NULL, G_LOG_LEVEL_MESSAGE,
                        "*destination (host to device): * not inside one device allocation*");
  g_assert_cmpint(cudaMemcpyAsync(host, dev, sizeof(host), cudaMemcpyHostToDevice, 0), ==,
                  cudaErrorInvalidValue);
  g_test_assert_expected_messages();
  g_assert_cmpint(cudaGetLastError(), ==, cudaErrorInvalidValue);

  g_test_expect_message(NULL, G_LOG_LEVEL_MESSAGE,
                        "*source (device to host): * not inside one device allocation*");
  g_assert_cmpint(cudaMemcpyAsync(dev, host, sizeof(host), cudaMemcpyDeviceToHost, 0), ==,
                  cudaErrorInvalidValue);
  g_test_assert_expected_messages();

  g_test_expect_message(NULL, G_LOG_LEVEL_MESSAGE,
                        "*source (device to device): * not inside one device allocation*");
  g_assert_cmpint(cudaMemcpyAsync(dev, host, sizeof(host), cudaMemcpyDeviceToDevice, 0), ==,
                  cudaErrorInvalidValue);
  g_test_assert_expected_messages();

  // One float past the end of the allocation.
  g_test_expect_message(NULL, G_LOG_LEVEL_MESSAGE, "*not inside one device allocation*");
  g_assert_cmpint(cudaMemcpyAsync(dev + 1, host, sizeof(host), cudaMemcpyHostToDevice, 0), ==,
                  cudaErrorInvalidValue);
  g_test_assert_expected_messages();

  // A device pointer where the kind says host.
  float *dev2 = device_alloc<float>(16);
  g_test_expect_message(NULL, G_LOG_LEVEL_MESSAGE, "*source (host to device): * is device "
                        "memory, the kind says host*");
  g_assert_cmpint(cudaMemcpyAsync(dev, dev2, sizeof(host), cudaMemcpyHostToDevice, 0), ==,
                  cudaErrorInvalidValue);
  g_test_assert_expected_messages();
  cudaFree(dev2);

  g_test_expect_message(NULL, G_LOG_LEVEL_MESSAGE, "*cudaMemset: * not inside one device "
                        "allocation*");
  g_assert_cmpint(cudaMemsetAsync(host, 0, sizeof(host), 0), ==, cudaErrorInvalidValue);
  g_test_assert_expected_messages();
  g_assert_cmpint(cudaGetLastError(), ==, cudaErrorInvalidValue);

  // The right kinds go through.
  host[3] = 7.0f;
  g_assert_cmpint(cudaMemcpyAsync(dev, host, sizeof(host), cudaMemcpyHostToDevice, 0), ==,
                  cudaSuccess);
  host[3] = 0.0f;
  g_assert_cmpint(cudaMemcpyAsync(host, dev, sizeof(host), cudaMemcpyDeviceToHost, 0), ==,
                  cudaSuccess);
  g_assert_cmpfloat(host[3], ==, 7.0f);
  g_assert_cmpint(cudaGetLastError(), ==, cudaSuccess);
  cudaFree(dev);
}

static void
test_device_and_streams(void)
{
  int count = 0;
  g_assert_cmpint(cudaGetDeviceCount(&count), ==, cudaSuccess);
  g_assert_cmpint(count, ==, 1);
  cudaDeviceProp prop;
  g_assert_cmpint(cudaGetDeviceProperties(&prop, 0), ==, cudaSuccess);
  g_assert_cmpstr(prop.name, ==, "Emulated GPU (CPU)");
  g_assert_cmpint(prop.major, ==, 9);
  g_assert_cmpint(prop.warpSize, ==, 32);
  g_assert_cmpuint(prop.sharedMemPerBlock, ==, 48 * 1024);

  size_t before = sc_emu_device_bytes(), free_b = 0, total_b = 0;
  void *p = nullptr;
  g_assert_cmpint(cudaMalloc(&p, 1000), ==, cudaSuccess);
  g_assert_cmpuint((uintptr_t)p % 256, ==, 0);
  g_assert_cmpint(cudaMemGetInfo(&free_b, &total_b), ==, cudaSuccess);
  g_assert_cmpuint(total_b - free_b, ==, before + 1000);
  cudaFree(p);

  cudaStream_t s = nullptr;
  g_assert_cmpint(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), ==, cudaSuccess);
  int *ran = device_alloc<int>(1);
  SC_LAUNCH(touch_kernel, 1, 32, 0, s)(ran);
  g_assert_cmpint(cudaStreamSynchronize(s), ==, cudaSuccess);
  g_assert_cmpint(cudaStreamDestroy(s), ==, cudaSuccess);
  g_test_expect_message(NULL, G_LOG_LEVEL_MESSAGE, "*never created or is destroyed*");
  SC_LAUNCH(touch_kernel, 1, 32, 0, s)(ran);
  g_test_assert_expected_messages();
  g_assert_cmpint(cudaGetLastError(), ==, cudaErrorInvalidResourceHandle);
  int n = 0;
  cudaMemcpy(&n, ran, sizeof(n), cudaMemcpyDeviceToHost);
  g_assert_cmpint(n, ==, 32);
  cudaFree(ran);
}

// Kernel bugs stop the program with the kernel and the thread named.
struct KernelBug {
  void (*run)(int *out);
  const char *message;
};

static void
run_divergent_barrier(int *out)
{
  SC_LAUNCH(divergent_barrier_kernel, 1, 32, 0, 0)(out);
}

static void
run_stranded_shuffle(int *out)
{
  SC_LAUNCH(stranded_shuffle_kernel, 1, 32, 0, 0)(out);
}

static void
run_sync_after_plain(int *out)
{
  SC_LAUNCH(sometimes_sync_kernel, 1, 32, 0, 0)(0, out);
  SC_LAUNCH(sometimes_sync_kernel, 1, 32, 0, 0)(1, out);
}

static const KernelBug divergent_barrier = {
  run_divergent_barrier,
  "*divergent_barrier_kernel, block (0, 0, 0), thread (16, 0, 0): __syncthreads at line * "
  "while other threads of the block wait at the one at line *",
};
static const KernelBug stranded_shuffle = {
  run_stranded_shuffle,
  "*stranded_shuffle_kernel, block (0, 0, 0), thread (*): the shuffle at line * cannot "
  "complete: lane 5 of its mask 0xffffffff has returned*",
};
static const KernelBug sync_after_plain = {
  run_sync_after_plain,
  "*sometimes_sync_kernel, block (0, 0, 0), thread (0, 0, 0): __syncthreads at line *ran a "
  "whole launch without synchronising*",
};

static void
test_kernel_bug_stops(gconstpointer data)
{
  const KernelBug *bug = static_cast<const KernelBug *>(data);
  if (g_test_subprocess()) {
    bug->run(device_alloc<int>(64));
    return;
  }
  g_test_trap_subprocess(nullptr, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr(bug->message);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/emulated-device/block-sum", test_block_sum);
  g_test_add_func("/emulated-device/warp0-shuffles", test_warp0_shuffles);
  g_test_add_func("/emulated-device/grid-stride", test_grid_stride);
  g_test_add_func("/emulated-device/atomics", test_atomics);
  g_test_add_func("/emulated-device/launch-limits", test_launch_limits);
  g_test_add_func("/emulated-device/host-pointer-refused", test_host_pointer_refused);
  g_test_add_func("/emulated-device/device-and-streams", test_device_and_streams);
  g_test_add_data_func("/emulated-device/stops/divergent-barrier", &divergent_barrier,
                       test_kernel_bug_stops);
  g_test_add_data_func("/emulated-device/stops/stranded-shuffle", &stranded_shuffle,
                       test_kernel_bug_stops);
  g_test_add_data_func("/emulated-device/stops/sync-after-plain", &sync_after_plain,
                       test_kernel_bug_stops);
  return g_test_run();
}
