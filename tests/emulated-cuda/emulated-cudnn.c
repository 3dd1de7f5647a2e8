/* The emulated cuDNN: descriptors and the three convolution directions,
 * computed directly on the CPU from the descriptors' layouts.
 *
 * Checks as cuDNN documents them: CUDNN_STATUS_BAD_PARAM for NULL
 * arguments, bad descriptor values, operands whose data types or channel
 * counts disagree, a filter larger than the padded input, a backward
 * output of the wrong size; CUDNN_STATUS_NOT_SUPPORTED for a forward
 * output whose spatial size is not cudnnGetConvolutionNdForwardOutputDim's
 * and for an algorithm that does not support the shape. Beyond that,
 * misuse that would make the real library read or write out of bounds or
 * give garbage is refused with CUDNN_STATUS_BAD_PARAM and a message: an
 * operand or workspace that is not device memory of its size, a workspace
 * smaller than the algorithm needs, an output overlapping an input.
 *
 * Math types (cuDNN 9, float32 operands): CUDNN_DEFAULT_MATH,
 * CUDNN_TENSOR_OP_MATH and CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION all permit
 * TF32 tensor-core kernels; CUDNN_FMA_MATH restricts cuDNN to FMA kernels
 * (full float32 products); NVIDIA_TF32_OVERRIDE=0 turns TF32 off for all.
 * Here an algorithm marked as having tensor-core kernels rounds its two
 * float inputs to TF32 whenever TF32 is permitted; the others always
 * multiply in float32. bf16 operands (CUDNN_DATA_BFLOAT16 with float
 * compute, cuDNN's PSEUDO_BFLOAT16 configuration) are widened exactly, and
 * the result rounded to bf16 (nearest even). Sums are float, in the
 * emulator's order.
 *
 * Algorithms: each gets a workspace need and a modelled time from the
 * shape (emulated-cudnn's own model, not the hardware's): the one that
 * needs no workspace is slowest, faster ones need more, and FFT needs far
 * more than any sensible limit. The query functions report them sorted
 * fastest first. */
#include "emulated-cuda.h"
#include "emulated-rounding.h"

#include <cudnn.h>
#include <string.h>

struct cudnnContext {
  cudaStream_t stream;
};

struct cudnnTensorStruct {
  gboolean set;
  cudnnTensorFormat_t format;
  cudnnDataType_t type;
  int n, c, h, w;
};

struct cudnnFilterStruct {
  gboolean set;
  cudnnTensorFormat_t format;
  cudnnDataType_t type;
  int k, c, r, s;
};

struct cudnnConvolutionStruct {
  gboolean set;
  int pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
  cudnnConvolutionMode_t mode;
  cudnnDataType_t compute;
  cudnnMathType_t math;
};

static cudnnStatus_t
bad_param(const char *fn, const char *why)
{
  g_message("emulated cuDNN: %s: %s", fn, why);
  return CUDNN_STATUS_BAD_PARAM;
}

static cudnnStatus_t
not_supported(const char *fn, const char *why)
{
  g_message("emulated cuDNN: %s: %s", fn, why);
  return CUDNN_STATUS_NOT_SUPPORTED;
}

/* ---- Library, handles ---- */

size_t
cudnnGetVersion(void)
{
  return CUDNN_VERSION;
}

const char *
cudnnGetErrorString(cudnnStatus_t status)
{
  switch (status) {
  case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
  case CUDNN_STATUS_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
  case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
  case CUDNN_STATUS_BAD_PARAM_NULL_POINTER: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
  case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
  case CUDNN_STATUS_INTERNAL_ERROR: return "CUDNN_STATUS_INTERNAL_ERROR";
  case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
  default: return "CUDNN_STATUS_UNKNOWN";
  }
}

