// The CUDA backend's own kernels: bias, ReLU, Adam, weight layouts,
// padding, and the pieces of the two losses. Each mirrors the CPU code
// (src/engine/cpu/) step by step; sums that the CPU takes in double are
// taken in double here too, so both backends agree to float rounding.
#include "cuda-kernels.h"
#include "kernel-elements.h"
#include "launch.h"

#include <math.h>

// Keras's l2_normalize clamp, as the CPU's loss uses it.
#define SC_NTXENT_NORM_EPS 1e-7

// Row chunks of the two-pass column sum (bias_grad): enough blocks to fill
// the device when a convolution sums millions of rows.
#define BIAS_GRAD_CHUNKS 1024

static inline unsigned
blocks_for(size_t n, unsigned threads)
{
  return (unsigned)((n + threads - 1) / threads);
}

// ---- Elementwise ----

__global__ void
bias_add_kernel(size_t n, int cols, float *y, const float *bias)
{
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    y[i] += bias[i % cols];
}

extern "C" cudaError_t
sc_cuda_bias_add(cudaStream_t s, int rows, int cols, float *y, const float *bias)
{
  size_t n = (size_t)rows * cols;
  if (n == 0)
    return cudaSuccess;
  SC_LAUNCH(bias_add_kernel, blocks_for(n, 256), 256, 0, s)(n, cols, y, bias);
  return cudaGetLastError();
}

// partial (chunks, cols): block (x, y) sums column blockIdx.x * 32 + tx over
// the rows of chunk y, 8 row lanes per block, in double.
__global__ void
bias_grad_partial_kernel(int rows, int cols, const float *dy, double *partial)
{
  __shared__ double lanes[8][33];
  int col = blockIdx.x * 32 + threadIdx.x;
  double sum = 0.0;
  if (col < cols)
    for (int r = blockIdx.y * 8 + threadIdx.y; r < rows; r += gridDim.y * 8)
      sum += dy[(size_t)r * cols + col];
  lanes[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    for (int l = 1; l < 8; l++)
      sum += lanes[l][threadIdx.x];
    partial[(size_t)blockIdx.y * cols + col] = sum;
  }
}

__global__ void
bias_grad_final_kernel(int chunks, int cols, const double *partial, float *dbias)
{
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= cols)
    return;
  double sum = 0.0;
  for (int c = 0; c < chunks; c++)
    sum += partial[(size_t)c * cols + col];
  dbias[col] = (float)sum;
}

extern "C" size_t
sc_cuda_bias_grad_scratch(int cols)
{
  return (size_t)BIAS_GRAD_CHUNKS * (size_t)cols;
}

extern "C" cudaError_t
sc_cuda_bias_grad(cudaStream_t s, int rows, int cols, const float *dy, float *dbias,
                  double *partial)
{
  if (cols <= 0)
    return cudaSuccess;
  int chunks = (int)blocks_for((size_t)rows > 0 ? (size_t)rows : 1, 8 * 64);
  chunks = chunks < BIAS_GRAD_CHUNKS ? chunks : BIAS_GRAD_CHUNKS;
  dim3 grid(blocks_for((size_t)cols, 32), (unsigned)chunks);
  SC_LAUNCH(bias_grad_partial_kernel, grid, dim3(32, 8), 0, s)(rows, cols, dy, partial);
  SC_LAUNCH(bias_grad_final_kernel, blocks_for((size_t)cols, 128), 128, 0, s)(
    chunks, cols, partial, dbias);
  return cudaGetLastError();
}

