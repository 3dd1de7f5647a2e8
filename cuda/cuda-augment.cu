// The augmenter on the GPU: the same steps, random numbers and float32
// arithmetic as src/engine/augment.c (see augment-pixel.h), one thread per
// image for the draws and one per output pixel for each raster.
#include "augment-pixel.h"
#include "launch.h"

static inline unsigned
blocks_for(size_t n, unsigned threads)
{
  return (unsigned)((n + threads - 1) / threads);
}

// One thread per image.
__global__ void
draw_kernel(ScCudaAugmentArgs a, float zf, float hf, ScAugParams *params)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < a.batch)
    sc_aug_draw(&a, zf, hf, (uint32_t)i, &params[i]);
}

// One thread per output pixel: base (batch, H, W, C), or straight to
// out (batch, H, W, 3) when rgb_out (inference: no warps follow).
__global__ void
base_kernel(ScCudaAugmentArgs a, const uint8_t *images, const ScAugParams *params, float *dst,
            bool rgb_out)
{
  const int H = a.out_h, W = a.out_w, C = a.src_c;
  size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (size_t)a.batch * H * W)
    return;
  int x = (int)(idx % W), y = (int)(idx / W % H);
  size_t img = idx / ((size_t)W * H);
  float v[3];
  sc_aug_base_pixel(&a, images, params != NULL && params[img].flip != 0.0f, img, y, x, v);
  if (rgb_out)
    for (int k = 0; k < 3; k++)
      dst[idx * 3 + k] = v[C == 3 ? k : 0];
  else
    for (int c = 0; c < C; c++)
      dst[idx * C + c] = v[c];
}

// warp = base translated, one thread per pixel.
__global__ void
translate_kernel(ScCudaAugmentArgs a, const ScAugParams *params, const float *base,
                 float *warp)
{
  const int H = a.out_h, W = a.out_w, C = a.src_c;
  size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (size_t)a.batch * H * W)
    return;
  int x = (int)(idx % W), y = (int)(idx / W % H);
  size_t img = idx / ((size_t)W * H);
  float v[3];
  sc_aug_translate_pixel(&a, &params[img], base + img * H * W * C, y, x, v);
  for (int c = 0; c < C; c++)
    warp[idx * C + c] = v[c];
}

// out = warp zoomed, colour affine, clip; one thread per pixel.
__global__ void
zoom_colour_kernel(ScCudaAugmentArgs a, const ScAugParams *params, const float *warp,
                   float *out)
{
  const int H = a.out_h, W = a.out_w, C = a.src_c;
  size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (size_t)a.batch * H * W)
    return;
  int x = (int)(idx % W), y = (int)(idx / W % H);
  size_t img = idx / ((size_t)W * H);
  sc_aug_zoom_colour_pixel(&a, &params[img], warp + img * H * W * C, y, x, out + idx * 3);
}

// Scratch layout: params, then base and warp rasters, 256-byte aligned.
static size_t
align256(size_t n)
{
  return (n + 255) / 256 * 256;
}

extern "C" size_t
sc_cuda_augment_scratch_bytes(const ScCudaAugmentArgs *a)
{
  size_t raster = (size_t)a->batch * a->out_h * a->out_w * a->src_c * sizeof(float);
  return align256((size_t)a->batch * sizeof(ScAugParams)) + 2 * align256(raster);
}

extern "C" cudaError_t
sc_cuda_augment(cudaStream_t s, const ScCudaAugmentArgs *a, const uint8_t *images, float *out,
                void *scratch)
{
  if (a->batch <= 0)
    return cudaSuccess;
  size_t raster = (size_t)a->batch * a->out_h * a->out_w * a->src_c * sizeof(float);
  ScAugParams *params = (ScAugParams *)scratch;
  float *base = (float *)((char *)scratch + align256((size_t)a->batch * sizeof(ScAugParams)));
  float *warp = (float *)((char *)base + align256(raster));
  size_t n_px = (size_t)a->batch * a->out_h * a->out_w;

  if (!a->training) {
    SC_LAUNCH(base_kernel, blocks_for(n_px, 256), 256, 0, s)(*a, images, NULL, out, true);
    return cudaGetLastError();
  }
  // zf and hf as sc_augment_draw computes them, on the host in float32.
  const float zf = 1.0f - sqrtf(a->min_area);
  const float hf = 0.5f * zf;
  SC_LAUNCH(draw_kernel, blocks_for((size_t)a->batch, 128), 128, 0, s)(*a, zf, hf, params);
  SC_LAUNCH(base_kernel, blocks_for(n_px, 256), 256, 0, s)(*a, images, params, base, false);
  SC_LAUNCH(translate_kernel, blocks_for(n_px, 256), 256, 0, s)(*a, params, base, warp);
  SC_LAUNCH(zoom_colour_kernel, blocks_for(n_px, 256), 256, 0, s)(*a, params, warp, out);
  return cudaGetLastError();
}

__global__ void
philox_uniforms_kernel(uint64_t seed, uint32_t purpose, uint32_t epoch, uint32_t step,
                       uint32_t index, int n, float *out)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  uint32_t ctr[4], key[2], bits[4];
  sc_philox_stream(seed, purpose, epoch, step, index, (uint32_t)(i / 4), ctr, key);
  sc_philox4x32_block(ctr, key, bits);
  out[i] = sc_philox_unit(bits[i % 4]);
}

extern "C" cudaError_t
sc_cuda_philox_uniforms(cudaStream_t s, uint64_t seed, uint32_t purpose, uint32_t epoch,
                        uint32_t step, uint32_t index, int n, float *out)
{
  if (n <= 0)
    return cudaSuccess;
  SC_LAUNCH(philox_uniforms_kernel, blocks_for((size_t)n, 128), 128, 0, s)(
    seed, purpose, epoch, step, index, n, out);
  return cudaGetLastError();
}
