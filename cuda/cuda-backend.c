/* The CUDA backend: device memory, cuBLAS for matrix products, our kernels
 * (cuda-kernels.cu, cuda-augment.cu) for the rest, cuDNN for convolutions
 * (cuda-conv.c). Everything runs on one non-blocking stream; only download,
 * sync and the metrics that come back to the host wait for it.
 *
 * TODO: CUDA Graphs for the training step; bf16 activations kept between
 * layers (BF16 mode converts around each product and convolution). */
#include "cuda-backend-private.h"

#include "cuda-gemm.h"
#include "cuda-kernels.h"
#include "src/engine/sc-error.h"

#include <string.h>

/* This build carries machine code for compute capability 9.0 (and PTX for
 * 9.0, which newer devices compile at load time). */
#define SC_CUDA_MIN_MAJOR 9

/* Scratch carving: every piece starts on a 256-byte boundary. */
#define SC_CUDA_ALIGN 256

static size_t
align_up(size_t n)
{
  return (n + SC_CUDA_ALIGN - 1) / SC_CUDA_ALIGN * SC_CUDA_ALIGN;
}

/* ---- Errors ---- */

void
sc_cuda_fail(ScCudaBackend *cuda, GError *error)
{
  g_mutex_lock(&cuda->lock);
  if (cuda->pending == NULL) {
    g_warning("CUDA backend: %s", error->message);
    cuda->pending = error;
  } else {
    g_error_free(error);
  }
  g_mutex_unlock(&cuda->lock);
}

gboolean
sc_cuda_check(ScCudaBackend *cuda, cudaError_t status, const char *what)
{
  if (status == cudaSuccess)
    return TRUE;
  ScErrorCode code = status == cudaErrorMemoryAllocation ? SC_ERROR_OUT_OF_MEMORY
                                                         : SC_ERROR_UNSUPPORTED;
  sc_cuda_fail(cuda, g_error_new(SC_BACKEND_ERROR, code, "CUDA backend: %s failed: %s (%s)",
                                 what, cudaGetErrorString(status), cudaGetErrorName(status)));
  return FALSE;
}

gboolean
sc_cublas_check(ScCudaBackend *cuda, cublasStatus_t status, const char *what)
{
  if (status == CUBLAS_STATUS_SUCCESS)
    return TRUE;
  ScErrorCode code = status == CUBLAS_STATUS_ALLOC_FAILED ? SC_ERROR_OUT_OF_MEMORY
                                                          : SC_ERROR_UNSUPPORTED;
  sc_cuda_fail(cuda, g_error_new(SC_BACKEND_ERROR, code, "CUDA backend: cuBLAS %s failed: %s",
                                 what, cublasGetStatusString(status)));
  return FALSE;
}

gboolean
sc_cudnn_check(ScCudaBackend *cuda, cudnnStatus_t status, const char *what)
{
  if (status == CUDNN_STATUS_SUCCESS)
    return TRUE;
  ScErrorCode code = status == CUDNN_STATUS_ALLOC_FAILED ? SC_ERROR_OUT_OF_MEMORY
                                                         : SC_ERROR_UNSUPPORTED;
  sc_cuda_fail(cuda, g_error_new(SC_BACKEND_ERROR, code, "CUDA backend: cuDNN %s failed: %s",
                                 what, cudnnGetErrorString(status)));
  return FALSE;
}

/* ---- Memory ---- */

static void
count_bytes(ScCudaBackend *cuda, void *ptr, size_t bytes, gboolean add)
{
  g_mutex_lock(&cuda->lock);
  if (add) {
    g_hash_table_insert(cuda->sizes, ptr, GSIZE_TO_POINTER(bytes));
    cuda->bytes_in_use += bytes;
    cuda->bytes_peak = MAX(cuda->bytes_peak, cuda->bytes_in_use);
  } else {
    cuda->bytes_in_use -= GPOINTER_TO_SIZE(g_hash_table_lookup(cuda->sizes, ptr));
    g_hash_table_remove(cuda->sizes, ptr);
  }
  g_mutex_unlock(&cuda->lock);
}