__global__ void
relu_forward_kernel(size_t n, const float *x, float *y)
{
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

__global__ void
relu_backward_kernel(size_t n, const float *y, const float *dy, float *dx)
{
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

extern "C" cudaError_t
sc_cuda_relu_forward(cudaStream_t s, size_t n, const float *x, float *y)
{
  if (n == 0)
    return cudaSuccess;
  SC_LAUNCH(relu_forward_kernel, blocks_for(n, 256), 256, 0, s)(n, x, y);
  return cudaGetLastError();
}

extern "C" cudaError_t
sc_cuda_relu_backward(cudaStream_t s, size_t n, const float *y, const float *dy, float *dx)
{
  if (n == 0)
    return cudaSuccess;
  SC_LAUNCH(relu_backward_kernel, blocks_for(n, 256), 256, 0, s)(n, y, dy, dx);
  return cudaGetLastError();
}

__global__ void
adam_kernel(size_t n, float *params, const float *grads, float *m, float *v, float lr_t,
            float one_minus_b1, float one_minus_b2, float epsilon)
{
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    sc_k_adam(i, params, grads, m, v, lr_t, one_minus_b1, one_minus_b2, epsilon);
}

extern "C" cudaError_t
sc_cuda_adam_update(cudaStream_t s, size_t n, float *params, const float *grads, float *m,
                    float *v, float lr_t, float beta1, float beta2, float epsilon)
{
  if (n == 0)
    return cudaSuccess;
  SC_LAUNCH(adam_kernel, blocks_for(n, 256), 256, 0, s)(
    n, params, grads, m, v, lr_t, 1.0f - beta1, 1.0f - beta2, epsilon);
  return cudaGetLastError();
}

// ---- Layouts ----

// One thread per weight; to_ohwi picks the direction.
__global__ void
weights_layout_kernel(int kh, int kw, int ci, int co, const float *src, float *dst,
                      bool to_ohwi)
{
  size_t hwio = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (hwio >= (size_t)kh * kw * ci * co)
    return;
  size_t ohwi = sc_k_ohwi_index(hwio, kh, kw, ci, co);
  if (to_ohwi)
    dst[ohwi] = src[hwio];
  else
    dst[hwio] = src[ohwi];
}

extern "C" cudaError_t
sc_cuda_hwio_to_ohwi(cudaStream_t s, int kh, int kw, int ci, int co, const float *hwio,
                     float *ohwi)
{
  size_t n = (size_t)kh * kw * ci * co;
  SC_LAUNCH(weights_layout_kernel, blocks_for(n, 256), 256, 0, s)(
    kh, kw, ci, co, hwio, ohwi, true);
  return cudaGetLastError();
}

extern "C" cudaError_t
sc_cuda_ohwi_to_hwio(cudaStream_t s, int kh, int kw, int ci, int co, const float *ohwi,
                     float *hwio)
{
  size_t n = (size_t)kh * kw * ci * co;
  SC_LAUNCH(weights_layout_kernel, blocks_for(n, 256), 256, 0, s)(
    kh, kw, ci, co, ohwi, hwio, false);
  return cudaGetLastError();
}

// One thread per element of the padded image (n, ph, pw, c); pad fills it
// from src, crop (pad false) copies its interior back out to src-shaped dst.
__global__ void
pad_crop_kernel(int n, int h, int w, int c, int top, int left, int ph, int pw,
                const float *src, float *dst, bool pad)
{
  size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= (size_t)n * ph * pw * c)
    return;
  size_t inner = 0;
  bool inside = sc_k_pad_source(p, h, w, c, top, left, ph, pw, &inner);
  if (pad)
    dst[p] = inside ? src[inner] : 0.0f;
  else if (inside)
    dst[inner] = src[p];
}

extern "C" cudaError_t
sc_cuda_pad_nhwc(cudaStream_t s, int n, int h, int w, int c, int top, int bottom, int left,
                 int right, const float *src, float *dst)
{
  int ph = h + top + bottom, pw = w + left + right;
  size_t total = (size_t)n * ph * pw * c;
  SC_LAUNCH(pad_crop_kernel, blocks_for(total, 256), 256, 0, s)(
    n, h, w, c, top, left, ph, pw, src, dst, true);
  return cudaGetLastError();
}

extern "C" cudaError_t
sc_cuda_crop_nhwc(cudaStream_t s, int n, int h, int w, int c, int top, int bottom, int left,
                  int right, const float *src, float *dst)
{
  int ph = h + top + bottom, pw = w + left + right;
  size_t total = (size_t)n * ph * pw * c;
  SC_LAUNCH(pad_crop_kernel, blocks_for(total, 256), 256, 0, s)(
    n, h, w, c, top, left, ph, pw, src, dst, false);
  return cudaGetLastError();
}

// ---- Gathering rows of a data set ----

// One thread per T-sized unit of the output, grid-stride.
template <typename T>
__global__ void
gather_rows_kernel(const T *rows, size_t row_units, const int32_t *indices, size_t n, T *dst)
{
  size_t total = n * row_units;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (size_t)gridDim.x * blockDim.x) {
    size_t r = i / row_units, u = i - r * row_units;
    dst[i] = rows[(size_t)indices[r] * row_units + u];
  }
}

