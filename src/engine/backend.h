/* The backend operation table.
 *
 * Layers, losses, the optimizer and the trainer call these operations and
 * never know which device runs them. All tensors are float32, NHWC for
 * images and row-major (rows = samples) for matrices. Every pointer passed
 * to an operation is memory of that backend (from alloc), except where a
 * comment says "host".
 *
 * Operations do not fail on valid arguments; a backend whose device can fail
 * asynchronously reports that from sync(). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  SC_PADDING_VALID, /* no padding: out = floor((in - k) / stride) + 1 */
  SC_PADDING_SAME,  /* TensorFlow's: out = ceil(in / stride), extra pad at bottom/right */
} ScPadding;

/* Shapes of one 2-D convolution. Weights are HWIO (k_h, k_w, in_c, out_c),
 * as Keras stores them; cross-correlation, dilation 1. */
typedef struct {
  int batch;
  int in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int k_h, k_w;
  int stride;
  int pad_top, pad_left;     /* padding before the first row / column */
  int pad_bottom, pad_right; /* padding after the last row / column */
} ScConvDesc;

/* Fills desc; fails when the output would be empty. */
gboolean sc_conv_desc_init(ScConvDesc *desc, int batch, int in_h, int in_w, int in_c,
                           int out_c, int k_h, int k_w, int stride, ScPadding padding,
                           GError **error);

typedef enum {
  SC_NTXENT_CROSS_VIEW, /* the Keras example: B x B cross-view logits, symmetric */
  SC_NTXENT_FULL,       /* the SimCLR paper: 2B x 2B, both views as negatives */
} ScNtxentVariant;

typedef struct {
  int batch;        /* B >= 2 */
  int dim;          /* D, projection size */
  float temperature;
  ScNtxentVariant variant;
  const float *p1;  /* (B, D) projections of the first views */
  const float *p2;  /* (B, D) projections of the second views */
  float *loss;      /* (B) per-sample loss, the mean of both directions */
  float *dp1;       /* (B, D) gradient of the SUM of loss[] w.r.t. p1; NULL: forward only */
  float *dp2;       /* (B, D) likewise for p2 */
  int64_t *n_correct; /* host: correct rows out of 2B (both directions) */
} ScNtxentArgs;

typedef struct {
  float min_area;   /* zoom and translation: zf = 1 - sqrt(min_area) */
  float brightness; /* brightness scale 1 + U(-b, b) */
  float jitter;     /* colour matrix entries U(-j, j) */
} ScAugmentStrength;

/* One batch of images to augment. Image i of the batch draws its random
 * numbers from ScRng(seed, purpose, epoch, step, index = i). */
typedef struct {
  const uint8_t *images;  /* (batch, src_h, src_w, src_c) uint8 HWC */
  int batch;
  int src_h, src_w, src_c; /* src_c is 1 (grey, copied to 3) or 3 */
  int out_h, out_w;       /* output is (batch, out_h, out_w, 3) float in [0, 1] */
  bool training;          /* false: rescale (and resize) only */
  ScAugmentStrength strength;
  uint64_t seed;
  uint32_t purpose, epoch, step;
} ScAugmentBatch;

typedef struct _ScBackend ScBackend;

