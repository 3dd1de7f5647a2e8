// The augmenter on the GPU: the same steps, random numbers and float32
// arithmetic as src/engine/augment.c, one thread per output pixel.
//
// Every multiply and add goes through the round-to-nearest intrinsics
// (__fmul_rn, __fadd_rn, ...), which the compiler never fuses into an FMA:
// the CPU build rounds each operation on its own, and so must this one for
// both backends to produce the same images.
//
// Rasters of one batch, as on the CPU:
//   params (batch, 16)            drawn parameters, see Params
//   base   (batch, H, W, C)       rescaled (and resized), flipped
//   warp   (batch, H, W, C)       base resampled at (x - dx, y - dy)
//   out    (batch, H, W, 3)       warp resampled at (zx x + ox, zy y + oy),
//                                 colour affine, clip
// C is the stored channel count (1 or 3).
#include "cuda-kernels.h"

#include "src/engine/philox.h"

// Keras's Rescaling(1/255) multiplies by this float32 constant.
#define RESCALE (1.0f / 255.0f)

// One image's parameters, 16 floats (the last is padding).
struct Params {
  float flip, dx, dy, zx, zy, brightness;
  float jitter[9];
  float pad;
};

static inline unsigned
blocks_for(size_t n, unsigned threads)
{
  return (unsigned)((n + threads - 1) / threads);
}

__device__ inline float
fmul(float a, float b)
{
  return __fmul_rn(a, b);
}

__device__ inline float
fadd(float a, float b)
{
  return __fadd_rn(a, b);
}

__device__ inline float
fsub(float a, float b)
{
  return __fsub_rn(a, b);
}

// sc_rng_range: lo + (hi - lo) * u.
__device__ inline float
range(float lo, float hi, float u)
{
  return fadd(lo, fmul(fsub(hi, lo), u));
}

// sc_augment_draw, one thread per image: 15 uniforms from 4 Philox blocks.
__global__ void
draw_kernel(ScCudaAugmentArgs a, float zf, float hf, Params *params)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= a.batch)
    return;
  float u[16];
  for (int blk = 0; blk < 4; blk++) {
    uint32_t ctr[4], key[2], bits[4];
    sc_philox_stream(a.seed, a.purpose, a.epoch, a.step, (uint32_t)i, (uint32_t)blk, ctr, key);
    sc_philox4x32_block(ctr, key, bits);
    for (int j = 0; j < 4; j++)
      u[blk * 4 + j] = sc_philox_unit(bits[j]);
  }
  Params p;
  p.flip = u[0] <= 0.5f ? 1.0f : 0.0f;
  p.dy = fmul(range(-hf, hf, u[1]), (float)a.out_h);
  p.dx = fmul(range(-hf, hf, u[2]), (float)a.out_w);
  p.zy = fadd(1.0f, range(-zf, 0.0f, u[3]));
  p.zx = fadd(1.0f, range(-zf, 0.0f, u[4]));
  p.brightness = fadd(1.0f, range(-a.brightness, a.brightness, u[5]));
  for (int j = 0; j < 9; j++)
    p.jitter[j] = range(-a.jitter, a.jitter, u[6 + j]);
  p.pad = 0.0f;
  params[i] = p;
}

// TensorFlow's reflect fill of one coordinate, then a clamp (reflect_coord).
__device__ float
reflect_coord(float t, int n)
{
  if (n <= 1)
    return 0.0f;
  const float len = (float)n, len2 = fmul(2.0f, (float)n);
  if (t < 0.0f) {
    if (t < -len2)
      t = fadd(t, fmul(len2, truncf(__fdiv_rn(-t, len2))));
    t = t < -len ? fadd(t, len2) : fsub(-t, 1.0f);
  } else if (t > fsub(len, 1.0f)) {
    if (t >= len2)
      t = fsub(t, fmul(len2, truncf(__fdiv_rn(t, len2))));
    if (t >= len)
      t = fsub(fsub(len2, t), 1.0f);
  }
  float hi = fsub(len, 1.0f);
  return t > hi ? hi : (t < 0.0f ? 0.0f : t);
}

struct Taps {
  int i0, i1;
  float w0, w1;
};