extern "C" cudaError_t
sc_cuda_gather_rows(cudaStream_t s, const void *rows, size_t row_bytes, const int32_t *indices,
                    size_t n, void *dst)
{
  // The widest copy that keeps every row aligned (device buffers are
  // 256-byte aligned, so rows are whenever row_bytes is).
  unsigned grid = blocks_for(n * row_bytes / 4 + 1, 256);
  if (grid > 8192)
    grid = 8192;
  if (row_bytes % 16 == 0)
    SC_LAUNCH(gather_rows_kernel<uint4>, grid, 256, 0, s)(
      (const uint4 *)rows, row_bytes / 16, indices, n, (uint4 *)dst);
  else if (row_bytes % 4 == 0)
    SC_LAUNCH(gather_rows_kernel<uint32_t>, grid, 256, 0, s)(
      (const uint32_t *)rows, row_bytes / 4, indices, n, (uint32_t *)dst);
  else
    SC_LAUNCH(gather_rows_kernel<uint8_t>, grid, 256, 0, s)(
      (const uint8_t *)rows, row_bytes, indices, n, (uint8_t *)dst);
  return cudaGetLastError();
}

// ---- bfloat16 conversions ----

__global__ void
float_to_bf16_kernel(size_t n, const float *src, uint16_t *dst)
{
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    dst[i] = sc_k_float_to_bf16(src[i]);
}

__global__ void
bf16_to_float_kernel(size_t n, const uint16_t *src, float *dst)
{
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    dst[i] = sc_k_bf16_to_float(src[i]);
}

extern "C" cudaError_t
sc_cuda_float_to_bf16(cudaStream_t s, size_t n, const float *src, uint16_t *dst)
{
  if (n == 0)
    return cudaSuccess;
  SC_LAUNCH(float_to_bf16_kernel, blocks_for(n, 256), 256, 0, s)(n, src, dst);
  return cudaGetLastError();
}

extern "C" cudaError_t
sc_cuda_bf16_to_float(cudaStream_t s, size_t n, const uint16_t *src, float *dst)
{
  if (n == 0)
    return cudaSuccess;
  SC_LAUNCH(bf16_to_float_kernel, blocks_for(n, 256), 256, 0, s)(n, src, dst);
  return cudaGetLastError();
}

// ---- Reductions inside a warp or a block ----

// The first index wins ties, as argmax does; an empty lane holds (-inf, -1).
__device__ inline void
argmax_merge(float &v, int &i, float v2, int i2)
{
  if (i2 >= 0 && (i < 0 || v2 > v || (v2 == v && i2 < i))) {
    v = v2;
    i = i2;
  }
}

__device__ inline void
warp_argmax(float &v, int &i)
{
  for (int off = 16; off > 0; off >>= 1) {
    float v2 = __shfl_down_sync(0xffffffffu, v, off);
    int i2 = __shfl_down_sync(0xffffffffu, i, off);
    argmax_merge(v, i, v2, i2);
  }
}

__device__ inline double
warp_sum(double x)
{
  for (int off = 16; off > 0; off >>= 1)
    x += __shfl_down_sync(0xffffffffu, x, off);
  return x;
}

// Block of ROW_THREADS threads (a multiple of 32, at most 1024).
#define ROW_THREADS 256

// Every thread gets the block's argmax.
__device__ void
block_argmax(float &v, int &i)
{
  __shared__ float sv[32];
  __shared__ int si[32];
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  warp_argmax(v, i);
  if (lane == 0) {
    sv[warp] = v;
    si[warp] = i;
  }
  __syncthreads();
  if (warp == 0) {
    int n_warps = blockDim.x / 32;
    v = lane < n_warps ? sv[lane] : -INFINITY;
    i = lane < n_warps ? si[lane] : -1;
    warp_argmax(v, i);
    if (lane == 0) {
      sv[0] = v;
      si[0] = i;
    }
  }
  __syncthreads();
  v = sv[0];
  i = si[0];
  __syncthreads();
}

// Every thread gets the block's sum.
__device__ double
block_sum(double x)
{
  __shared__ double sd[32];
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  x = warp_sum(x);
  if (lane == 0)
    sd[warp] = x;
  __syncthreads();
  if (warp == 0) {
    int n_warps = blockDim.x / 32;
    x = lane < n_warps ? sd[lane] : 0.0;
    x = warp_sum(x);
    if (lane == 0)
      sd[0] = x;
  }
  __syncthreads();
  x = sd[0];
  __syncthreads();
  return x;
}

// ---- Losses ----

