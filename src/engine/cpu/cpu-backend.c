/* The CPU backend: host memory, OpenBLAS for matrix products, OpenMP for the
 * elementwise loops, oneDNN for convolutions (cpu-conv.c). */
#include "cpu-backend-private.h"

#include "../augment.h"
#include "../sc-error.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Vector loads want 64-byte lines; oneDNN asks the same of its buffers. */
#define SC_CPU_ALIGN_BYTES 64

/* Below this many elements a loop runs on one thread: waking the OpenMP team
 * costs more than the work. */
#define SC_CPU_PARALLEL_MIN 32768

void
sc_cpu_backend_apply_threads(ScBackend *be)
{
  if (be->threads > 0 && omp_get_max_threads() != be->threads)
    omp_set_num_threads(be->threads);
}

void
sc_cpu_backend_fail(ScBackend *be, GError *error)
{
  ScCpuBackend *cpu = sc_cpu_backend(be);
  if (cpu->pending == NULL) {
    g_warning("CPU backend: %s", error->message);
    cpu->pending = error;
  } else {
    g_error_free(error);
  }
}

static void
cpu_destroy(ScBackend *be)
{
  ScCpuBackend *cpu = sc_cpu_backend(be);
  sc_cpu_conv_release(be);
  g_clear_error(&cpu->pending);
  g_mutex_clear(&cpu->lock);
  g_free(cpu);
}

static void *
cpu_alloc(ScBackend *be, size_t bytes)
{
  /* aligned_alloc wants a multiple of the alignment. */
  size_t rounded = (MAX(bytes, 1) + SC_CPU_ALIGN_BYTES - 1) / SC_CPU_ALIGN_BYTES
                   * SC_CPU_ALIGN_BYTES;
  return aligned_alloc(SC_CPU_ALIGN_BYTES, rounded);
}

static void
cpu_free(ScBackend *be, void *ptr)
{
  free(ptr);
}

static void
cpu_copy(ScBackend *be, void *dst, const void *src, size_t bytes)
{
  if (dst != src && bytes > 0)
    memcpy(dst, src, bytes);
}

static void
cpu_zero(ScBackend *be, void *dst, size_t bytes)
{
  if (bytes > 0)
    memset(dst, 0, bytes);
}

static gboolean
cpu_sync(ScBackend *be, GError **error)
{
  ScCpuBackend *cpu = sc_cpu_backend(be);
  g_mutex_lock(&cpu->lock);
  GError *pending = g_steal_pointer(&cpu->pending);
  g_mutex_unlock(&cpu->lock);
  if (pending != NULL) {
    g_propagate_error(error, pending);
    return FALSE;
  }
  return TRUE;
}

static void
cpu_gemm(ScBackend *be, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
         const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
              ldc);
}

static void
cpu_bias_add(ScBackend *be, int rows, int cols, float *y, const float *bias)
{
  sc_cpu_backend_apply_threads(be);
  /* y (rows, cols) */
#pragma omp parallel for if ((size_t)rows * cols >= SC_CPU_PARALLEL_MIN)
  for (int r = 0; r < rows; r++) {
    float *row = y + (size_t)r * cols;
    for (int c = 0; c < cols; c++)
      row[c] += bias[c];
  }
}

static void
cpu_bias_grad(ScBackend *be, int rows, int cols, const float *dy, float *dbias)
{
  /* Sums in double so a long batch does not lose the small rows; dy (rows, cols). */
  double *sum = g_new0(double, cols);
  for (int r = 0; r < rows; r++) {
    const float *row = dy + (size_t)r * cols;
    for (int c = 0; c < cols; c++)
      sum[c] += row[c];
  }
  for (int c = 0; c < cols; c++)
    dbias[c] = (float)sum[c];
  g_free(sum);
}

static void
cpu_relu_forward(ScBackend *be, size_t n, const float *x, float *y)
{
  sc_cpu_backend_apply_threads(be);
#pragma omp parallel for simd if (n >= SC_CPU_PARALLEL_MIN)
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void
cpu_relu_backward(ScBackend *be, size_t n, const float *y, const float *dy, float *dx)
{
  sc_cpu_backend_apply_threads(be);
  /* dy is read unconditionally so the choice is a select, not a branch: the
   * compiler vectorises it, and signs of y are too random to predict. */
#pragma omp parallel for simd if (n >= SC_CPU_PARALLEL_MIN)
  for (size_t i = 0; i < n; i++) {
    float g = dy[i];
    dx[i] = y[i] > 0.0f ? g : 0.0f;
  }
}

static void
cpu_adam_update(ScBackend *be, size_t n, float *params, const float *grads, float *m,
                float *v, float lr_t, float beta1, float beta2, float epsilon)
{
  sc_cpu_backend_apply_threads(be);
  const float one_minus_b1 = 1.0f - beta1, one_minus_b2 = 1.0f - beta2;
#pragma omp parallel for simd if (n >= SC_CPU_PARALLEL_MIN)
  for (size_t i = 0; i < n; i++) {
    float g = grads[i];
    m[i] += one_minus_b1 * (g - m[i]);
    v[i] += one_minus_b2 * (g * g - v[i]);
    params[i] -= lr_t * m[i] / (sqrtf(v[i]) + epsilon);
  }
}

static void
cpu_augment(ScBackend *be, const ScAugmentBatch *batch, float *out)
{
  sc_cpu_backend_apply_threads(be);
  sc_augment_batch_cpu(batch, out);
}

static void
cpu_gather_rows(ScBackend *be, const void *rows, size_t row_bytes, const int32_t *indices,
                size_t n, void *dst)
{
  for (size_t i = 0; i < n; i++)
    memcpy((char *)dst + i * row_bytes, (const char *)rows + (size_t)indices[i] * row_bytes,
           row_bytes);
}

static const ScBackendOps cpu_ops = {
  .name = "cpu",
  .memory_is_host = true,
  .destroy = cpu_destroy,
  .alloc = cpu_alloc,
  .free = cpu_free,
  /* Host and device memory are the same on the CPU. */
  .upload = cpu_copy,
  .download = cpu_copy,
  .copy = cpu_copy,
  .zero = cpu_zero,
  .sync = cpu_sync,
  .gemm = cpu_gemm,
  .conv2d_forward = sc_cpu_conv2d_forward,
  .conv2d_backward = sc_cpu_conv2d_backward,
  .bias_add = cpu_bias_add,
  .bias_grad = cpu_bias_grad,
  .relu_forward = cpu_relu_forward,
  .relu_backward = cpu_relu_backward,
  .softmax_xent = sc_cpu_softmax_xent,
  .ntxent = sc_cpu_ntxent,
  .adam_update = cpu_adam_update,
  .gather_rows = cpu_gather_rows,
  .augment = cpu_augment,
};

ScBackend *
sc_backend_cpu_new(int threads, GError **error)
{
  if (threads < 0) {
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "CPU backend: threads must be 0 (library default) or more, not %d",
                threads);
    return NULL;
  }
  ScCpuBackend *cpu = g_new0(ScCpuBackend, 1);
  cpu->base.ops = &cpu_ops;
  cpu->base.threads = threads;
  g_mutex_init(&cpu->lock);

  /* OpenBLAS keeps one global pool; OpenMP (oneDNN and our loops) is set per
   * thread again at each operation. */
  if (threads > 0)
    openblas_set_num_threads(threads);
  sc_cpu_backend_apply_threads(&cpu->base);

  if (!sc_cpu_conv_init(&cpu->base, error)) {
    cpu_destroy(&cpu->base);
    return NULL;
  }
  return &cpu->base;
}