// Taps of output position x sampling at scale * x + offset (taps_affine).
__device__ Taps
taps_affine(int x, int n, float scale, float offset)
{
  float t = reflect_coord(fadd(fmul(scale, (float)x), offset), n);
  float t0 = floorf(t);
  Taps k;
  k.i0 = (int)t0;
  k.i1 = min(k.i0 + 1, n - 1);
  k.w0 = fsub(fadd(t0, 1.0f), t);
  k.w1 = fsub(t, t0);
  return k;
}

// tf.image.resize bilinear taps (taps_resize); w1 is the lerp factor.
__device__ Taps
taps_resize(int x, int n_out, int n_in)
{
  const float scale = __fdiv_rn((float)n_in, (float)n_out);
  float t = fsub(fmul(fadd((float)x, 0.5f), scale), 0.5f);
  float t0 = floorf(t);
  Taps k;
  int i0 = (int)t0;
  k.i0 = i0 < 0 ? 0 : (i0 > n_in - 1 ? n_in - 1 : i0);
  k.i1 = min((int)ceilf(t), n_in - 1);
  k.w1 = fsub(t, t0);
  k.w0 = fsub(1.0f, k.w1);
  return k;
}

// base (batch, H, W, C), or straight to out (batch, H, W, 3) when rgb_out
// (inference: no warps follow). One thread per output pixel (make_base).
__global__ void
base_kernel(ScCudaAugmentArgs a, const uint8_t *images, const Params *params, float *dst,
            bool rgb_out)
{
  const int H = a.out_h, W = a.out_w, C = a.src_c;
  size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (size_t)a.batch * H * W)
    return;
  int x = (int)(idx % W), y = (int)(idx / W % H);
  size_t img = idx / ((size_t)W * H);
  bool flip = params != NULL && params[img].flip != 0.0f;
  const uint8_t *src = images + img * a.src_h * a.src_w * C;
  float v[3];

  if (a.src_h == H && a.src_w == W) {
    const uint8_t *px = src + ((size_t)y * W + (flip ? W - 1 - x : x)) * C;
    for (int c = 0; c < C; c++)
      v[c] = fmul((float)px[c], RESCALE);
  } else {
    // Resize the stored values, then rescale (Resizing before Rescaling).
    Taps ty = taps_resize(y, H, a.src_h);
    Taps tx = taps_resize(flip ? W - 1 - x : x, W, a.src_w);
    const uint8_t *r0 = src + (size_t)ty.i0 * a.src_w * C;
    const uint8_t *r1 = src + (size_t)ty.i1 * a.src_w * C;
    const int ia = tx.i0 * C, ib = tx.i1 * C;
    for (int c = 0; c < C; c++) {
      float tl = r0[ia + c], tr = r0[ib + c], bl = r1[ia + c], br = r1[ib + c];
      float top = fadd(tl, fmul(fsub(tr, tl), tx.w1));
      float bottom = fadd(bl, fmul(fsub(br, bl), tx.w1));
      v[c] = fmul(fadd(top, fmul(fsub(bottom, top), ty.w1)), RESCALE);
    }
  }

  if (rgb_out) {
    float *d = dst + idx * 3;
    for (int k = 0; k < 3; k++)
      d[k] = v[C == 3 ? k : 0];
  } else {
    float *d = dst + idx * C;
    for (int c = 0; c < C; c++)
      d[c] = v[c];
  }
}

// v[c] = bilinear sample of src (H, W, C) at taps (ty, tx) (resample).
__device__ inline void
sample(const float *src, int W, int C, Taps ty, Taps tx, float *v)
{
  const float *r0 = src + (size_t)ty.i0 * W * C, *r1 = src + (size_t)ty.i1 * W * C;
  const int ia = tx.i0 * C, ib = tx.i1 * C;
  for (int c = 0; c < C; c++) {
    float top = fadd(fmul(tx.w0, r0[ia + c]), fmul(tx.w1, r0[ib + c]));
    float bottom = fadd(fmul(tx.w0, r1[ia + c]), fmul(tx.w1, r1[ib + c]));
    v[c] = fadd(fmul(ty.w0, top), fmul(ty.w1, bottom));
  }
}

