/* The emulated cuBLAS: handles and the matrix products the backend calls,
 * computed on the CPU with cuBLAS's column-major conventions.
 *
 * Arguments are checked as cuBLAS documents (CUBLAS_STATUS_INVALID_VALUE
 * for negative sizes, leading dimensions below their minimum, NULL scalars;
 * CUBLAS_STATUS_NOT_SUPPORTED for type combinations it does not offer).
 * Beyond that, misuse that would make the real library read or write out
 * of bounds or return garbage is refused with CUBLAS_STATUS_INVALID_VALUE
 * and a message: an operand that is not inside one device allocation, an
 * output that overlaps an input. Scalars are host pointers (the default
 * pointer mode; the pointer-mode calls are not emulated). */
#include "emulated-cuda.h"
#include "emulated-rounding.h"

#include <cublas_v2.h>
#include <stdlib.h>
#include <string.h>

struct cublasContext {
  cudaStream_t stream;
  cublasMath_t math_mode;
};

cublasStatus_t
cublasCreate(cublasHandle_t *handle)
{
  if (handle == NULL)
    return CUBLAS_STATUS_INVALID_VALUE;
  *handle = g_new0(struct cublasContext, 1);
  (*handle)->math_mode = CUBLAS_DEFAULT_MATH;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasDestroy(cublasHandle_t handle)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  g_free(handle);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetStream(cublasHandle_t handle, cudaStream_t stream)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasGetStream(cublasHandle_t handle, cudaStream_t *stream)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  if (stream == NULL)
    return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  unsigned base = (unsigned)mode & ~(unsigned)CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  switch (base) {
  case CUBLAS_DEFAULT_MATH:
  case CUBLAS_TENSOR_OP_MATH:
  case CUBLAS_PEDANTIC_MATH:
  case CUBLAS_TF32_TENSOR_OP_MATH:
  case CUBLAS_FP32_EMULATED_BF16X9_MATH:
  case CUBLAS_FP64_EMULATED_FIXEDPOINT_MATH:
    handle->math_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
  default:
    g_message("emulated cuBLAS: cublasSetMathMode: %d is not a math mode", (int)mode);
    return CUBLAS_STATUS_INVALID_VALUE;
  }
}

cublasStatus_t
cublasGetMathMode(cublasHandle_t handle, cublasMath_t *mode)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode == NULL)
    return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math_mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char *