static void *
cuda_alloc(ScBackend *be, size_t bytes)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  void *ptr = NULL;
  if (cudaMalloc(&ptr, MAX(bytes, 1)) != cudaSuccess) {
    /* Out of memory is not sticky: clear it so later calls work. */
    (void)cudaGetLastError();
    return NULL;
  }
  count_bytes(cuda, ptr, MAX(bytes, 1), TRUE);
  return ptr;
}

static void
cuda_free(ScBackend *be, void *ptr)
{
  if (ptr == NULL)
    return;
  ScCudaBackend *cuda = sc_cuda_backend(be);
  count_bytes(cuda, ptr, 0, FALSE);
  sc_cuda_check(cuda, cudaFree(ptr), "cudaFree");
}

void *
sc_cuda_scratch(ScCudaBackend *cuda, ScCudaScratch slot, size_t bytes)
{
  if (cuda->scratch[slot] != NULL && cuda->scratch_bytes[slot] >= bytes)
    return cuda->scratch[slot];
  /* cudaFree waits for the queued work that may still read the old one. */
  cuda_free(&cuda->base, cuda->scratch[slot]);
  cuda->scratch[slot] = NULL;
  cuda->scratch_bytes[slot] = 0;
  /* Grow by half again, so slowly rising needs do not reallocate each time;
   * the cuDNN workspace is asked for at its limit already. */
  size_t want = align_up(MAX(bytes, 1) + (slot == SC_CUDA_SCRATCH_WS ? 0 : bytes / 2));
  void *ptr = cuda_alloc(&cuda->base, want);
  if (ptr == NULL) {
    sc_cuda_fail(cuda, g_error_new(SC_BACKEND_ERROR, SC_ERROR_OUT_OF_MEMORY,
                                   "CUDA backend: out of device memory for %.1f MiB of "
                                   "scratch (slot %d)",
                                   want / 1048576.0, (int)slot));
    return NULL;
  }
  cuda->scratch[slot] = ptr;
  cuda->scratch_bytes[slot] = want;
  return ptr;
}

static void
cuda_upload(ScBackend *be, void *dst, const void *host_src, size_t bytes)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  if (bytes > 0)
    /* From pageable memory this returns once the source has been read. */
    sc_cuda_check(cuda, cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice,
                                        cuda->stream),
                  "upload");
}

static void
cuda_download(ScBackend *be, void *host_dst, const void *src, size_t bytes)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  if (bytes == 0)
    return;
  if (sc_cuda_check(cuda, cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost,
                                          cuda->stream),
                    "download"))
    sc_cuda_check(cuda, cudaStreamSynchronize(cuda->stream), "download");
}

static void
cuda_copy(ScBackend *be, void *dst, const void *src, size_t bytes)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  if (dst != src && bytes > 0)
    sc_cuda_check(cuda, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice,
                                        cuda->stream),
                  "copy");
}

static void
cuda_zero(ScBackend *be, void *dst, size_t bytes)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  if (bytes > 0)
    sc_cuda_check(cuda, cudaMemsetAsync(dst, 0, bytes, cuda->stream), "zero");
}

static gboolean
cuda_sync(ScBackend *be, GError **error)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  sc_cuda_check(cuda, cudaStreamSynchronize(cuda->stream), "stream synchronisation");
  g_mutex_lock(&cuda->lock);
  GError *pending = g_steal_pointer(&cuda->pending);
  g_mutex_unlock(&cuda->lock);
  if (pending != NULL) {
    g_propagate_error(error, pending);
    return FALSE;
  }
  return TRUE;
}

/* ---- Matrix products ---- */

/* Row-major C = op(A) op(B) through cuBLAS (cuda-gemm.h). precise keeps
 * float32 whatever the precision (the losses' logits). */