cudnnStatus_t
cudnnCreate(cudnnHandle_t *handle)
{
  if (handle == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *handle = g_new0(struct cudnnContext, 1);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnDestroy(cudnnHandle_t handle)
{
  g_free(handle);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream)
{
  if (handle == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  handle->stream = stream;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnGetStream(cudnnHandle_t handle, cudaStream_t *stream)
{
  if (handle == NULL || stream == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *stream = handle->stream;
  return CUDNN_STATUS_SUCCESS;
}

/* ---- Descriptors ---- */

static gboolean
data_type_valid(cudnnDataType_t t)
{
  switch (t) {
  case CUDNN_DATA_FLOAT:
  case CUDNN_DATA_DOUBLE:
  case CUDNN_DATA_HALF:
  case CUDNN_DATA_INT8:
  case CUDNN_DATA_INT32:
  case CUDNN_DATA_INT8x4:
  case CUDNN_DATA_UINT8:
  case CUDNN_DATA_UINT8x4:
  case CUDNN_DATA_INT8x32:
  case CUDNN_DATA_BFLOAT16:
    return TRUE;
  default:
    return FALSE;
  }
}

/* The emulator computes float32 and bf16 operands only. */
static size_t
element_bytes(cudnnDataType_t t)
{
  return t == CUDNN_DATA_BFLOAT16 ? 2 : 4;
}

static cudnnStatus_t
check_format(cudnnTensorFormat_t f, const char *fn)
{
  if (f == CUDNN_TENSOR_NCHW || f == CUDNN_TENSOR_NHWC)
    return CUDNN_STATUS_SUCCESS;
  if (f == CUDNN_TENSOR_NCHW_VECT_C)
    return not_supported(fn, "CUDNN_TENSOR_NCHW_VECT_C is not emulated");
  return bad_param(fn, "format is not a cudnnTensorFormat_t");
}

cudnnStatus_t
cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *desc)
{
  if (desc == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *desc = g_new0(struct cudnnTensorStruct, 1);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t desc)
{
  g_free(desc);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t desc, cudnnTensorFormat_t format,
                           cudnnDataType_t type, int n, int c, int h, int w)
{
  const char *fn = "cudnnSetTensor4dDescriptor";
  if (desc == NULL)
    return bad_param(fn, "descriptor is NULL");
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
    return bad_param(fn, "a dimension is not positive");
  if (!data_type_valid(type))
    return bad_param(fn, "dataType is not a cudnnDataType_t");
  cudnnStatus_t st = check_format(format, fn);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  if ((double)n * c * h * w > (double)G_MAXINT32)
    return not_supported(fn, "more than 2 Giga-elements");
  *desc = (struct cudnnTensorStruct){ TRUE, format, type, n, c, h, w };
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *desc)
{
  if (desc == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *desc = g_new0(struct cudnnFilterStruct, 1);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t desc)
{
  g_free(desc);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t desc, cudnnDataType_t type,
                           cudnnTensorFormat_t format, int k, int c, int h, int w)
{
  const char *fn = "cudnnSetFilter4dDescriptor";
  if (desc == NULL)
    return bad_param(fn, "descriptor is NULL");
  if (k <= 0 || c <= 0 || h <= 0 || w <= 0)
    return bad_param(fn, "a dimension is not positive");
  if (!data_type_valid(type))
    return bad_param(fn, "dataType is not a cudnnDataType_t");
  cudnnStatus_t st = check_format(format, fn);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  *desc = (struct cudnnFilterStruct){ TRUE, format, type, k, c, h, w };
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *desc)
{
  if (desc == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *desc = g_new0(struct cudnnConvolutionStruct, 1);
  (*desc)->math = CUDNN_DEFAULT_MATH;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t desc)
{
  g_free(desc);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t desc, int pad_h, int pad_w, int u,
                                int v, int dilation_h, int dilation_w,
                                cudnnConvolutionMode_t mode, cudnnDataType_t computeType)
{
  const char *fn = "cudnnSetConvolution2dDescriptor";
  if (desc == NULL)
    return bad_param(fn, "descriptor is NULL");
  if (pad_h < 0 || pad_w < 0)
    return bad_param(fn, "negative padding");
  if (u <= 0 || v <= 0)
    return bad_param(fn, "stride not positive");
  if (dilation_h <= 0 || dilation_w <= 0)
    return bad_param(fn, "dilation not positive");
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION)
    return bad_param(fn, "mode is not a cudnnConvolutionMode_t");
  if (!data_type_valid(computeType))
    return bad_param(fn, "computeType is not a cudnnDataType_t");
  desc->set = TRUE;
  desc->pad_h = pad_h;
  desc->pad_w = pad_w;
  desc->stride_h = u;
  desc->stride_w = v;
  desc->dil_h = dilation_h;
  desc->dil_w = dilation_w;
  desc->mode = mode;
  desc->compute = computeType;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t mathType)
{
  const char *fn = "cudnnSetConvolutionMathType";
  if (desc == NULL)
    return bad_param(fn, "descriptor is NULL");
  switch (mathType) {
  case CUDNN_DEFAULT_MATH:
  case CUDNN_TENSOR_OP_MATH:
  case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION:
  case CUDNN_FMA_MATH:
    desc->math = mathType;
    return CUDNN_STATUS_SUCCESS;
  default:
    return bad_param(fn, "mathType is not a cudnnMathType_t");
  }
}

cudnnStatus_t
cudnnGetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t *mathType)
{
  if (desc == NULL || mathType == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *mathType = desc->math;
  return CUDNN_STATUS_SUCCESS;
}

/* ---- Shapes ---- */

/* One convolution as the emulator computes it: input (n, c, h, w), filter
 * (k, c, r, s), output (n, k, p, q). */
typedef struct {
  int n, c, h, w, k, r, s, p, q;
  int pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
  gboolean flip; /* CUDNN_CONVOLUTION: the filter is applied flipped */
  cudnnDataType_t type;
  cudnnMathType_t math;
} Shape;

static int
out_dim(int in, int pad, int k, int dil, int stride)
{
  return 1 + (in + 2 * pad - ((k - 1) * dil + 1)) / stride;
}

/* The checks of cudnnGetConvolution2dForwardOutputDim, shared by every
 * call that relates an input to a filter. */
static cudnnStatus_t
check_input_filter(const char *fn, cudnnConvolutionDescriptor_t conv,
                   cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w)
{
  if (conv == NULL || x == NULL || w == NULL)
    return bad_param(fn, "a descriptor is NULL");
  if (!conv->set || !x->set || !w->set)
    return bad_param(fn, "a descriptor was never set");
  if (x->c != w->c) {
    char why[96];
    g_snprintf(why, sizeof(why), "input has %d channels, the filter %d", x->c, w->c);
    return bad_param(fn, why);
  }
  if ((w->r - 1) * conv->dil_h + 1 > x->h + 2 * conv->pad_h
      || (w->s - 1) * conv->dil_w + 1 > x->w + 2 * conv->pad_w)
    return bad_param(fn, "the dilated filter is larger than the padded input");
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t conv,
                                      const cudnnTensorDescriptor_t x,
                                      const cudnnFilterDescriptor_t w, int *n, int *c, int *h,
                                      int *wo)
{
  const char *fn = "cudnnGetConvolution2dForwardOutputDim";
  cudnnStatus_t st = check_input_filter(fn, conv, x, w);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  if (n == NULL || c == NULL || h == NULL || wo == NULL)
    return bad_param(fn, "an output pointer is NULL");
  *n = x->n;
  *c = w->k;
  *h = out_dim(x->h, conv->pad_h, w->r, conv->dil_h, conv->stride_h);
  *wo = out_dim(x->w, conv->pad_w, w->s, conv->dil_w, conv->stride_w);
  return CUDNN_STATUS_SUCCESS;
}

typedef enum {
  DIR_FORWARD,
  DIR_BACKWARD_DATA,
  DIR_BACKWARD_FILTER,
} Dir;

/* Every check relating the descriptors of one call; fills s. */
static cudnnStatus_t
check_shape(const char *fn, Dir dir, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
            cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, Shape *s)
{
  cudnnStatus_t st = check_input_filter(fn, conv, x, w);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  if (y == NULL || !y->set)
    return bad_param(fn, "the output-side tensor descriptor is NULL or never set");
  if (x->type != w->type || x->type != y->type)
    return bad_param(fn, "the tensors and the filter have different data types");
  if (!((x->type == CUDNN_DATA_FLOAT || x->type == CUDNN_DATA_BFLOAT16)
        && conv->compute == CUDNN_DATA_FLOAT))
    return not_supported(fn, "only float32 and bf16 data with float compute are emulated "
                             "(FLOAT_CONFIG, PSEUDO_BFLOAT16_CONFIG)");
  int p = out_dim(x->h, conv->pad_h, w->r, conv->dil_h, conv->stride_h);
  int q = out_dim(x->w, conv->pad_w, w->s, conv->dil_w, conv->stride_w);
  char why[160];
  if (y->n != x->n || y->c != w->k) {
    g_snprintf(why, sizeof(why), "output-side tensor has batch %d and %d channels; "
               "expected %d and %d", y->n, y->c, x->n, w->k);
    return bad_param(fn, why);
  }
  if (y->h != p || y->w != q) {
    g_snprintf(why, sizeof(why), "output-side tensor is %dx%d; the convolution gives %dx%d",
               y->h, y->w, p, q);
    return dir == DIR_FORWARD ? not_supported(fn, why) : bad_param(fn, why);
  }
  *s = (Shape){ x->n, x->c, x->h, x->w, w->k, w->r, w->s, p, q,
                conv->pad_h, conv->pad_w, conv->stride_h, conv->stride_w, conv->dil_h,
                conv->dil_w, conv->mode == CUDNN_CONVOLUTION, x->type, conv->math };
  return CUDNN_STATUS_SUCCESS;
}

static double
macs(const Shape *s)
{
  return (double)s->n * s->k * s->p * s->q * s->c * s->r * s->s;
}

/* ---- Algorithms: support, workspace, modelled time ---- */

typedef enum {
  SUPPORT_ALL,
  SUPPORT_STRIDE1,     /* stride and dilation 1, float32 (the FFTs) */
  SUPPORT_WINO3,       /* 3x3, stride and dilation 1, float32 */
  SUPPORT_WINO35,      /* 3x3 or 5x5, stride and dilation 1 */
  SUPPORT_NONE,
} Support;

typedef enum {
  WS_NONE,
  WS_INDEX,    /* a small index table */
  WS_COLUMNS,  /* one image's unrolled columns */
  WS_WINOGRAD, /* transformed filters */
  WS_WINOGRAD_NONFUSED, /* transformed inputs, outputs and filters */
  WS_FFT_TILES,
  WS_FFT_HUGE, /* whole-image transforms: far beyond any sensible limit */
} Workspace;

typedef struct {
  int algo;
  Support support;
  Workspace ws;
  float cost;             /* modelled time per multiply-add, relative */
  gboolean tensor_cores;  /* has tensor-core (TF32 / bf16) kernels */
  gboolean deterministic;
} Algo;

static const Algo forward_algos[] = {
  { CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, SUPPORT_ALL, WS_NONE, 3.0f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, SUPPORT_ALL, WS_INDEX, 1.0f, TRUE, TRUE },
  { CUDNN_CONVOLUTION_FWD_ALGO_GEMM, SUPPORT_ALL, WS_COLUMNS, 1.5f, TRUE, TRUE },
  { CUDNN_CONVOLUTION_FWD_ALGO_DIRECT, SUPPORT_NONE, WS_NONE, 2.0f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_FWD_ALGO_FFT, SUPPORT_STRIDE1, WS_FFT_HUGE, 0.3f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING, SUPPORT_STRIDE1, WS_FFT_TILES, 0.7f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, SUPPORT_WINO3, WS_WINOGRAD, 0.6f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, SUPPORT_WINO35, WS_WINOGRAD_NONFUSED, 0.5f,
    FALSE, TRUE },
};

static const Algo backward_data_algos[] = {
  { CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, SUPPORT_ALL, WS_NONE, 3.0f, FALSE, FALSE },
  { CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, SUPPORT_ALL, WS_COLUMNS, 1.0f, TRUE, TRUE },
  { CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT, SUPPORT_STRIDE1, WS_FFT_HUGE, 0.3f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING, SUPPORT_STRIDE1, WS_FFT_TILES, 0.7f, FALSE,
    TRUE },
  { CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD, SUPPORT_WINO3, WS_WINOGRAD, 0.6f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED, SUPPORT_WINO35, WS_WINOGRAD_NONFUSED,
    0.5f, FALSE, TRUE },
};

static const Algo backward_filter_algos[] = {
  { CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, SUPPORT_ALL, WS_NONE, 3.0f, FALSE, FALSE },
  { CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, SUPPORT_ALL, WS_COLUMNS, 1.0f, TRUE, TRUE },
  { CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT, SUPPORT_STRIDE1, WS_FFT_HUGE, 0.3f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3, SUPPORT_ALL, WS_INDEX, 1.5f, TRUE, FALSE },
  /* Declared by cuDNN, never implemented. */
  { CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD, SUPPORT_NONE, WS_NONE, 0.6f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED, SUPPORT_WINO35, WS_WINOGRAD_NONFUSED,
    0.5f, FALSE, TRUE },
  { CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING, SUPPORT_STRIDE1, WS_FFT_TILES, 0.7f, FALSE,
    TRUE },
};

static const Algo *
algos_of(Dir dir, int *count)
{
  switch (dir) {
  case DIR_FORWARD:
    *count = G_N_ELEMENTS(forward_algos);
    return forward_algos;
  case DIR_BACKWARD_DATA:
    *count = G_N_ELEMENTS(backward_data_algos);
    return backward_data_algos;
  default:
    *count = G_N_ELEMENTS(backward_filter_algos);
    return backward_filter_algos;
  }
}

static const Algo *
algo_find(Dir dir, int algo)
{
  int count;
  const Algo *all = algos_of(dir, &count);
  for (int i = 0; i < count; i++)
    if (all[i].algo == algo)
      return &all[i];
  return NULL;
}

static gboolean
algo_supports(const Algo *a, const Shape *s)
{
  gboolean unit = s->stride_h == 1 && s->stride_w == 1 && s->dil_h == 1 && s->dil_w == 1;
  gboolean f32 = s->type == CUDNN_DATA_FLOAT;
  switch (a->support) {
  case SUPPORT_ALL: return TRUE;
  case SUPPORT_STRIDE1: return unit && f32;
  case SUPPORT_WINO3: return unit && f32 && s->r == 3 && s->s == 3;
  case SUPPORT_WINO35: return unit && s->r == s->s && (s->r == 3 || s->r == 5);
  default: return FALSE;
  }
}

static size_t
pow2_at_least(int v)
{
  size_t p = 1;
  while (p < (size_t)v)
    p <<= 1;
  return p;
}

static size_t
workspace_bytes(const Algo *a, const Shape *s)
{
  const size_t n = s->n, c = s->c, k = s->k, r = s->r, ss = s->s, p = s->p, q = s->q;
  const size_t tiles = ((p + 3) / 4) * ((q + 3) / 4);
  switch (a->ws) {
  case WS_INDEX: return (r * ss * c + 256) * sizeof(int);
  case WS_COLUMNS: return c * r * ss * p * q * sizeof(float);
  case WS_WINOGRAD: return c * k * 16 * sizeof(float) + 4096;
  case WS_WINOGRAD_NONFUSED: return (n * (c + k) * tiles + c * k) * 36 * sizeof(float);
  case WS_FFT_TILES: return (n * c + c * k + n * k) * 32 * 32 * 2 * sizeof(float);
  case WS_FFT_HUGE: {
    size_t plane = pow2_at_least(s->h + 2 * s->pad_h) * pow2_at_least(s->w + 2 * s->pad_w);
    return ((size_t)16 << 30) + (n * c + c * k + n * k) * plane * 2 * sizeof(float);
  }
  default: return 0;
  }
}

/* Float32 operands may be multiplied in TF32 (see the top of the file). */
static gboolean
tf32_permitted(const Shape *s)
{
  const char *v = g_getenv("NVIDIA_TF32_OVERRIDE");
  return s->type == CUDNN_DATA_FLOAT && s->math != CUDNN_FMA_MATH
         && !(v != NULL && strcmp(v, "0") == 0);
}

static gboolean
uses_tensor_cores(const Algo *a, const Shape *s)
{
  return a->tensor_cores && s->math != CUDNN_FMA_MATH
         && (s->type == CUDNN_DATA_BFLOAT16 || tf32_permitted(s));
}

static float
modelled_ms(const Algo *a, const Shape *s)
{
  double cost = a->cost * (uses_tensor_cores(a, s) ? 0.125 : 1.0);
  return (float)(cost * macs(s) / 1e9);
}

/* The perf structs of the three directions share one layout. */
typedef struct {
  int algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t mathType;
  int reserved[3];
} Perf;

G_STATIC_ASSERT(sizeof(Perf) == sizeof(cudnnConvolutionFwdAlgoPerf_t));
G_STATIC_ASSERT(sizeof(Perf) == sizeof(cudnnConvolutionBwdDataAlgoPerf_t));
G_STATIC_ASSERT(sizeof(Perf) == sizeof(cudnnConvolutionBwdFilterAlgoPerf_t));
G_STATIC_ASSERT(G_STRUCT_OFFSET(Perf, mathType)
                == G_STRUCT_OFFSET(cudnnConvolutionFwdAlgoPerf_t, mathType));

static int
perf_order(gconstpointer pa, gconstpointer pb)
{
  const Perf *a = pa, *b = pb;
  gboolean ok_a = a->status == CUDNN_STATUS_SUCCESS, ok_b = b->status == CUDNN_STATUS_SUCCESS;
  if (ok_a != ok_b)
    return ok_a ? -1 : 1;
  if (ok_a && a->time != b->time)
    return a->time < b->time ? -1 : 1;
  return a->algo - b->algo;
}

/* Every algorithm of the direction, fastest first; with a workspace limit
 * (Find), those needing more are marked as not run. */
static int
rank(Dir dir, const Shape *s, gboolean limited, size_t ws_limit, Perf *out)
{
  int count;
  const Algo *all = algos_of(dir, &count);
  for (int i = 0; i < count; i++) {
    const Algo *a = &all[i];
    Perf *pf = &out[i];
    memset(pf, 0, sizeof(*pf));
    pf->algo = a->algo;
    pf->determinism = a->deterministic ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
    pf->mathType = uses_tensor_cores(a, s) ? CUDNN_TENSOR_OP_MATH
                   : s->math == CUDNN_FMA_MATH ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
    pf->memory = workspace_bytes(a, s);
    pf->time = -1.0f;
    if (!algo_supports(a, s))
      pf->status = CUDNN_STATUS_NOT_SUPPORTED;
    else if (limited && pf->memory > ws_limit)
      pf->status = CUDNN_STATUS_NOT_SUPPORTED; /* not run: the workspace is too small */
    else {
      pf->status = CUDNN_STATUS_SUCCESS;
      pf->time = modelled_ms(a, s);
    }
  }
  qsort(out, count, sizeof(Perf), perf_order);
  return count;
}

/* ---- Operands ---- */

typedef struct {
  const char *name;
  const void *p;
  size_t bytes;
} Span;

static size_t
tensor_bytes(cudnnTensorDescriptor_t t)
{
  return (size_t)t->n * t->c * t->h * t->w * element_bytes(t->type);
}

static size_t
filter_bytes(cudnnFilterDescriptor_t f)
{
  return (size_t)f->k * f->c * f->r * f->s * element_bytes(f->type);
}

static gboolean
spans_overlap(const Span *a, const Span *b)
{
  const char *pa = a->p, *pb = b->p;
  return a->bytes > 0 && b->bytes > 0 && pa < pb + b->bytes && pb < pa + a->bytes;
}

/* Inputs and the output are device memory of their descriptors' sizes,
 * the workspace of its stated size, and the output overlaps nothing. */
static cudnnStatus_t
check_memory(const char *fn, const Span *in0, const Span *in1, const Span *out,
             const Span *ws)
{
  const Span *all[4] = { in0, in1, out, ws };
  for (int i = 0; i < 4; i++) {
    if (all[i]->bytes == 0)
      continue;
    char what[96];
    g_snprintf(what, sizeof(what), "%s %s", fn, all[i]->name);
    if (all[i]->p == NULL || !sc_emu_device_range(all[i]->p, all[i]->bytes, what)) {
      char why[96];
      g_snprintf(why, sizeof(why), "%s is not device memory of %zu bytes", all[i]->name,
                 all[i]->bytes);
      return bad_param(fn, why);
    }
  }
  for (int i = 0; i < 4; i++) {
    if (i == 2 || !spans_overlap(out, all[i]))
      continue;
    char why[96];
    g_snprintf(why, sizeof(why), "the output %s overlaps %s", out->name, all[i]->name);
    return bad_param(fn, why);
  }
  return CUDNN_STATUS_SUCCESS;
}

/* Element strides (n, c, h, w) of a tensor, (k, c, r, s) of a filter. */
static void
strides_of(cudnnTensorFormat_t f, int c, int h, int w, size_t st[4])
{
  if (f == CUDNN_TENSOR_NHWC) {
    st[0] = (size_t)h * w * c;
    st[1] = 1;
    st[2] = (size_t)w * c;
    st[3] = (size_t)c;
  } else {
    st[0] = (size_t)c * h * w;
    st[1] = (size_t)h * w;
    st[2] = (size_t)w;
    st[3] = 1;
  }
}

static float
element(const void *p, cudnnDataType_t t, size_t i)
{
  if (t == CUDNN_DATA_BFLOAT16)
    return sc_emu_bf16_to_float(((const uint16_t *)p)[i]);
  return ((const float *)p)[i];
}

/* A 4-d operand as dense floats in (d0, d2, d3, d1) order, that is NHWC /
 * KRSC whatever its layout; TF32-rounded when asked, spatially flipped
 * when flip (a CUDNN_CONVOLUTION filter). */
static float *
load_dense(const void *p, cudnnDataType_t t, cudnnTensorFormat_t f, int d0, int d1, int d2,
           int d3, gboolean tf32, gboolean flip)
{
  size_t st[4];
  strides_of(f, d1, d2, d3, st);
  float *out = g_new(float, (size_t)d0 * d1 * d2 * d3);
  size_t o = 0;
  for (int i0 = 0; i0 < d0; i0++)
    for (int i2 = 0; i2 < d2; i2++)
      for (int i3 = 0; i3 < d3; i3++)
        for (int i1 = 0; i1 < d1; i1++) {
          int j2 = flip ? d2 - 1 - i2 : i2, j3 = flip ? d3 - 1 - i3 : i3;
          float v = element(p, t, i0 * st[0] + i1 * st[1] + j2 * st[2] + j3 * st[3]);
          out[o++] = tf32 ? sc_emu_round_tf32(v) : v;
        }
  return out;
}

/* dst = alpha * res + beta * dst for a dense (d0, d2, d3, d1) result;
 * beta == 0: dst is not read. */
static void
store_dense(void *p, cudnnDataType_t t, cudnnTensorFormat_t f, int d0, int d1, int d2, int d3,
            gboolean flip, const float *res, float alpha, float beta)
{
  size_t st[4];
  strides_of(f, d1, d2, d3, st);
  size_t o = 0;
  for (int i0 = 0; i0 < d0; i0++)
    for (int i2 = 0; i2 < d2; i2++)
      for (int i3 = 0; i3 < d3; i3++)
        for (int i1 = 0; i1 < d1; i1++) {
          int j2 = flip ? d2 - 1 - i2 : i2, j3 = flip ? d3 - 1 - i3 : i3;
          size_t at = i0 * st[0] + i1 * st[1] + j2 * st[2] + j3 * st[3];
          float v = alpha * res[o++];
          if (beta != 0.0f)
            v += beta * element(p, t, at);
          if (t == CUDNN_DATA_BFLOAT16)
            ((uint16_t *)p)[at] = sc_emu_float_to_bf16(v);
          else
            ((float *)p)[at] = v;
        }
}

/* Garbage, as a measuring run leaves its output: random bits, so NaNs,
 * infinities and huge values among them. */
static void
scribble(void *p, size_t bytes)
{
  guint32 state = 0x9e3779b9u ^ (guint32)bytes;
  unsigned char *b = p;
  for (size_t i = 0; i < bytes; i++) {
    state = state * 1664525u + 1013904223u;
    b[i] = (unsigned char)(state >> 24);
  }
}

/* ---- The three directions on dense floats ---- */

/* The input pixel (ih, iw) that output (oh, ow) reads at filter tap
 * (r, s); FALSE in the padding. */
static inline gboolean
tap(const Shape *s, int oh, int ow, int r, int c, int *ih, int *iw)
{
  *ih = oh * s->stride_h - s->pad_h + r * s->dil_h;
  *iw = ow * s->stride_w - s->pad_w + c * s->dil_w;
  return *ih >= 0 && *ih < s->h && *iw >= 0 && *iw < s->w;
}

/* y (n, p, q, k) = sum over (r, s, c) of x (n, h, w, c) w (k, r, s, c). */
static void
forward_dense(const Shape *s, const float *x, const float *w, float *y)
{
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->p; oh++)
      for (int ow = 0; ow < s->q; ow++)
        for (int k = 0; k < s->k; k++) {
          float sum = 0.0f;
          for (int r = 0; r < s->r; r++)
            for (int t = 0; t < s->s; t++) {
              int ih, iw;
              if (!tap(s, oh, ow, r, t, &ih, &iw))
                continue;
              const float *xp = x + (((size_t)n * s->h + ih) * s->w + iw) * s->c;
              const float *wp = w + (((size_t)k * s->r + r) * s->s + t) * s->c;
              for (int c = 0; c < s->c; c++)
                sum += xp[c] * wp[c];
            }
          y[(((size_t)n * s->p + oh) * s->q + ow) * s->k + k] = sum;
        }
}

/* dx (n, h, w, c) = sum of dy (n, p, q, k) w (k, r, s, c) over the taps
 * that read (h, w). */
static void
backward_data_dense(const Shape *s, const float *w, const float *dy, float *dx)
{
  memset(dx, 0, sizeof(float) * s->n * s->h * s->w * s->c);
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->p; oh++)
      for (int ow = 0; ow < s->q; ow++)
        for (int r = 0; r < s->r; r++)
          for (int t = 0; t < s->s; t++) {
            int ih, iw;
            if (!tap(s, oh, ow, r, t, &ih, &iw))
              continue;
            float *dxp = dx + (((size_t)n * s->h + ih) * s->w + iw) * s->c;
            for (int k = 0; k < s->k; k++) {
              const float g = dy[(((size_t)n * s->p + oh) * s->q + ow) * s->k + k];
              const float *wp = w + (((size_t)k * s->r + r) * s->s + t) * s->c;
              for (int c = 0; c < s->c; c++)
                dxp[c] += g * wp[c];
            }
          }
}

/* dw (k, r, s, c) = sum over (n, p, q) of dy (n, p, q, k) x at the tap. */
static void
backward_filter_dense(const Shape *s, const float *x, const float *dy, float *dw)
{
  memset(dw, 0, sizeof(float) * s->k * s->r * s->s * s->c);
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->p; oh++)
      for (int ow = 0; ow < s->q; ow++)
        for (int r = 0; r < s->r; r++)
          for (int t = 0; t < s->s; t++) {
            int ih, iw;
            if (!tap(s, oh, ow, r, t, &ih, &iw))
              continue;
            const float *xp = x + (((size_t)n * s->h + ih) * s->w + iw) * s->c;
            for (int k = 0; k < s->k; k++) {
              const float g = dy[(((size_t)n * s->p + oh) * s->q + ow) * s->k + k];
              float *dwp = dw + (((size_t)k * s->r + r) * s->s + t) * s->c;
              for (int c = 0; c < s->c; c++)
                dwp[c] += g * xp[c];
            }
          }
}

/* ---- Calls ---- */

/* The descriptors of one call, by role: x the image side, w the filter,
 * y the output-image side (dy in the backward directions). */
typedef struct {
  Dir dir;
  const char *fn;
  cudnnTensorDescriptor_t x;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
  cudnnTensorDescriptor_t y;
  const void *xp, *wp, *yp; /* data; the direction's output among them */
} Call;

static void
call_spans(const Call *c, Span *in0, Span *in1, Span *out)
{
  Span xs = { "x", c->xp, tensor_bytes(c->x) };
  Span ws = { "w", c->wp, filter_bytes(c->w) };
  Span ys = { "y", c->yp, tensor_bytes(c->y) };
  switch (c->dir) {
  case DIR_FORWARD:
    *in0 = xs, *in1 = ws, *out = ys;
    break;
  case DIR_BACKWARD_DATA:
    ys.name = "dy", xs.name = "dx";
    *in0 = ws, *in1 = ys, *out = xs;
    break;
  default:
    ys.name = "dy", ws.name = "dw";
    *in0 = xs, *in1 = ys, *out = ws;
    break;
  }
}

static cudnnStatus_t
run(cudnnHandle_t handle, const Call *c, const void *alpha, const void *beta, int algo,
    void *ws, size_t ws_bytes)
{
  if (handle == NULL)
    return bad_param(c->fn, "handle is NULL");
  if (alpha == NULL || beta == NULL)
    return bad_param(c->fn, "alpha or beta is NULL");
  Shape s;
  cudnnStatus_t st = check_shape(c->fn, c->dir, c->x, c->w, c->conv, c->y, &s);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  const Algo *a = algo_find(c->dir, algo);
  char why[160];
  if (a == NULL) {
    g_snprintf(why, sizeof(why), "algorithm %d does not exist", algo);
    return bad_param(c->fn, why);
  }
  if (!algo_supports(a, &s)) {
    g_snprintf(why, sizeof(why), "algorithm %d does not support this convolution", algo);
    return not_supported(c->fn, why);
  }
  size_t need = workspace_bytes(a, &s);
  if (ws_bytes < need) {
    g_snprintf(why, sizeof(why), "workspace of %zu bytes; algorithm %d needs %zu", ws_bytes,
               algo, need);
    return bad_param(c->fn, why);
  }
  Span in0, in1, out, wss = { "workspace", ws, ws_bytes };
  call_spans(c, &in0, &in1, &out);
  if (in0.p == NULL || in1.p == NULL || out.p == NULL)
    return bad_param(c->fn, "a data pointer is NULL");
  st = check_memory(c->fn, &in0, &in1, &out, &wss);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;

  const gboolean tf32 = a->tensor_cores && tf32_permitted(&s);
  const cudnnTensorDescriptor_t x = c->x, y = c->y;
  const cudnnFilterDescriptor_t w = c->w;
  const float fa = *(const float *)alpha, fb = *(const float *)beta;
  float *d0, *d1, *res;
  switch (c->dir) {
  case DIR_FORWARD:
    d0 = load_dense(c->xp, s.type, x->format, s.n, s.c, s.h, s.w, tf32, FALSE);
    d1 = load_dense(c->wp, s.type, w->format, s.k, s.c, s.r, s.s, tf32, s.flip);
    res = g_new(float, (size_t)s.n * s.p * s.q * s.k);
    forward_dense(&s, d0, d1, res);
    store_dense((void *)c->yp, s.type, y->format, s.n, s.k, s.p, s.q, FALSE, res, fa, fb);
    break;
  case DIR_BACKWARD_DATA:
    d0 = load_dense(c->wp, s.type, w->format, s.k, s.c, s.r, s.s, tf32, s.flip);
    d1 = load_dense(c->yp, s.type, y->format, s.n, s.k, s.p, s.q, tf32, FALSE);
    res = g_new(float, (size_t)s.n * s.h * s.w * s.c);
    backward_data_dense(&s, d0, d1, res);
    store_dense((void *)c->xp, s.type, x->format, s.n, s.c, s.h, s.w, FALSE, res, fa, fb);
    break;
  default:
    d0 = load_dense(c->xp, s.type, x->format, s.n, s.c, s.h, s.w, tf32, FALSE);
    d1 = load_dense(c->yp, s.type, y->format, s.n, s.k, s.p, s.q, tf32, FALSE);
    res = g_new(float, (size_t)s.k * s.r * s.s * s.c);
    backward_filter_dense(&s, d0, d1, res);
    store_dense((void *)c->wp, s.type, w->format, s.k, s.c, s.r, s.s, s.flip, res, fa, fb);
    break;
  }
  g_free(d0);
  g_free(d1);
  g_free(res);
  if (ws_bytes > 0) /* what a real kernel leaves there */
    scribble(ws, MIN(ws_bytes, (size_t)1 << 20));
  return CUDNN_STATUS_SUCCESS;
}

/* Find*AlgorithmEx: checks the operands as a run would, leaves the output
 * (and the workspace's start) overwritten with garbage, as measuring runs
 * do, and reports the algorithms that fit ws_bytes, fastest first. */
static cudnnStatus_t
find(cudnnHandle_t handle, const Call *c, int requested, int *returned, Perf *perf, void *ws,
     size_t ws_bytes)
{
  if (handle == NULL)
    return bad_param(c->fn, "handle is NULL");
  if (returned == NULL || perf == NULL || requested <= 0)
    return bad_param(c->fn, "returnedAlgoCount or perfResults is NULL, or "
                            "requestedAlgoCount is not positive");
  Shape s;
  cudnnStatus_t st = check_shape(c->fn, c->dir, c->x, c->w, c->conv, c->y, &s);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  Span in0, in1, out, wss = { "workspace", ws, ws_bytes };
  call_spans(c, &in0, &in1, &out);
  if (in0.p == NULL || in1.p == NULL || out.p == NULL)
    return bad_param(c->fn, "a data pointer is NULL");
  st = check_memory(c->fn, &in0, &in1, &out, &wss);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  Perf all[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int count = rank(c->dir, &s, TRUE, ws_bytes, all);
  *returned = MIN(count, requested);
  memcpy(perf, all, sizeof(Perf) * *returned);
  scribble((void *)out.p, out.bytes);
  if (ws_bytes > 0)
    scribble(ws, MIN(ws_bytes, (size_t)1 << 20));
  return CUDNN_STATUS_SUCCESS;
}

/* Get*Algorithm_v7: the heuristics, every algorithm fastest first with its
 * workspace need; unsupported ones last. */
static cudnnStatus_t
heuristics(cudnnHandle_t handle, const Call *c, int requested, int *returned, Perf *perf)
{
  if (handle == NULL)
    return bad_param(c->fn, "handle is NULL");
  if (returned == NULL || perf == NULL || requested <= 0)
    return bad_param(c->fn, "returnedAlgoCount or perfResults is NULL, or "
                            "requestedAlgoCount is not positive");
  Shape s;
  cudnnStatus_t st = check_shape(c->fn, c->dir, c->x, c->w, c->conv, c->y, &s);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  Perf all[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int count = rank(c->dir, &s, FALSE, 0, all);
  *returned = MIN(count, requested);
  memcpy(perf, all, sizeof(Perf) * *returned);
  return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t
workspace_size(cudnnHandle_t handle, const Call *c, int algo, size_t *bytes)
{
  if (handle == NULL || bytes == NULL)
    return bad_param(c->fn, "handle or sizeInBytes is NULL");
  Shape s;
  cudnnStatus_t st = check_shape(c->fn, c->dir, c->x, c->w, c->conv, c->y, &s);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  const Algo *a = algo_find(c->dir, algo);
  if (a == NULL)
    return bad_param(c->fn, "no such algorithm");
  if (!algo_supports(a, &s))
    return not_supported(c->fn, "the algorithm does not support this convolution");
  *bytes = workspace_bytes(a, &s);
  return CUDNN_STATUS_SUCCESS;
}

/* ---- Forward ---- */

cudnnStatus_t
cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t handle, int *count)
{
  if (handle == NULL || count == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *count = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t handle, const cudnnTensorDescriptor_t x,
                                       const cudnnFilterDescriptor_t w,
                                       const cudnnConvolutionDescriptor_t conv,
                                       const cudnnTensorDescriptor_t y, const int requested,
                                       int *returned, cudnnConvolutionFwdAlgoPerf_t *perf)
{
  Call c = { DIR_FORWARD, "cudnnGetConvolutionForwardAlgorithm_v7", x, w, conv, y,
             NULL, NULL, NULL };
  return heuristics(handle, &c, requested, returned, (Perf *)perf);
}

cudnnStatus_t
cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t handle, const cudnnTensorDescriptor_t x,
                                       const void *xp, const cudnnFilterDescriptor_t w,
                                       const void *wp, const cudnnConvolutionDescriptor_t conv,
                                       const cudnnTensorDescriptor_t y, void *yp,
                                       const int requested, int *returned,
                                       cudnnConvolutionFwdAlgoPerf_t *perf, void *ws,
                                       size_t ws_bytes)
{
  Call c = { DIR_FORWARD, "cudnnFindConvolutionForwardAlgorithmEx", x, w, conv, y,
             xp, wp, yp };
  return find(handle, &c, requested, returned, (Perf *)perf, ws, ws_bytes);
}

cudnnStatus_t
cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle, const cudnnTensorDescriptor_t x,
                                        const cudnnFilterDescriptor_t w,
                                        const cudnnConvolutionDescriptor_t conv,
                                        const cudnnTensorDescriptor_t y,
                                        cudnnConvolutionFwdAlgo_t algo, size_t *bytes)
{
  Call c = { DIR_FORWARD, "cudnnGetConvolutionForwardWorkspaceSize", x, w, conv, y,
             NULL, NULL, NULL };
  return workspace_size(handle, &c, algo, bytes);
}

cudnnStatus_t
cudnnConvolutionForward(cudnnHandle_t handle, const void *alpha,
                        const cudnnTensorDescriptor_t x, const void *xp,
                        const cudnnFilterDescriptor_t w, const void *wp,
                        const cudnnConvolutionDescriptor_t conv, cudnnConvolutionFwdAlgo_t algo,
                        void *ws, size_t ws_bytes, const void *beta,
                        const cudnnTensorDescriptor_t y, void *yp)
{
  Call c = { DIR_FORWARD, "cudnnConvolutionForward", x, w, conv, y, xp, wp, yp };
  return run(handle, &c, alpha, beta, algo, ws, ws_bytes);
}

/* ---- Backward data ---- */

cudnnStatus_t
cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnnHandle_t handle, int *count)
{
  if (handle == NULL || count == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *count = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t handle,
                                            const cudnnFilterDescriptor_t w,
                                            const cudnnTensorDescriptor_t dy,
                                            const cudnnConvolutionDescriptor_t conv,
                                            const cudnnTensorDescriptor_t dx,
                                            const int requested, int *returned,
                                            cudnnConvolutionBwdDataAlgoPerf_t *perf)
{
  Call c = { DIR_BACKWARD_DATA, "cudnnGetConvolutionBackwardDataAlgorithm_v7", dx, w, conv,
             dy, NULL, NULL, NULL };
  return heuristics(handle, &c, requested, returned, (Perf *)perf);
}

cudnnStatus_t
cudnnFindConvolutionBackwardDataAlgorithmEx(cudnnHandle_t handle,
                                            const cudnnFilterDescriptor_t w, const void *wp,
                                            const cudnnTensorDescriptor_t dy, const void *dyp,
                                            const cudnnConvolutionDescriptor_t conv,
                                            const cudnnTensorDescriptor_t dx, void *dxp,
                                            const int requested, int *returned,
                                            cudnnConvolutionBwdDataAlgoPerf_t *perf, void *ws,
                                            size_t ws_bytes)
{
  Call c = { DIR_BACKWARD_DATA, "cudnnFindConvolutionBackwardDataAlgorithmEx", dx, w, conv,
             dy, dxp, wp, dyp };
  return find(handle, &c, requested, returned, (Perf *)perf, ws, ws_bytes);
}

cudnnStatus_t
cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle,
                                             const cudnnFilterDescriptor_t w,
                                             const cudnnTensorDescriptor_t dy,
                                             const cudnnConvolutionDescriptor_t conv,
                                             const cudnnTensorDescriptor_t dx,
                                             cudnnConvolutionBwdDataAlgo_t algo, size_t *bytes)
{
  Call c = { DIR_BACKWARD_DATA, "cudnnGetConvolutionBackwardDataWorkspaceSize", dx, w, conv,
             dy, NULL, NULL, NULL };
  return workspace_size(handle, &c, algo, bytes);
}

cudnnStatus_t
cudnnConvolutionBackwardData(cudnnHandle_t handle, const void *alpha,
                             const cudnnFilterDescriptor_t w, const void *wp,
                             const cudnnTensorDescriptor_t dy, const void *dyp,
                             const cudnnConvolutionDescriptor_t conv,
                             cudnnConvolutionBwdDataAlgo_t algo, void *ws, size_t ws_bytes,
                             const void *beta, const cudnnTensorDescriptor_t dx, void *dxp)
{
  Call c = { DIR_BACKWARD_DATA, "cudnnConvolutionBackwardData", dx, w, conv, dy, dxp, wp,
             dyp };
  return run(handle, &c, alpha, beta, algo, ws, ws_bytes);
}

/* ---- Backward filter ---- */

cudnnStatus_t
cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnnHandle_t handle, int *count)
{
  if (handle == NULL || count == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *count = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t handle,
                                              const cudnnTensorDescriptor_t x,
                                              const cudnnTensorDescriptor_t dy,
                                              const cudnnConvolutionDescriptor_t conv,
                                              const cudnnFilterDescriptor_t dw,
                                              const int requested, int *returned,
                                              cudnnConvolutionBwdFilterAlgoPerf_t *perf)
{
  Call c = { DIR_BACKWARD_FILTER, "cudnnGetConvolutionBackwardFilterAlgorithm_v7", x, dw,
             conv, dy, NULL, NULL, NULL };
  return heuristics(handle, &c, requested, returned, (Perf *)perf);
}

cudnnStatus_t
cudnnFindConvolutionBackwardFilterAlgorithmEx(cudnnHandle_t handle,
                                              const cudnnTensorDescriptor_t x, const void *xp,
                                              const cudnnTensorDescriptor_t dy,
                                              const void *dyp,
                                              const cudnnConvolutionDescriptor_t conv,
                                              const cudnnFilterDescriptor_t dw, void *dwp,
                                              const int requested, int *returned,
                                              cudnnConvolutionBwdFilterAlgoPerf_t *perf,
                                              void *ws, size_t ws_bytes)
{
  Call c = { DIR_BACKWARD_FILTER, "cudnnFindConvolutionBackwardFilterAlgorithmEx", x, dw,
             conv, dy, xp, dwp, dyp };
  return find(handle, &c, requested, returned, (Perf *)perf, ws, ws_bytes);
}

cudnnStatus_t
cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle,
                                               const cudnnTensorDescriptor_t x,
                                               const cudnnTensorDescriptor_t dy,
                                               const cudnnConvolutionDescriptor_t conv,
                                               const cudnnFilterDescriptor_t dw,
                                               cudnnConvolutionBwdFilterAlgo_t algo,
                                               size_t *bytes)
{
  Call c = { DIR_BACKWARD_FILTER, "cudnnGetConvolutionBackwardFilterWorkspaceSize", x, dw,
             conv, dy, NULL, NULL, NULL };
  return workspace_size(handle, &c, algo, bytes);
}

cudnnStatus_t
cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void *alpha,
                               const cudnnTensorDescriptor_t x, const void *xp,
                               const cudnnTensorDescriptor_t dy, const void *dyp,
                               const cudnnConvolutionDescriptor_t conv,
                               cudnnConvolutionBwdFilterAlgo_t algo, void *ws, size_t ws_bytes,
                               const void *beta, const cudnnFilterDescriptor_t dw, void *dwp)
{
  Call c = { DIR_BACKWARD_FILTER, "cudnnConvolutionBackwardFilter", x, dw, conv, dy, xp, dwp,
             dyp };
  return run(handle, &c, alpha, beta, algo, ws, ws_bytes);
}