cublasGetStatusName(cublasStatus_t status)
{
  switch (status) {
  case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
  case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
  case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
  case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
  case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

const char *
cublasGetStatusString(cublasStatus_t status)
{
  switch (status) {
  case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
  case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
  case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
  case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
  case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
  case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
  case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
  case CUBLAS_STATUS_LICENSE_ERROR: return "error detected trying to check the license";
  default: return "unknown error";
  }
}

/* ---- Matrix products ---- */

/* One stored operand: a column-major (rows, cols) matrix with leading
 * dimension ld, of a float or bf16 type. */
typedef struct {
  const char *name;
  const void *p;
  cudaDataType type;
  int rows, cols, ld;
} Matrix;

static size_t
type_bytes(cudaDataType t)
{
  return t == CUDA_R_16BF ? 2 : 4;
}

/* Bytes from the first to one past the last element of m. */
static size_t
matrix_extent(const Matrix *m)
{
  if (m->rows == 0 || m->cols == 0)
    return 0;
  return ((size_t)(m->cols - 1) * (size_t)m->ld + (size_t)m->rows) * type_bytes(m->type);
}

/* TRUE when some element of a and some element of b share a byte: the
 * columns of each are intervals at a fixed step, so for each column of a
 * the columns of b that could reach it form one range of indices. */
static gboolean
matrices_overlap(const Matrix *a, const Matrix *b)
{
  if (matrix_extent(a) == 0 || matrix_extent(b) == 0)
    return FALSE;
  const char *pa = a->p, *pb = b->p;
  if (pa + matrix_extent(a) <= pb || pb + matrix_extent(b) <= pa)
    return FALSE;
  const long long la = (long long)a->rows * (long long)type_bytes(a->type);
  const long long lb = (long long)b->rows * (long long)type_bytes(b->type);
  const long long stride_b = (long long)b->ld * (long long)type_bytes(b->type);
  for (int j = 0; j < a->cols; j++) {
    long long s = (pa - pb) + (long long)j * a->ld * (long long)type_bytes(a->type);
    long long e = s + la; /* column j of a is [s, e) relative to b's start */
    if (e <= 0)
      continue;
    /* b's column q is [q * stride_b, q * stride_b + lb): it meets [s, e)
     * when q * stride_b < e and q * stride_b + lb > s. */
    long long q_max = (e - 1) / stride_b;
    long long q_min = s - lb + 1 <= 0 ? 0 : (s - lb + 1 + stride_b - 1) / stride_b;
    if (q_max > b->cols - 1)
      q_max = b->cols - 1;
    if (q_min <= q_max)
      return TRUE;
  }
  return FALSE;
}

static float
load(const Matrix *m, size_t offset_elems)
{
  if (m->type == CUDA_R_16BF)
    return sc_emu_bf16_to_float(((const uint16_t *)m->p)[offset_elems]);
  return ((const float *)m->p)[offset_elems];
}

typedef enum {
  ROUND_NONE,
  ROUND_TF32,
  ROUND_BF16,
} InputRounding;

static float
round_input(float v, InputRounding r)
{
  switch (r) {
  case ROUND_TF32: return sc_emu_round_tf32(v);
  case ROUND_BF16: return sc_emu_round_bf16(v);
  default: return v;
  }
}

/* op(M) as a dense column-major (rows_op, cols_op) float copy, rounded. */
static float *
load_op(const Matrix *m, cublasOperation_t op, InputRounding r)
{
  gboolean t = op != CUBLAS_OP_N;
  int rows_op = t ? m->cols : m->rows, cols_op = t ? m->rows : m->cols;
  float *out = g_new(float, (size_t)rows_op * cols_op + 1);
  for (int j = 0; j < m->cols; j++)
    for (int i = 0; i < m->rows; i++) {
      float v = round_input(load(m, (size_t)j * m->ld + i), r);
      if (t)
        out[(size_t)i * rows_op + j] = v;
      else
        out[(size_t)j * rows_op + i] = v;
    }
  return out;
}

static gboolean
tf32_overridden(void)
{
  const char *v = g_getenv("NVIDIA_TF32_OVERRIDE");
  return v != NULL && strcmp(v, "0") == 0;
}

/* Checks the types and compute type and says how inputs are rounded:
 * the combinations of cublasGemmEx's table that the emulator offers. */
static cublasStatus_t
check_types(cublasHandle_t handle, cudaDataType at, cudaDataType bt, cudaDataType ct,
            cublasComputeType_t compute, InputRounding *rounding, const char *fn)
{
  gboolean float_io = at == CUDA_R_32F && bt == CUDA_R_32F && ct == CUDA_R_32F;
  gboolean bf16_in = at == CUDA_R_16BF && bt == CUDA_R_16BF
                     && (ct == CUDA_R_16BF || ct == CUDA_R_32F);
  unsigned base_mode = (unsigned)handle->math_mode
                       & ~(unsigned)CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  *rounding = ROUND_NONE;
  switch (compute) {
  case CUBLAS_COMPUTE_32F:
    /* The TF32 math mode lets single-precision products use TF32. */
    if (float_io && base_mode == CUBLAS_TF32_TENSOR_OP_MATH && !tf32_overridden())
      *rounding = ROUND_TF32;
    if (float_io || bf16_in)
      return CUBLAS_STATUS_SUCCESS;
    break;
  case CUBLAS_COMPUTE_32F_PEDANTIC:
    if (float_io || bf16_in)
      return CUBLAS_STATUS_SUCCESS;
    break;
  case CUBLAS_COMPUTE_32F_FAST_TF32:
    *rounding = tf32_overridden() ? ROUND_NONE : ROUND_TF32;
    if (float_io)
      return CUBLAS_STATUS_SUCCESS;
    break;
  case CUBLAS_COMPUTE_32F_FAST_16BF:
    /* Allowed to convert inputs to bf16 or TF32: the coarser, bf16. */
    *rounding = ROUND_BF16;
    if (float_io)
      return CUBLAS_STATUS_SUCCESS;
    break;
  default:
    break;
  }
  g_message("emulated cuBLAS: %s: A type %d, B type %d, C type %d with compute type %d "
            "is not a supported (or not an emulated) combination", fn, (int)at, (int)bt,
            (int)ct, (int)compute);
  return CUBLAS_STATUS_NOT_SUPPORTED;
}

static gboolean
algo_known(cublasGemmAlgo_t algo)
{
  int a = (int)algo;
  return (a >= CUBLAS_GEMM_DEFAULT && a <= CUBLAS_GEMM_ALGO23)
         || (a >= CUBLAS_GEMM_DEFAULT_TENSOR_OP && a <= CUBLAS_GEMM_ALGO15_TENSOR_OP);
}

static gboolean
op_valid(cublasOperation_t op)
{
  return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C;
}

typedef struct {
  cublasOperation_t transa, transb;
  int m, n, k;
  const float *alpha, *beta;
  const void *a, *b;
  void *c;
  cudaDataType at, bt, ct;
  int lda, ldb, ldc;
  long long stride_a, stride_b, stride_c; /* elements */
  int batch;
  cublasComputeType_t compute;
  cublasGemmAlgo_t algo;
} GemmArgs;

static cublasStatus_t
invalid(const char *fn, const char *why)
{
  g_message("emulated cuBLAS: %s: %s", fn, why);
  return CUBLAS_STATUS_INVALID_VALUE;
}

/* Documented argument checks (cublasGemmEx, cublasGemmStridedBatchedEx). */
static cublasStatus_t
check_args(const GemmArgs *g, const char *fn)
{
  char why[160];
  if (g->m < 0 || g->n < 0 || g->k < 0 || g->batch < 0) {
    g_snprintf(why, sizeof(why), "negative size m %d, n %d, k %d or batch %d", g->m, g->n,
               g->k, g->batch);
    return invalid(fn, why);
  }
  if (!op_valid(g->transa) || !op_valid(g->transb))
    return invalid(fn, "transa or transb is not CUBLAS_OP_N, _T or _C");
  int lda_min = MAX(1, g->transa == CUBLAS_OP_N ? g->m : g->k);
  int ldb_min = MAX(1, g->transb == CUBLAS_OP_N ? g->k : g->n);
  if (g->lda < lda_min || g->ldb < ldb_min || g->ldc < MAX(1, g->m)) {
    g_snprintf(why, sizeof(why), "lda %d (min %d), ldb %d (min %d) or ldc %d (min %d) too small",
               g->lda, lda_min, g->ldb, ldb_min, g->ldc, MAX(1, g->m));
    return invalid(fn, why);
  }
  if (g->alpha == NULL || g->beta == NULL)
    return invalid(fn, "alpha or beta is NULL");
  return CUBLAS_STATUS_SUCCESS;
}

static void
batch_matrices(const GemmArgs *g, int i, Matrix *a, Matrix *b, Matrix *c)
{
  gboolean ta = g->transa != CUBLAS_OP_N, tb = g->transb != CUBLAS_OP_N;
  *a = (Matrix){ "A", (const char *)g->a + g->stride_a * i * (long long)type_bytes(g->at),
                 g->at, ta ? g->k : g->m, ta ? g->m : g->k, g->lda };
  *b = (Matrix){ "B", (const char *)g->b + g->stride_b * i * (long long)type_bytes(g->bt),
                 g->bt, tb ? g->n : g->k, tb ? g->k : g->n, g->ldb };
  *c = (Matrix){ "C", (const char *)g->c + g->stride_c * i * (long long)type_bytes(g->ct),
                 g->ct, g->m, g->n, g->ldc };
  if (g->k == 0) {
    a->rows = a->cols = 0; /* not read */
    b->rows = b->cols = 0;
  }
}

/* Device ranges of every operand touched, and no output overlapping an
 * input (the real library's result would depend on its order of work). */
static cublasStatus_t
check_memory(const GemmArgs *g, const char *fn)
{
  for (int i = 0; i < g->batch; i++) {
    Matrix a, b, c;
    batch_matrices(g, i, &a, &b, &c);
    const Matrix *ms[3] = { &a, &b, &c };
    for (int j = 0; j < 3; j++) {
      char what[96];
      g_snprintf(what, sizeof(what), "%s %s (batch %d)", fn, ms[j]->name, i);
      size_t bytes = matrix_extent(ms[j]);
      if (bytes > 0 && !sc_emu_device_range(ms[j]->p, bytes, what))
        return invalid(fn, "an operand is not device memory of its size");
    }
    /* Against every batch's inputs: batches may run in any order. */
    for (int j = 0; j < g->batch; j++) {
      Matrix aj, bj, cj;
      batch_matrices(g, j, &aj, &bj, &cj);
      if (matrices_overlap(&c, &aj) || matrices_overlap(&c, &bj)
          || (j != i && matrices_overlap(&c, &cj))) {
        char why[128];
        g_snprintf(why, sizeof(why), "C of batch %d overlaps A, B or C of batch %d", i, j);
        return invalid(fn, why);
      }
    }
  }
  return CUBLAS_STATUS_SUCCESS;
}

static cublasStatus_t
gemm(cublasHandle_t handle, const GemmArgs *g, const char *fn)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  cublasStatus_t st = check_args(g, fn);
  if (st != CUBLAS_STATUS_SUCCESS)
    return st;
  InputRounding rounding;
  st = check_types(handle, g->at, g->bt, g->ct, g->compute, &rounding, fn);
  if (st != CUBLAS_STATUS_SUCCESS)
    return st;
  if (!algo_known(g->algo)) {
    g_message("emulated cuBLAS: %s: algorithm %d is not supported", fn, (int)g->algo);
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  if (g->m == 0 || g->n == 0 || g->batch == 0)
    return CUBLAS_STATUS_SUCCESS;
  st = check_memory(g, fn);
  if (st != CUBLAS_STATUS_SUCCESS)
    return st;

  const float alpha = *g->alpha, beta = *g->beta;
  for (int i = 0; i < g->batch; i++) {
    Matrix a, b, c;
    batch_matrices(g, i, &a, &b, &c);
    /* op(A) (m, k) and op(B) (k, n), dense column-major floats. */
    float *opa = g->k > 0 ? load_op(&a, g->transa, rounding) : NULL;
    float *opb = g->k > 0 ? load_op(&b, g->transb, rounding) : NULL;
    for (int col = 0; col < g->n; col++)
      for (int row = 0; row < g->m; row++) {
        float sum = 0.0f;
        for (int p = 0; p < g->k; p++)
          sum += opa[(size_t)p * g->m + row] * opb[(size_t)col * g->k + p];
        size_t at = (size_t)col * g->ldc + row;
        float v = alpha * sum;
        if (beta != 0.0f) /* beta == 0: C is not read, its NaNs do not propagate */
          v += beta * load(&c, at);
        if (g->ct == CUDA_R_16BF)
          ((uint16_t *)g->c)[g->stride_c * i + (long long)at] = sc_emu_float_to_bf16(v);
        else
          ((float *)g->c)[g->stride_c * i + (long long)at] = v;
      }
    g_free(opa);
    g_free(opb);
  }
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m,
             int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda,
             const void *B, cudaDataType Btype, int ldb, const void *beta, void *C,
             cudaDataType Ctype, int ldc, cublasComputeType_t computeType,
             cublasGemmAlgo_t algo)
{
  GemmArgs g = { transa, transb, m, n, k, alpha, beta, A, B, C, Atype, Btype, Ctype,
                 lda, ldb, ldc, 0, 0, 0, 1, computeType, algo };
  return gemm(handle, &g, "cublasGemmEx");
}

cublasStatus_t
cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const void *alpha,
                           const void *A, cudaDataType Atype, int lda, long long int strideA,
                           const void *B, cudaDataType Btype, int ldb, long long int strideB,
                           const void *beta, void *C, cudaDataType Ctype, int ldc,
                           long long int strideC, int batchCount,
                           cublasComputeType_t computeType, cublasGemmAlgo_t algo)
{
  GemmArgs g = { transa, transb, m, n, k, alpha, beta, A, B, C, Atype, Btype, Ctype,
                 lda, ldb, ldc, strideA, strideB, strideC, batchCount, computeType, algo };
  return gemm(handle, &g, "cublasGemmStridedBatchedEx");
}