static void
gemm_rowmajor(ScCudaBackend *cuda, gboolean precise, bool trans_a, bool trans_b, int m, int n,
              int k, float alpha, const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc)
{
  if (m <= 0 || n <= 0)
    return;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  if (!precise && cuda->precision == SC_CUDA_PRECISION_TF32)
    compute = CUBLAS_COMPUTE_32F_FAST_TF32;
  else if (!precise && cuda->precision == SC_CUDA_PRECISION_BF16)
    compute = CUBLAS_COMPUTE_32F_FAST_16BF;
  ScCublasGemm g = sc_cublas_gemm_rowmajor(trans_a, trans_b, m, n, k, a, lda, b, ldb);
  sc_cublas_check(cuda,
                  cublasGemmEx(cuda->cublas, g.op_a, g.op_b, g.m, g.n, g.k, &alpha, g.a,
                               CUDA_R_32F, g.lda, g.b, CUDA_R_32F, g.ldb, &beta, c,
                               CUDA_R_32F, ldc, compute, CUBLAS_GEMM_DEFAULT),
                  "gemm");
}

static void
cuda_gemm(ScBackend *be, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
          const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  gemm_rowmajor(sc_cuda_backend(be), FALSE, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
}

/* ---- Elementwise ---- */

static void
cuda_bias_add(ScBackend *be, int rows, int cols, float *y, const float *bias)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  sc_cuda_check(cuda, sc_cuda_bias_add(cuda->stream, rows, cols, y, bias), "bias_add");
}

static void
cuda_bias_grad(ScBackend *be, int rows, int cols, const float *dy, float *dbias)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  double *partial = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_BIAS,
                                    sc_cuda_bias_grad_scratch(cols) * sizeof(double));
  if (partial != NULL)
    sc_cuda_check(cuda, sc_cuda_bias_grad(cuda->stream, rows, cols, dy, dbias, partial),
                  "bias_grad");
}

static void
cuda_relu_forward(ScBackend *be, size_t n, const float *x, float *y)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  sc_cuda_check(cuda, sc_cuda_relu_forward(cuda->stream, n, x, y), "relu_forward");
}

static void
cuda_relu_backward(ScBackend *be, size_t n, const float *y, const float *dy, float *dx)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  sc_cuda_check(cuda, sc_cuda_relu_backward(cuda->stream, n, y, dy, dx), "relu_backward");
}

static void
cuda_adam_update(ScBackend *be, size_t n, float *params, const float *grads, float *m,
                 float *v, float lr_t, float beta1, float beta2, float epsilon)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  sc_cuda_check(cuda,
                sc_cuda_adam_update(cuda->stream, n, params, grads, m, v, lr_t, beta1, beta2,
                                    epsilon),
                "adam_update");
}

/* ---- Losses ---- */

/* Zeroes the device counter before a kernel adds to it. */
static gboolean
counter_reset(ScCudaBackend *cuda)
{
  return sc_cuda_check(cuda,
                       cudaMemsetAsync(cuda->counter, 0, sizeof(*cuda->counter), cuda->stream),
                       "counter reset");
}

/* *host = the counter (waits for the stream); 0 after a failure. */
static void
counter_read(ScCudaBackend *cuda, int64_t *host)
{
  unsigned long long value = 0;
  cuda_download(&cuda->base, &value, cuda->counter, sizeof(value));
  *host = (int64_t)value;
}

static void
cuda_softmax_xent(ScBackend *be, int n, int k, const float *logits, const int32_t *labels,
                  float grad_scale, float *loss, float *dlogits, int64_t *n_correct)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  if (!counter_reset(cuda))
    return;
  if (!sc_cuda_check(cuda,
                     sc_cuda_softmax_xent(cuda->stream, n, k, logits, labels, grad_scale, loss,
                                          dlogits, cuda->counter),
                     "softmax_xent"))
    return;
  if (n_correct != NULL)
    counter_read(cuda, n_correct);
}

/* Scratch of one NT-Xent call, carved from one buffer; v = B (cross-view)
 * or 2B (full) rows of S. */
typedef struct {
  float *z;      /* (2B, D) normalised views, z1 on top of z2 */
  float *s;      /* (v, v) logits, softmax, then dS */
  float *st;     /* (B, B) cross-view: S^T, then its softmax */
  float *dz;     /* (2B, D) */
  double *inv;   /* (2B) */
  double *rloss; /* (v) */
  double *closs; /* (B) */
  int *clamped;  /* (2B) */
} NtxentScratch;