// One block per row of s (rows, cols), in place; the CPU's
// softmax_xent_rows (cpu-loss.c) in parallel.
__global__ void
softmax_rows_kernel(int rows, int cols, int shift, int exclude_self, float *sm,
                    double *row_loss, unsigned long long *correct)
{
  int r = blockIdx.x;
  float *row = sm + (size_t)r * cols;
  int target = (r + shift) % cols;
  int skip = exclude_self ? r : -1;

  float rmax = -INFINITY;
  int best = -1;
  for (int k = threadIdx.x; k < cols; k += blockDim.x)
    if (k != skip)
      argmax_merge(rmax, best, row[k], k);
  block_argmax(rmax, best);

  double sum = 0.0;
  for (int k = threadIdx.x; k < cols; k += blockDim.x)
    if (k != skip)
      sum += exp((double)row[k] - rmax);
  sum = block_sum(sum);
  double lse = rmax + log(sum);
  float target_logit = row[target];
  __syncthreads(); // every thread has read the target before it is overwritten

  for (int k = threadIdx.x; k < cols; k += blockDim.x)
    row[k] = k == skip ? 0.0f : (float)exp((double)row[k] - lse);
  if (threadIdx.x == 0) {
    row_loss[r] = lse - target_logit;
    if (best == target)
      atomicAdd(correct, 1ull);
  }
}

extern "C" cudaError_t
sc_cuda_softmax_rows(cudaStream_t s, int rows, int cols, int shift, int exclude_self,
                     float *sm, double *row_loss, unsigned long long *correct)
{
  if (rows <= 0)
    return cudaSuccess;
  SC_LAUNCH(softmax_rows_kernel, rows, ROW_THREADS, 0, s)(
    rows, cols, shift, exclude_self, sm, row_loss, correct);
  return cudaGetLastError();
}

// One warp per sample; the CPU's sc_cpu_softmax_xent.
__global__ void
softmax_xent_kernel(int n, int k, const float *logits, const int32_t *labels, float grad_scale,
                    float *loss, float *dlogits, unsigned long long *correct)
{
  int row = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32);
  int lane = threadIdx.x % 32;
  if (row >= n)
    return; // whole warps leave together: n rows fill whole warps or the tail
  const float *z = logits + (size_t)row * k;
  int y = labels[row];

  float zmax = -INFINITY;
  int best = -1;
  for (int c = lane; c < k; c += 32)
    argmax_merge(zmax, best, z[c], c);
  warp_argmax(zmax, best);
  zmax = __shfl_sync(0xffffffffu, zmax, 0);
  best = __shfl_sync(0xffffffffu, best, 0);

  double sum = 0.0;
  for (int c = lane; c < k; c += 32)
    sum += exp((double)z[c] - zmax);
  sum = __shfl_sync(0xffffffffu, warp_sum(sum), 0);
  double lse = zmax + log(sum);

  if (lane == 0) {
    if (loss != NULL)
      loss[row] = (float)(lse - z[y]);
    if (best == y)
      atomicAdd(correct, 1ull);
  }
  if (dlogits != NULL)
    for (int c = lane; c < k; c += 32) {
      double p = exp((double)z[c] - lse);
      dlogits[(size_t)row * k + c] = (float)(grad_scale * (p - (c == y ? 1.0 : 0.0)));
    }
}

extern "C" cudaError_t
sc_cuda_softmax_xent(cudaStream_t s, int n, int k, const float *logits, const int32_t *labels,
                     float grad_scale, float *loss, float *dlogits, unsigned long long *correct)
{
  if (n <= 0)
    return cudaSuccess;
  SC_LAUNCH(softmax_xent_kernel, blocks_for((size_t)n * 32, 256), 256, 0, s)(
    n, k, logits, labels, grad_scale, loss, dlogits, correct);
  return cudaGetLastError();
}

// One warp per row; the CPU's normalize_rows.
__global__ void
l2_normalize_kernel(int rows, int dim, const float *p, float *z, double *inv, int *clamped)
{
  int r = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32);
  int lane = threadIdx.x % 32;
  if (r >= rows)
    return;
  const float *pr = p + (size_t)r * dim;
  double sq = 0.0;
  for (int d = lane; d < dim; d += 32)
    sq += (double)pr[d] * pr[d];
  sq = __shfl_sync(0xffffffffu, warp_sum(sq), 0);
  double norm = sqrt(sq);
  bool clamp = !(norm > SC_NTXENT_NORM_EPS);
  double ir = 1.0 / (clamp ? SC_NTXENT_NORM_EPS : norm);
  for (int d = lane; d < dim; d += 32)
    z[(size_t)r * dim + d] = (float)(pr[d] * ir);
  if (lane == 0) {
    inv[r] = ir;
    clamped[r] = clamp;
  }
}

extern "C" cudaError_t
sc_cuda_l2_normalize(cudaStream_t s, int rows, int dim, const float *p, float *z, double *inv,
                     int *clamped)
{
  if (rows <= 0)
    return cudaSuccess;
  SC_LAUNCH(l2_normalize_kernel, blocks_for((size_t)rows * 32, 256), 256, 0, s)(
    rows, dim, p, z, inv, clamped);
  return cudaGetLastError();
}

