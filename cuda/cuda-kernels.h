/* Launchers of the CUDA backend's own kernels, callable from C.
 *
 * Each launcher queues its kernels on `stream` and returns the launch
 * status (cudaSuccess or the error of the launch); failures during the run
 * show at the next synchronisation. Pointers are device memory unless a
 * comment says "host". Shapes are written next to each buffer. */
#pragma once

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Elementwise and reductions (cuda-kernels.cu) ---- */

/* y (rows, cols) += bias (cols). */
cudaError_t sc_cuda_bias_add(cudaStream_t s, int rows, int cols, float *y, const float *bias);
/* dbias (cols) = column sums of dy (rows, cols), summed in double.
 * partial: scratch of sc_cuda_bias_grad_scratch(cols) doubles. */
size_t sc_cuda_bias_grad_scratch(int cols);
cudaError_t sc_cuda_bias_grad(cudaStream_t s, int rows, int cols, const float *dy,
                              float *dbias, double *partial);
cudaError_t sc_cuda_relu_forward(cudaStream_t s, size_t n, const float *x, float *y);
cudaError_t sc_cuda_relu_backward(cudaStream_t s, size_t n, const float *y, const float *dy,
                                  float *dx);
cudaError_t sc_cuda_adam_update(cudaStream_t s, size_t n, float *params, const float *grads,
                                float *m, float *v, float lr_t, float beta1, float beta2,
                                float epsilon);

/* Weights between our HWIO (kh, kw, ci, co) and cuDNN's NHWC filter layout
 * KRSC = OHWI (co, kh, kw, ci). */
cudaError_t sc_cuda_hwio_to_ohwi(cudaStream_t s, int kh, int kw, int ci, int co,
                                 const float *hwio, float *ohwi);
cudaError_t sc_cuda_ohwi_to_hwio(cudaStream_t s, int kh, int kw, int ci, int co,
                                 const float *ohwi, float *hwio);

/* Zero padding of NHWC images for asymmetric padding, which cuDNN lacks:
 * dst (n, h + top + bottom, w + left + right, c) from src (n, h, w, c). */
cudaError_t sc_cuda_pad_nhwc(cudaStream_t s, int n, int h, int w, int c, int top,
                             int bottom, int left, int right, const float *src, float *dst);
/* The inverse crop: dst (n, h, w, c) = the interior of src. */
cudaError_t sc_cuda_crop_nhwc(cudaStream_t s, int n, int h, int w, int c, int top,
                              int bottom, int left, int right, const float *src, float *dst);

/* dst (n, row_bytes) = rows at indices (n); a batch gathered from a data
 * set kept on the device. */
cudaError_t sc_cuda_gather_rows(cudaStream_t s, const void *rows, size_t row_bytes,
                                const int32_t *indices, size_t n, void *dst);

/* bfloat16 as its 16 bits: dst (n) = src rounded to nearest even (NaN
 * stays NaN), and back (exact). */
cudaError_t sc_cuda_float_to_bf16(cudaStream_t s, size_t n, const float *src, uint16_t *dst);
cudaError_t sc_cuda_bf16_to_float(cudaStream_t s, size_t n, const uint16_t *src, float *dst);

/* ---- Losses (cuda-kernels.cu) ---- */

/* Sparse softmax cross-entropy of logits (n, k) with labels (n); loss (n)
 * and dlogits (n, k) may be NULL; *correct (device, one counter) gets the
 * number of rows whose first argmax is the label added to it. */
cudaError_t sc_cuda_softmax_xent(cudaStream_t s, int n, int k, const float *logits,
                                 const int32_t *labels, float grad_scale, float *loss,
                                 float *dlogits, unsigned long long *correct);

/* NT-Xent building blocks; the backend chains them with cuBLAS products.
 * z (rows, dim) = p / max(||p||, eps); inv (rows) = 1 / max(||p||, eps);
 * clamped (rows) = 1 where the clamp was active. */
cudaError_t sc_cuda_l2_normalize(cudaStream_t s, int rows, int dim, const float *p, float *z,
                                 double *inv, int *clamped);
/* dp (rows, dim) = inv * (g - z (z . g)), or inv * g where clamped. */
cudaError_t sc_cuda_l2_normalize_backward(cudaStream_t s, int rows, int dim, const float *z,
                                          const double *inv, const int *clamped,
                                          const float *g, float *dp);
/* Row softmax cross-entropy of s (rows, cols) in place: row r's target is
 * (r + shift) % cols; exclude_self drops (r, r). s becomes the softmax (0 on
 * the dropped entry), row_loss (rows) = logsumexp - target logit, and
 * *correct gets the rows whose first argmax is the target added. */
cudaError_t sc_cuda_softmax_rows(cudaStream_t s, int rows, int cols, int shift,
                                 int exclude_self, float *sm, double *row_loss,
                                 unsigned long long *correct);
/* dst (cols, rows) = src (rows, cols) transposed. */
cudaError_t sc_cuda_transpose(cudaStream_t s, int rows, int cols, const float *src,
                              float *dst);
/* loss (b) = (a[i] + c[i]) / 2, rounded to float; a, c (b). */
cudaError_t sc_cuda_mean_pair(cudaStream_t s, int b, const double *a, const double *c,
                              float *loss);
/* Cross-view: g (b, b) = (p + q^T) / 2 - I, p = g in place, q (b, b). */
cudaError_t sc_cuda_ntxent_cross_grad(cudaStream_t s, int b, float *g, const float *q);
/* Full: s (v, v) -= 1 at (r, (r + b) % v), then s = (s + s^T) / 2. */
cudaError_t sc_cuda_ntxent_full_grad(cudaStream_t s, int b, float *sm);

/* ---- Augmentation (cuda-augment.cu) ---- */

/* The batch's fixed arguments; mirrors ScAugmentBatch without the images. */
typedef struct {
  int batch;
  int src_h, src_w, src_c;
  int out_h, out_w;
  int training;
  float min_area, brightness, jitter;
  uint64_t seed;
  uint32_t purpose, epoch, step;
} ScCudaAugmentArgs;

/* Bytes of device scratch sc_cuda_augment needs for these arguments. */
size_t sc_cuda_augment_scratch_bytes(const ScCudaAugmentArgs *a);
/* images (batch, src_h, src_w, src_c) uint8 -> out (batch, out_h, out_w, 3). */
cudaError_t sc_cuda_augment(cudaStream_t s, const ScCudaAugmentArgs *a, const uint8_t *images,
                            float *out, void *scratch);
/* out (n) = the first n uniforms of stream (seed, purpose, epoch, step,
 * index), drawn on the device: a check that both sides agree. */
cudaError_t sc_cuda_philox_uniforms(cudaStream_t s, uint64_t seed, uint32_t purpose,
                                    uint32_t epoch, uint32_t step, uint32_t index, int n,
                                    float *out);

#ifdef __cplusplus
}
#endif