static gboolean
ntxent_scratch(ScCudaBackend *cuda, int b, int dim, int v, NtxentScratch *w)
{
  const size_t sizes[] = {
    (size_t)2 * b * dim * sizeof(float), (size_t)v * v * sizeof(float),
    (size_t)b * b * sizeof(float),       (size_t)2 * b * dim * sizeof(float),
    (size_t)2 * b * sizeof(double),      (size_t)v * sizeof(double),
    (size_t)b * sizeof(double),          (size_t)2 * b * sizeof(int),
  };
  size_t total = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
    total += align_up(sizes[i]);
  char *p = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_LOSS, total);
  if (p == NULL)
    return FALSE;
  void *parts[G_N_ELEMENTS(sizes)];
  for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
    parts[i] = p;
    p += align_up(sizes[i]);
  }
  *w = (NtxentScratch){ parts[0], parts[1], parts[2], parts[3],
                        parts[4], parts[5], parts[6], parts[7] };
  return TRUE;
}

/* The same steps as the CPU's ntxent_cross_view and ntxent_full
 * (cpu-loss.c), each a kernel or a float32 cuBLAS product. */
static gboolean
ntxent_queue(ScCudaBackend *cuda, const ScNtxentArgs *a, const NtxentScratch *w)
{
  const int b = a->batch, dim = a->dim;
  const float inv_t = 1.0f / a->temperature;
  cudaStream_t s = cuda->stream;
  float *z1 = w->z, *z2 = w->z + (size_t)b * dim;

  if (!sc_cuda_check(cuda, sc_cuda_l2_normalize(s, b, dim, a->p1, z1, w->inv, w->clamped),
                     "NT-Xent normalisation")
      || !sc_cuda_check(cuda,
                        sc_cuda_l2_normalize(s, b, dim, a->p2, z2, w->inv + b, w->clamped + b),
                        "NT-Xent normalisation"))
    return FALSE;

  if (a->variant == SC_NTXENT_FULL) {
    const int v = 2 * b;
    gemm_rowmajor(cuda, TRUE, false, true, v, v, dim, inv_t, w->z, dim, w->z, dim, 0.0f, w->s,
                  v);
    if (!sc_cuda_check(cuda, sc_cuda_softmax_rows(s, v, v, b, 1, w->s, w->rloss, cuda->counter),
                       "NT-Xent softmax")
        || !sc_cuda_check(cuda, sc_cuda_mean_pair(s, b, w->rloss, w->rloss + b, a->loss),
                          "NT-Xent loss"))
      return FALSE;
    if (a->dp1 == NULL)
      return TRUE;
    if (!sc_cuda_check(cuda, sc_cuda_ntxent_full_grad(s, b, w->s), "NT-Xent gradient"))
      return FALSE;
    gemm_rowmajor(cuda, TRUE, false, false, v, dim, v, inv_t, w->s, v, w->z, dim, 0.0f, w->dz,
                  dim);
  } else {
    gemm_rowmajor(cuda, TRUE, false, true, b, b, dim, inv_t, z1, dim, z2, dim, 0.0f, w->s, b);
    if (!sc_cuda_check(cuda, sc_cuda_transpose(s, b, b, w->s, w->st), "NT-Xent transpose")
        || !sc_cuda_check(cuda, sc_cuda_softmax_rows(s, b, b, 0, 0, w->s, w->rloss, cuda->counter),
                          "NT-Xent softmax")
        || !sc_cuda_check(cuda,
                          sc_cuda_softmax_rows(s, b, b, 0, 0, w->st, w->closs, cuda->counter),
                          "NT-Xent softmax")
        || !sc_cuda_check(cuda, sc_cuda_mean_pair(s, b, w->rloss, w->closs, a->loss),
                          "NT-Xent loss"))
      return FALSE;
    if (a->dp1 == NULL)
      return TRUE;
    if (!sc_cuda_check(cuda, sc_cuda_ntxent_cross_grad(s, b, w->s, w->st), "NT-Xent gradient"))
      return FALSE;
    /* dz1 = G z2 / T, dz2 = G^T z1 / T. */
    gemm_rowmajor(cuda, TRUE, false, false, b, dim, b, inv_t, w->s, b, z2, dim, 0.0f, w->dz,
                  dim);
    gemm_rowmajor(cuda, TRUE, true, false, b, dim, b, inv_t, w->s, b, z1, dim, 0.0f,
                  w->dz + (size_t)b * dim, dim);
  }
  return sc_cuda_check(cuda,
                       sc_cuda_l2_normalize_backward(s, b, dim, z1, w->inv, w->clamped, w->dz,
                                                     a->dp1),
                       "NT-Xent normalisation backward")
         && sc_cuda_check(cuda,
                          sc_cuda_l2_normalize_backward(s, b, dim, z2, w->inv + b,
                                                        w->clamped + b,
                                                        w->dz + (size_t)b * dim, a->dp2),
                          "NT-Xent normalisation backward");
}