typedef struct {
  const char *name;
  /* Backend memory is host memory: host data can be used in place. */
  bool memory_is_host;
  void (*destroy)(ScBackend *be);

  /* Memory. alloc returns NULL when out of memory. */
  void *(*alloc)(ScBackend *be, size_t bytes);
  void (*free)(ScBackend *be, void *ptr);
  void (*upload)(ScBackend *be, void *dst, const void *host_src, size_t bytes);
  void (*download)(ScBackend *be, void *host_dst, const void *src, size_t bytes);
  void (*copy)(ScBackend *be, void *dst, const void *src, size_t bytes);
  void (*zero)(ScBackend *be, void *dst, size_t bytes);
  /* Waits for queued work; reports a device failure. */
  gboolean (*sync)(ScBackend *be, GError **error);

  /* C(m, n) = alpha * op(A) * op(B) + beta * C, row-major;
   * op(A) is (m, k) and op(B) is (k, n). */
  void (*gemm)(ScBackend *be, bool trans_a, bool trans_b, int m, int n, int k,
               float alpha, const float *a, int lda, const float *b, int ldb,
               float beta, float *c, int ldc);

  /* y = conv(x, w) + bias; x (batch, in_h, in_w, in_c), y (batch, out_h, out_w, out_c). */
  void (*conv2d_forward)(ScBackend *be, const ScConvDesc *d, const float *x,
                         const float *w, const float *bias, float *y);
  /* Overwrites dw (HWIO) and dbias (out_c), and dx when it is not NULL. */
  void (*conv2d_backward)(ScBackend *be, const ScConvDesc *d, const float *x,
                          const float *w, const float *dy, float *dx, float *dw,
                          float *dbias);

  /* y[r][c] += bias[c] for a (rows, cols) matrix. */
  void (*bias_add)(ScBackend *be, int rows, int cols, float *y, const float *bias);
  /* dbias[c] = sum over r of dy[r][c]. */
  void (*bias_grad)(ScBackend *be, int rows, int cols, const float *dy, float *dbias);
  /* y = max(x, 0); x == y allowed. */
  void (*relu_forward)(ScBackend *be, size_t n, const float *x, float *y);
  /* dx = dy where y > 0, else 0; dy == dx allowed. */
  void (*relu_backward)(ScBackend *be, size_t n, const float *y, const float *dy, float *dx);

  /* Sparse softmax cross-entropy from logits (n, k), labels (n) in [0, k).
   * loss (n): per-sample loss. dlogits (n, k), may be NULL:
   * grad_scale * (softmax - onehot). n_correct (host): argmax == label. */
  void (*softmax_xent)(ScBackend *be, int n, int k, const float *logits,
                       const int32_t *labels, float grad_scale, float *loss,
                       float *dlogits, int64_t *n_correct);

  /* NT-Xent with L2 normalisation inside (see ScNtxentArgs). */
  void (*ntxent)(ScBackend *be, const ScNtxentArgs *args);

  /* One Adam update of n parameters with the step size already corrected:
   * m += (1-b1)(g-m); v += (1-b2)(g^2-v); p -= lr_t * m / (sqrt(v) + eps). */
  void (*adam_update)(ScBackend *be, size_t n, float *params, const float *grads,
                      float *m, float *v, float lr_t, float beta1, float beta2,
                      float epsilon);

  /* dst (n, row_bytes) = rows (count, row_bytes) at indices (n, backend
   * memory); indices must be < count. Gathers batches from a data set kept
   * on the backend. */
  void (*gather_rows)(ScBackend *be, const void *rows, size_t row_bytes,
                      const int32_t *indices, size_t n, void *dst);

  /* Augments a batch into out (batch, out_h, out_w, 3). */
  void (*augment)(ScBackend *be, const ScAugmentBatch *batch, float *out);
} ScBackendOps;

struct _ScBackend {
  const ScBackendOps *ops;
  int threads; /* CPU threads the backend may use; 0 = library default */
};

/* The CPU backend; threads = 0 keeps the libraries' default. */
ScBackend *sc_backend_cpu_new(int threads, GError **error);
/* "cpu", or "cuda" with its default precision (TF32), or "cuda-fp32",
 * "cuda-tf32", "cuda-bf16" (cuda/sc-cuda.h); fails with
 * SC_ERROR_UNSUPPORTED when unavailable. */
ScBackend *sc_backend_new(const char *name, int threads, GError **error);
/* Whether name is one of the above (whether or not this build has it). */
gboolean sc_backend_name_valid(const char *name);
void sc_backend_free(ScBackend *be);

/* Allocation that reports failure as a GError naming what was allocated. */
void *sc_backend_alloc(ScBackend *be, size_t bytes, const char *what, GError **error);

G_END_DECLS