// warp = base resampled at (x - dx, y - dy) (RandomTranslation).
__global__ void
translate_kernel(ScCudaAugmentArgs a, const Params *params, const float *base, float *warp)
{
  const int H = a.out_h, W = a.out_w, C = a.src_c;
  size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (size_t)a.batch * H * W)
    return;
  int x = (int)(idx % W), y = (int)(idx / W % H);
  size_t img = idx / ((size_t)W * H);
  const Params *p = &params[img];
  Taps ty = taps_affine(y, H, 1.0f, -p->dy);
  Taps tx = taps_affine(x, W, 1.0f, -p->dx);
  float v[3];
  sample(base + img * H * W * C, W, C, ty, tx, v);
  for (int c = 0; c < C; c++)
    warp[idx * C + c] = v[c];
}

// out = colour(warp resampled at (zx x + cx (1 - zx), ...)) (RandomZoom,
// then RandomColorAffine: out_k = clip(sum_i p_i M[i][k], 0, 1)).
__global__ void
zoom_colour_kernel(ScCudaAugmentArgs a, const Params *params, const float *warp, float *out)
{
  const int H = a.out_h, W = a.out_w, C = a.src_c;
  size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (size_t)a.batch * H * W)
    return;
  int x = (int)(idx % W), y = (int)(idx / W % H);
  size_t img = idx / ((size_t)W * H);
  const Params *p = &params[img];
  const float cy = fmul(0.5f, (float)(H - 1)), cx = fmul(0.5f, (float)(W - 1));
  Taps ty = taps_affine(y, H, p->zy, fmul(cy, fsub(1.0f, p->zy)));
  Taps tx = taps_affine(x, W, p->zx, fmul(cx, fsub(1.0f, p->zx)));
  float v[3];
  sample(warp + img * H * W * C, W, C, ty, tx, v);

  float m[9];
  for (int i = 0; i < 9; i++)
    m[i] = fadd(p->jitter[i], i % 4 == 0 ? p->brightness : 0.0f);
  const float r = v[0], g = v[C == 3 ? 1 : 0], b = v[C == 3 ? 2 : 0];
  for (int k = 0; k < 3; k++) {
    float s = fadd(fadd(fmul(r, m[k]), fmul(g, m[3 + k])), fmul(b, m[6 + k]));
    out[idx * 3 + k] = s > 1.0f ? 1.0f : (s < 0.0f ? 0.0f : s);
  }
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
  return align256((size_t)a->batch * sizeof(Params)) + 2 * align256(raster);
}

extern "C" cudaError_t
sc_cuda_augment(cudaStream_t s, const ScCudaAugmentArgs *a, const uint8_t *images, float *out,
                void *scratch)
{
  if (a->batch <= 0)
    return cudaSuccess;
  size_t raster = (size_t)a->batch * a->out_h * a->out_w * a->src_c * sizeof(float);
  Params *params = (Params *)scratch;
  float *base = (float *)((char *)scratch + align256((size_t)a->batch * sizeof(Params)));
  float *warp = (float *)((char *)base + align256(raster));
  size_t n_px = (size_t)a->batch * a->out_h * a->out_w;

  if (!a->training) {
    base_kernel<<<blocks_for(n_px, 256), 256, 0, s>>>(*a, images, NULL, out, true);
    return cudaGetLastError();
  }
  // zf and hf as sc_augment_draw computes them, on the host in float32.
  const float zf = 1.0f - sqrtf(a->min_area);
  const float hf = 0.5f * zf;
  draw_kernel<<<blocks_for((size_t)a->batch, 128), 128, 0, s>>>(*a, zf, hf, params);
  base_kernel<<<blocks_for(n_px, 256), 256, 0, s>>>(*a, images, params, base, false);
  translate_kernel<<<blocks_for(n_px, 256), 256, 0, s>>>(*a, params, base, warp);
  zoom_colour_kernel<<<blocks_for(n_px, 256), 256, 0, s>>>(*a, params, warp, out);
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
  philox_uniforms_kernel<<<blocks_for((size_t)n, 128), 128, 0, s>>>(seed, purpose, epoch, step,
                                                                     index, n, out);
  return cudaGetLastError();
}