static void
cuda_ntxent(ScBackend *be, const ScNtxentArgs *a)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  const int v = a->variant == SC_NTXENT_FULL ? 2 * a->batch : a->batch;
  NtxentScratch w;
  if (!ntxent_scratch(cuda, a->batch, a->dim, v, &w) || !counter_reset(cuda))
    return;
  if (ntxent_queue(cuda, a, &w) && a->n_correct != NULL)
    counter_read(cuda, a->n_correct);
}

/* ---- Augmentation ---- */

static void
cuda_augment(ScBackend *be, const ScAugmentBatch *b, float *out)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  ScCudaAugmentArgs args = {
    .batch = b->batch, .src_h = b->src_h, .src_w = b->src_w, .src_c = b->src_c,
    .out_h = b->out_h, .out_w = b->out_w, .training = b->training,
    .min_area = b->strength.min_area, .brightness = b->strength.brightness,
    .jitter = b->strength.jitter, .seed = b->seed, .purpose = b->purpose,
    .epoch = b->epoch, .step = b->step,
  };
  g_return_if_fail(b->src_c == 1 || b->src_c == 3);
  void *scratch = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_AUGMENT,
                                  sc_cuda_augment_scratch_bytes(&args));
  if (scratch != NULL)
    sc_cuda_check(cuda, sc_cuda_augment(cuda->stream, &args, b->images, out, scratch),
                  "augment");
}

/* ---- The table ---- */

static void
cuda_destroy(ScBackend *be)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  if (cuda->stream != NULL)
    (void)cudaStreamSynchronize(cuda->stream);
  sc_cuda_conv_free(cuda->conv);
  for (int i = 0; i < SC_CUDA_SCRATCH_COUNT; i++)
    cuda_free(be, cuda->scratch[i]);
  cuda_free(be, cuda->counter);
  if (cuda->cudnn != NULL)
    cudnnDestroy(cuda->cudnn);
  if (cuda->cublas != NULL)
    cublasDestroy(cuda->cublas);
  if (cuda->stream != NULL)
    cudaStreamDestroy(cuda->stream);
  g_clear_pointer(&cuda->sizes, g_hash_table_unref);
  g_clear_error(&cuda->pending);
  g_mutex_clear(&cuda->lock);
  g_free(cuda);
}

static void
cuda_gather_rows(ScBackend *be, const void *rows, size_t row_bytes, const int32_t *indices,
                 size_t n, void *dst)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  if (n > 0 && row_bytes > 0)
    sc_cuda_check(cuda, sc_cuda_gather_rows(cuda->stream, rows, row_bytes, indices, n, dst),
                  "gather_rows");
}