// One warp per row; the CPU's normalize_rows_backward.
__global__ void
l2_normalize_backward_kernel(int rows, int dim, const float *z, const double *inv,
                             const int *clamped, const float *g, float *dp)
{
  int r = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32);
  int lane = threadIdx.x % 32;
  if (r >= rows)
    return;
  const float *zr = z + (size_t)r * dim, *gr = g + (size_t)r * dim;
  double zg = 0.0;
  if (!clamped[r])
    for (int d = lane; d < dim; d += 32)
      zg += (double)zr[d] * gr[d];
  zg = __shfl_sync(0xffffffffu, warp_sum(zg), 0);
  for (int d = lane; d < dim; d += 32)
    dp[(size_t)r * dim + d] = (float)(inv[r] * (gr[d] - zr[d] * zg));
}

extern "C" cudaError_t
sc_cuda_l2_normalize_backward(cudaStream_t s, int rows, int dim, const float *z,
                              const double *inv, const int *clamped, const float *g, float *dp)
{
  if (rows <= 0)
    return cudaSuccess;
  SC_LAUNCH(l2_normalize_backward_kernel, blocks_for((size_t)rows * 32, 256), 256, 0, s)(
    rows, dim, z, inv, clamped, g, dp);
  return cudaGetLastError();
}

// 32x32 tiles through shared memory (padded against bank conflicts).
__global__ void
transpose_kernel(int rows, int cols, const float *src, float *dst)
{
  __shared__ float tile[32][33];
  int x = blockIdx.x * 32 + threadIdx.x, y0 = blockIdx.y * 32;
  for (int j = threadIdx.y; j < 32; j += blockDim.y)
    if (x < cols && y0 + j < rows)
      tile[j][threadIdx.x] = src[(size_t)(y0 + j) * cols + x];
  __syncthreads();
  int tx = blockIdx.y * 32 + threadIdx.x, ty0 = blockIdx.x * 32;
  for (int j = threadIdx.y; j < 32; j += blockDim.y)
    if (tx < rows && ty0 + j < cols)
      dst[(size_t)(ty0 + j) * rows + tx] = tile[threadIdx.x][j];
}

extern "C" cudaError_t
sc_cuda_transpose(cudaStream_t s, int rows, int cols, const float *src, float *dst)
{
  if (rows <= 0 || cols <= 0)
    return cudaSuccess;
  dim3 grid(blocks_for((size_t)cols, 32), blocks_for((size_t)rows, 32));
  SC_LAUNCH(transpose_kernel, grid, dim3(32, 8), 0, s)(rows, cols, src, dst);
  return cudaGetLastError();
}

__global__ void
mean_pair_kernel(int b, const double *a, const double *c, float *loss)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < b)
    loss[i] = (float)(0.5 * (a[i] + c[i]));
}

extern "C" cudaError_t
sc_cuda_mean_pair(cudaStream_t s, int b, const double *a, const double *c, float *loss)
{
  if (b <= 0)
    return cudaSuccess;
  SC_LAUNCH(mean_pair_kernel, blocks_for((size_t)b, 256), 256, 0, s)(b, a, c, loss);
  return cudaGetLastError();
}

// G[i][k] = (P[i][k] + Q[k][i]) / 2 - [i == k] with P = g and Q = q (b, b).
__global__ void
ntxent_cross_grad_kernel(int b, float *g, const float *q)
{
  size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx < (size_t)b * b)
    sc_k_ntxent_cross_grad(idx, b, g, q);
}

extern "C" cudaError_t
sc_cuda_ntxent_cross_grad(cudaStream_t s, int b, float *g, const float *q)
{
  size_t n = (size_t)b * b;
  SC_LAUNCH(ntxent_cross_grad_kernel, blocks_for(n, 256), 256, 0, s)(b, g, q);
  return cudaGetLastError();
}

// One thread per entry of S (v, v), v = 2b; the threads of pairs r < k
// do the work (sc_k_ntxent_full_grad).
__global__ void
ntxent_full_grad_kernel(int b, float *sm)
{
  size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx < (size_t)4 * b * b)
    sc_k_ntxent_full_grad(idx, b, sm);
}

extern "C" cudaError_t
sc_cuda_ntxent_full_grad(cudaStream_t s, int b, float *sm)
{
  size_t n = (size_t)4 * b * b;
  SC_LAUNCH(ntxent_full_grad_kernel, blocks_for(n, 256), 256, 0, s)(b, sm);
  return cudaGetLastError();
}