static const ScBackendOps cuda_ops = {
  .name = "cuda",
  .destroy = cuda_destroy,
  .alloc = cuda_alloc,
  .free = cuda_free,
  .upload = cuda_upload,
  .download = cuda_download,
  .copy = cuda_copy,
  .zero = cuda_zero,
  .sync = cuda_sync,
  .gemm = cuda_gemm,
  .conv2d_forward = sc_cuda_conv2d_forward,
  .conv2d_backward = sc_cuda_conv2d_backward,
  .bias_add = cuda_bias_add,
  .bias_grad = cuda_bias_grad,
  .relu_forward = cuda_relu_forward,
  .relu_backward = cuda_relu_backward,
  .softmax_xent = cuda_softmax_xent,
  .ntxent = cuda_ntxent,
  .adam_update = cuda_adam_update,
  .gather_rows = cuda_gather_rows,
  .augment = cuda_augment,
};

gboolean
sc_backend_is_cuda(const ScBackend *be)
{
  return be != NULL && be->ops == &cuda_ops;
}

/* Picks device 0 (CUDA_VISIBLE_DEVICES chooses which GPU that is) or says
 * why none is usable. */
static gboolean
find_device(ScCudaBackend *cuda, GError **error)
{
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    /* With no driver loaded the runtime says "insufficient driver version",
     * which reads as if an update would help. */
    if (!g_file_test("/proc/driver/nvidia/version", G_FILE_TEST_EXISTS))
      g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                  "No usable GPU: no NVIDIA driver is loaded on this machine "
                  "(/proc/driver/nvidia/version does not exist; CUDA said %s); use "
                  "--backend cpu", cudaGetErrorName(status));
    else
      g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                  "No usable GPU: cudaGetDeviceCount failed with error %d, %s (%s); use "
                  "--backend cpu", (int)status, cudaGetErrorString(status),
                  cudaGetErrorName(status));
    return FALSE;
  }
  if (count == 0) {
    const char *visible = g_getenv("CUDA_VISIBLE_DEVICES");
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                "No usable GPU: the driver sees no CUDA device (CUDA_VISIBLE_DEVICES=%s); "
                "use --backend cpu",
                visible != NULL ? visible : "unset");
    return FALSE;
  }
  struct cudaDeviceProp prop;
  status = cudaGetDeviceProperties(&prop, 0);
  if (status != cudaSuccess) {
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                "No usable GPU: cudaGetDeviceProperties(0) failed: %s",
                cudaGetErrorString(status));
    return FALSE;
  }
  if (prop.major < SC_CUDA_MIN_MAJOR) {
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                "No usable GPU: %s has compute capability %d.%d, this build has code for "
                "%d.0 and newer; use --backend cpu",
                prop.name, prop.major, prop.minor, SC_CUDA_MIN_MAJOR);
    return FALSE;
  }
  cuda->device = 0;
  g_strlcpy(cuda->device_name, prop.name, sizeof(cuda->device_name));
  return TRUE;
}

static gboolean
start_libraries(ScCudaBackend *cuda, GError **error)
{
  cudaError_t status = cudaSetDevice(cuda->device);
  if (status == cudaSuccess)
    status = cudaStreamCreateWithFlags(&cuda->stream, cudaStreamNonBlocking);
  if (status == cudaSuccess)
    status = cudaMalloc((void **)&cuda->counter, sizeof(*cuda->counter));
  if (status != cudaSuccess) {
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                "No usable GPU: starting %s failed: %s", cuda->device_name,
                cudaGetErrorString(status));
    return FALSE;
  }
  count_bytes(cuda, cuda->counter, sizeof(*cuda->counter), TRUE);

  cublasStatus_t bs = cublasCreate(&cuda->cublas);
  if (bs == CUBLAS_STATUS_SUCCESS)
    bs = cublasSetStream(cuda->cublas, cuda->stream);
  if (bs != CUBLAS_STATUS_SUCCESS) {
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                "No usable GPU: cuBLAS did not start: %s", cublasGetStatusString(bs));
    return FALSE;
  }
  cudnnStatus_t ds = cudnnCreate(&cuda->cudnn);
  if (ds == CUDNN_STATUS_SUCCESS)
    ds = cudnnSetStream(cuda->cudnn, cuda->stream);
  if (ds != CUDNN_STATUS_SUCCESS) {
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                "No usable GPU: cuDNN %zu did not start: %s", cudnnGetVersion(),
                cudnnGetErrorString(ds));
    return FALSE;
  }
  return TRUE;
}

ScBackend *
sc_backend_cuda_new(int threads, GError **error)
{
  if (threads < 0) {
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "CUDA backend: threads must be 0 (library default) or more, not %d",
                threads);
    return NULL;
  }
  ScCudaBackend *cuda = g_new0(ScCudaBackend, 1);
  cuda->base.ops = &cuda_ops;
  cuda->base.threads = threads;
  /* SC_CUDA_TF32=0 keeps full float32 (for comparisons with the CPU). */
  cuda->precision = g_strcmp0(g_getenv("SC_CUDA_TF32"), "0") == 0 ? SC_CUDA_PRECISION_FP32
                                                                   : SC_CUDA_PRECISION_TF32;
  const char *precision = g_getenv("SC_CUDA_PRECISION");
  if (precision != NULL && !sc_cuda_precision_parse(precision, &cuda->precision, error)) {
    g_prefix_error(error, "SC_CUDA_PRECISION: ");
    g_free(cuda);
    return NULL;
  }
  cuda->sizes = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_mutex_init(&cuda->lock);
  if (!find_device(cuda, error) || !start_libraries(cuda, error)) {
    cuda_destroy(&cuda->base);
    return NULL;
  }
  cuda->conv = sc_cuda_conv_new();
  g_debug("CUDA backend on %s, cuDNN %zu", cuda->device_name, cudnnGetVersion());
  return &cuda->base;
}

static const char *const precision_names[] = { "fp32", "tf32", "bf16" };

const char *
sc_cuda_precision_name(ScCudaPrecision precision)
{
  g_return_val_if_fail(precision <= SC_CUDA_PRECISION_BF16, NULL);
  return precision_names[precision];
}

gboolean
sc_cuda_precision_parse(const char *name, ScCudaPrecision *precision, GError **error)
{
  for (int i = 0; i < (int)G_N_ELEMENTS(precision_names); i++)
    if (g_ascii_strcasecmp(name, precision_names[i]) == 0) {
      *precision = (ScCudaPrecision)i;
      return TRUE;
    }
  g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_INVALID_ARGUMENT,
              "Unknown precision '%s': expected fp32, tf32 or bf16", name);
  return FALSE;
}

void
sc_cuda_backend_set_precision(ScBackend *be, ScCudaPrecision precision)
{
  g_return_if_fail(sc_backend_is_cuda(be));
  g_return_if_fail(precision <= SC_CUDA_PRECISION_BF16);
  ScCudaBackend *cuda = sc_cuda_backend(be);
  if (cuda->precision == precision)
    return;
  cuda->precision = precision;
  /* Plans hold descriptors of the data type and the chosen algorithms. */
  sc_cuda_conv_clear(cuda->conv);
}

ScCudaPrecision
sc_cuda_backend_get_precision(const ScBackend *be)
{
  g_return_val_if_fail(sc_backend_is_cuda(be), SC_CUDA_PRECISION_FP32);
  return ((const ScCudaBackend *)be)->precision;
}

void
sc_cuda_backend_set_tf32(ScBackend *be, gboolean allow)
{
  sc_cuda_backend_set_precision(be, allow ? SC_CUDA_PRECISION_TF32 : SC_CUDA_PRECISION_FP32);
}

const char *
sc_cuda_backend_device_name(const ScBackend *be)
{
  g_return_val_if_fail(sc_backend_is_cuda(be), NULL);
  return ((const ScCudaBackend *)be)->device_name;
}

size_t
sc_cuda_backend_bytes_in_use(const ScBackend *be)
{
  g_return_val_if_fail(sc_backend_is_cuda(be), 0);
  return ((const ScCudaBackend *)be)->bytes_in_use;
}

size_t
sc_cuda_backend_bytes_peak(const ScBackend *be)
{
  g_return_val_if_fail(sc_backend_is_cuda(be), 0);
  return ((const ScCudaBackend *)be)->bytes_peak;
}
