/* Convolutions on the GPU through cuDNN's legacy convolution API.
 *
 * Activations stay NHWC in our buffers, and cuDNN reads and writes them in
 * place. Our weights are HWIO (k_h, k_w, in_c, out_c); cuDNN's NHWC filters
 * are KRSC = OHWI (out_c, k_h, k_w, in_c), so a small kernel converts them
 * on the way in (forward, backward data) and the weight gradient on the way
 * out. cuDNN pads symmetrically only; TensorFlow's SAME padding with the
 * odd pixel after the image is done by padding the input explicitly.
 *
 * A plan per ScConvDesc (every batch size has its own) keeps the
 * descriptors and, per direction, the algorithm cuDNN measured fastest
 * among those whose workspace fits SC_CUDA_CONV_WORKSPACE_LIMIT; when
 * measuring fails, cuDNN's heuristics choose, and failing that the
 * algorithm that needs no workspace.
 *
 * In BF16 precision the plan's descriptors are bfloat16 (float32 compute):
 * the operands are converted into bf16 scratch before each call and the
 * result back to float32 after it. */
#include "cuda-backend-private.h"

#include "cuda-kernels.h"
#include "src/engine/sc-error.h"

#include <string.h>

/* TODO: cuDNN 9 marks this API deprecated in favour of its graph API; move
 * when the graph API's NHWC convolutions are wired in. */

#define SC_CUDA_CONV_WORKSPACE_LIMIT ((size_t)512 << 20)

/* Plans kept before the oldest is dropped (four layers times a few batch
 * sizes fit easily). */
#define CONV_PLANS_MAX 64

typedef enum {
  DIR_FORWARD,
  DIR_BACKWARD_DATA,
  DIR_BACKWARD_FILTER,
  DIR_COUNT,
} ConvDir;

static const char *const dir_names[DIR_COUNT] = { "forward", "backward data",
                                                  "backward filter" };

typedef struct {
  gboolean chosen;
  int algo;
  cudnnMathType_t math;
  size_t workspace_bytes;
} ConvChoice;

typedef struct {
  ScConvDesc desc;
  gboolean bf16;                /* bf16 operands (float32 otherwise) */
  gboolean explicit_pad;        /* asymmetric: the input is padded by a kernel */
  int in_h, in_w;               /* the input cuDNN sees (padded when explicit) */
  cudnnTensorDescriptor_t x_md; /* (batch, in_h, in_w, in_c) NHWC */
  cudnnTensorDescriptor_t y_md; /* (batch, out_h, out_w, out_c) NHWC */
  cudnnFilterDescriptor_t w_md; /* (out_c, k_h, k_w, in_c) KRSC */
  cudnnConvolutionDescriptor_t conv;
  ConvChoice choice[DIR_COUNT];
} ConvPlan;

struct _ScCudaConv {
  GPtrArray *plans; /* ConvPlan *, the most recently created last */
};

static void
plan_free(gpointer data)
{
  ConvPlan *p = data;
  if (p->x_md != NULL)
    cudnnDestroyTensorDescriptor(p->x_md);
  if (p->y_md != NULL)
    cudnnDestroyTensorDescriptor(p->y_md);
  if (p->w_md != NULL)
    cudnnDestroyFilterDescriptor(p->w_md);
  if (p->conv != NULL)
    cudnnDestroyConvolutionDescriptor(p->conv);
  g_free(p);
}

ScCudaConv *
sc_cuda_conv_new(void)
{
  ScCudaConv *conv = g_new0(ScCudaConv, 1);
  conv->plans = g_ptr_array_new_with_free_func(plan_free);
  return conv;
}

void
sc_cuda_conv_free(ScCudaConv *conv)
{
  if (conv == NULL)
    return;
  g_ptr_array_unref(conv->plans);
  g_free(conv);
}

void
sc_cuda_conv_clear(ScCudaConv *conv)
{
  g_ptr_array_set_size(conv->plans, 0);
}

static ConvPlan *
plan_lookup(ScCudaConv *conv, const ScConvDesc *d)
{
  for (guint i = 0; i < conv->plans->len; i++) {
    ConvPlan *p = g_ptr_array_index(conv->plans, i);
    if (memcmp(&p->desc, d, sizeof(*d)) == 0)
      return p;
  }
  return NULL;
}

static gboolean
plan_init(ScCudaBackend *cuda, ConvPlan *p)
{
  const ScConvDesc *d = &p->desc;
  p->bf16 = cuda->precision == SC_CUDA_PRECISION_BF16;
  const cudnnDataType_t type = p->bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
  p->explicit_pad = d->pad_top != d->pad_bottom || d->pad_left != d->pad_right;
  int pad_h = p->explicit_pad ? 0 : d->pad_top, pad_w = p->explicit_pad ? 0 : d->pad_left;
  p->in_h = d->in_h + (p->explicit_pad ? d->pad_top + d->pad_bottom : 0);
  p->in_w = d->in_w + (p->explicit_pad ? d->pad_left + d->pad_right : 0);

  if (!sc_cudnn_check(cuda, cudnnCreateTensorDescriptor(&p->x_md), "tensor descriptor")
      || !sc_cudnn_check(cuda, cudnnCreateTensorDescriptor(&p->y_md), "tensor descriptor")
      || !sc_cudnn_check(cuda, cudnnCreateFilterDescriptor(&p->w_md), "filter descriptor")
      || !sc_cudnn_check(cuda, cudnnCreateConvolutionDescriptor(&p->conv),
                         "convolution descriptor"))
    return FALSE;
  if (!sc_cudnn_check(cuda,
                      cudnnSetTensor4dDescriptor(p->x_md, CUDNN_TENSOR_NHWC, type, d->batch,
                                                 d->in_c, p->in_h, p->in_w),
                      "input descriptor")
      || !sc_cudnn_check(cuda,
                         cudnnSetTensor4dDescriptor(p->y_md, CUDNN_TENSOR_NHWC, type,
                                                    d->batch, d->out_c, d->out_h, d->out_w),
                         "output descriptor")
      || !sc_cudnn_check(cuda,
                         cudnnSetFilter4dDescriptor(p->w_md, type, CUDNN_TENSOR_NHWC,
                                                    d->out_c, d->in_c, d->k_h, d->k_w),
                         "filter descriptor")
      || !sc_cudnn_check(cuda,
                         cudnnSetConvolution2dDescriptor(p->conv, pad_h, pad_w, d->stride,
                                                         d->stride, 1, 1,
                                                         CUDNN_CROSS_CORRELATION,
                                                         CUDNN_DATA_FLOAT),
                         "convolution descriptor"))
    return FALSE;

  /* cuDNN's output size must be ours, or the shapes were not understood. */
  int n, c, h, w;
  if (!sc_cudnn_check(cuda,
                      cudnnGetConvolution2dForwardOutputDim(p->conv, p->x_md, p->w_md, &n, &c,
                                                            &h, &w),
                      "output size"))
    return FALSE;
  if (n != d->batch || c != d->out_c || h != d->out_h || w != d->out_w) {
    sc_cuda_fail(cuda, g_error_new(SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                                   "CUDA backend: cuDNN computes a %dx%dx%dx%d output for "
                                   "the convolution of batch %d, %dx%dx%d, kernel %dx%d, "
                                   "stride %d; expected %dx%dx%dx%d",
                                   n, h, w, c, d->batch, d->in_h, d->in_w, d->in_c, d->k_h,
                                   d->k_w, d->stride, d->batch, d->out_h, d->out_w,
                                   d->out_c));
    return FALSE;
  }
  return TRUE;
}

static ConvPlan *
plan_get(ScCudaBackend *cuda, const ScConvDesc *d)
{
  ConvPlan *p = plan_lookup(cuda->conv, d);
  if (p != NULL)
    return p;
  p = g_new0(ConvPlan, 1);
  p->desc = *d;
  for (int i = 0; i < DIR_COUNT; i++)
    p->choice[i].algo = -1;
  if (!plan_init(cuda, p)) {
    plan_free(p);
    return NULL;
  }
  if (cuda->conv->plans->len >= CONV_PLANS_MAX)
    g_ptr_array_remove_index(cuda->conv->plans, 0);
  g_ptr_array_add(cuda->conv->plans, p);
  return p;
}

/* ---- Choosing algorithms ---- */

/* The math cuDNN may use: tensor cores (TF32 for float32 operands, bf16
 * for bf16 ones), or float32 FMA only. */
static cudnnMathType_t
math_allowed(ScCudaBackend *cuda)
{
  return cuda->precision == SC_CUDA_PRECISION_FP32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
}

/* The perf structs of the three directions share their first fields;
 * this picks the first (fastest) that succeeded within the limit. */
#define PICK_FIRST(perf, count, limit, choice)                                    \
  do {                                                                            \
    for (int i_ = 0; i_ < (count); i_++) {                                        \
      if ((perf)[i_].status == CUDNN_STATUS_SUCCESS && (perf)[i_].memory <= (limit)) { \
        (choice)->chosen = TRUE;                                                  \
        (choice)->algo = (int)(perf)[i_].algo;                                    \
        (choice)->math = (perf)[i_].mathType;                                     \
        (choice)->workspace_bytes = (perf)[i_].memory;                            \
        break;                                                                    \
      }                                                                           \
    }                                                                             \
  } while (0)

/* In FP32 the chosen algorithm runs with FMA math whatever math type cuDNN
 * reported for it, so no tensor-core rounding slips in. */
static void
restrict_math(ScCudaBackend *cuda, ConvChoice *ch)
{
  if (cuda->precision == SC_CUDA_PRECISION_FP32)
    ch->math = CUDNN_FMA_MATH;
}

/* Workspace for measuring: the limit, or less when the device is short. */
static void *
measure_workspace(ScCudaBackend *cuda, size_t *bytes)
{
  for (size_t want = SC_CUDA_CONV_WORKSPACE_LIMIT; want >= ((size_t)1 << 20); want /= 4) {
    void *ws = cuda->scratch[SC_CUDA_SCRATCH_WS];
    if (ws != NULL && cuda->scratch_bytes[SC_CUDA_SCRATCH_WS] >= want) {
      *bytes = cuda->scratch_bytes[SC_CUDA_SCRATCH_WS];
      return ws;
    }
    void *probe = NULL;
    if (cudaMalloc(&probe, want) == cudaSuccess) {
      cudaFree(probe);
      ws = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_WS, want);
      if (ws != NULL) {
        *bytes = want;
        return ws;
      }
    }
    (void)cudaGetLastError();
  }
  *bytes = 0;
  return NULL;
}

/* The algorithm that needs no workspace, when nothing else can be chosen. */
static const int fallback_algo[DIR_COUNT] = {
  CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
  CUDNN_CONVOLUTION_BWD_DATA_ALGO_0,
  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0,
};

/* Ranks the algorithms of one direction, measured on the operands with
 * workspace ws or, when ws is NULL, by cuDNN's heuristics, and picks the
 * fastest that fits ws_bytes into ch. The operands are those of the
 * direction's call: forward (x, w -> y), backward data (w, dy -> dx),
 * backward filter (x, dy -> dw). */
static void
rank_algorithms(ScCudaBackend *cuda, const ConvPlan *p, ConvDir dir, const void *a,
                const void *b, void *out, void *ws, size_t ws_bytes, ConvChoice *ch)
{
  cudnnHandle_t h = cuda->cudnn;
  int n = 0;
  cudnnStatus_t st;
  switch (dir) {
  case DIR_FORWARD: {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    const int max = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    st = ws != NULL ? cudnnFindConvolutionForwardAlgorithmEx(h, p->x_md, a, p->w_md, b, p->conv,
                                                             p->y_md, out, max, &n, perf, ws,
                                                             ws_bytes)
                    : cudnnGetConvolutionForwardAlgorithm_v7(h, p->x_md, p->w_md, p->conv,
                                                             p->y_md, max, &n, perf);
    if (st == CUDNN_STATUS_SUCCESS)
      PICK_FIRST(perf, n, ws_bytes, ch);
    break;
  }
  case DIR_BACKWARD_DATA: {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    const int max = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    st = ws != NULL ? cudnnFindConvolutionBackwardDataAlgorithmEx(h, p->w_md, a, p->y_md, b,
                                                                  p->conv, p->x_md, out, max,
                                                                  &n, perf, ws, ws_bytes)
                    : cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->w_md, p->y_md, p->conv,
                                                                  p->x_md, max, &n, perf);
    if (st == CUDNN_STATUS_SUCCESS)
      PICK_FIRST(perf, n, ws_bytes, ch);
    break;
  }
  case DIR_BACKWARD_FILTER: {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    const int max = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
    st = ws != NULL ? cudnnFindConvolutionBackwardFilterAlgorithmEx(h, p->x_md, a, p->y_md, b,
                                                                    p->conv, p->w_md, out, max,
                                                                    &n, perf, ws, ws_bytes)
                    : cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p->x_md, p->y_md,
                                                                    p->conv, p->w_md, max, &n,
                                                                    perf);
    if (st == CUDNN_STATUS_SUCCESS)
      PICK_FIRST(perf, n, ws_bytes, ch);
    break;
  }
  default:
    break;
  }
}

/* Chooses the algorithm of one direction (operands as rank_algorithms):
 * measured, else from the heuristics, else the fallback. */
static void
choose(ScCudaBackend *cuda, ConvPlan *p, ConvDir dir, const void *a, const void *b, void *out)
{
  ConvChoice *ch = &p->choice[dir];
  size_t ws_bytes;
  void *ws = measure_workspace(cuda, &ws_bytes);
  /* The math the ranking may consider; a failure here is reported, and the
   * fallback below still gives a usable choice. */
  sc_cudnn_check(cuda, cudnnSetConvolutionMathType(p->conv, math_allowed(cuda)), "math type");
  if (ws != NULL)
    rank_algorithms(cuda, p, dir, a, b, out, ws, ws_bytes, ch);
  if (!ch->chosen)
    rank_algorithms(cuda, p, dir, a, b, out, NULL, ws_bytes, ch);
  if (!ch->chosen)
    *ch = (ConvChoice){ TRUE, fallback_algo[dir], CUDNN_FMA_MATH, 0 };
  restrict_math(cuda, ch);
}

/* The algorithm of one direction (chosen on its first use; operands as
 * rank_algorithms) made ready to run: its workspace in ws (NULL when it
 * needs none) and its math type set. NULL when either fails. */
static const ConvChoice *
prepare(ScCudaBackend *cuda, ConvPlan *p, ConvDir dir, const void *a, const void *b, void *out,
        void **ws)
{
  ConvChoice *ch = &p->choice[dir];
  if (!ch->chosen)
    choose(cuda, p, dir, a, b, out);
  *ws = NULL;
  if (ch->workspace_bytes > 0
      && (*ws = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_WS, ch->workspace_bytes)) == NULL)
    return NULL;
  if (!sc_cudnn_check(cuda, cudnnSetConvolutionMathType(p->conv, ch->math), "math type"))
    return NULL;
  return ch;
}

/* Fills a buffer of floats with NaN, so a failed operation's output cannot
 * pass for a result; the failure itself is reported by sync(). */
static void
poison(ScCudaBackend *cuda, float *p, size_t n)
{
  if (p != NULL)
    (void)cudaMemsetAsync(p, 0xFF, n * sizeof(float), cuda->stream);
}

/* ---- The operations ---- */

static size_t
weights_count(const ScConvDesc *d)
{
  return (size_t)d->k_h * d->k_w * d->in_c * d->out_c;
}

/* The input as cuDNN sees it: x itself, or x padded into scratch. */
static const float *
input_for(ScCudaBackend *cuda, const ConvPlan *p, const float *x)
{
  if (!p->explicit_pad)
    return x;
  const ScConvDesc *d = &p->desc;
  float *xp = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_PAD,
                              (size_t)d->batch * p->in_h * p->in_w * d->in_c * sizeof(float));
  if (xp == NULL
      || !sc_cuda_check(cuda,
                        sc_cuda_pad_nhwc(cuda->stream, d->batch, d->in_h, d->in_w, d->in_c,
                                         d->pad_top, d->pad_bottom, d->pad_left, d->pad_right,
                                         x, xp),
                        "convolution padding"))
    return NULL;
  return xp;
}

static float *
weights_ohwi(ScCudaBackend *cuda, const ScConvDesc *d, const float *w)
{
  float *wt = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_W, weights_count(d) * sizeof(float));
  if (wt == NULL
      || !sc_cuda_check(cuda,
                        sc_cuda_hwio_to_ohwi(cuda->stream, d->k_h, d->k_w, d->in_c, d->out_c,
                                             w, wt),
                        "weight layout"))
    return NULL;
  return wt;
}

/* n float32 values as the plan's operand type: src itself, or converted
 * to bf16 in scratch `slot`. NULL when that fails (the failure is kept). */
static const void *
operand(ScCudaBackend *cuda, const ConvPlan *p, ScCudaScratch slot, const float *src, size_t n)
{
  if (!p->bf16)
    return src;
  uint16_t *b = sc_cuda_scratch(cuda, slot, n * sizeof(uint16_t));
  if (b == NULL
      || !sc_cuda_check(cuda, sc_cuda_float_to_bf16(cuda->stream, n, src, b),
                        "bf16 conversion"))
    return NULL;
  return b;
}

/* Where cuDNN writes a result of n values bound for dst: dst itself, or
 * bf16 scratch that finish_result converts into dst. */
static void *
result_buffer(ScCudaBackend *cuda, const ConvPlan *p, float *dst, size_t n)
{
  if (!p->bf16)
    return dst;
  return sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_BF16_OUT, n * sizeof(uint16_t));
}

static gboolean
finish_result(ScCudaBackend *cuda, const ConvPlan *p, const void *result, float *dst, size_t n)
{
  return !p->bf16
         || sc_cuda_check(cuda, sc_cuda_bf16_to_float(cuda->stream, n, result, dst),
                          "bf16 conversion");
}

/* Values of the input as cuDNN sees it (padded when explicit). */
static size_t
input_count(const ConvPlan *p)
{
  return (size_t)p->desc.batch * p->in_h * p->in_w * p->desc.in_c;
}

void
sc_cuda_conv2d_forward(ScBackend *be, const ScConvDesc *d, const float *x, const float *w,
                       const float *bias, float *y)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  const size_t y_count = (size_t)d->batch * d->out_h * d->out_w * d->out_c;
  ConvPlan *p = plan_get(cuda, d);
  const float *xin = p != NULL ? input_for(cuda, p, x) : NULL;
  const float *wt = xin != NULL ? weights_ohwi(cuda, d, w) : NULL;
  const void *xo = wt != NULL ? operand(cuda, p, SC_CUDA_SCRATCH_BF16_X, xin, input_count(p))
                              : NULL;
  const void *wo = xo != NULL ? operand(cuda, p, SC_CUDA_SCRATCH_BF16_W, wt, weights_count(d))
                              : NULL;
  void *yo = wo != NULL ? result_buffer(cuda, p, y, y_count) : NULL;
  if (yo == NULL) {
    poison(cuda, y, y_count);
    return;
  }
  const float one = 1.0f, zero = 0.0f;
  void *ws;
  const ConvChoice *ch = prepare(cuda, p, DIR_FORWARD, xo, wo, yo, &ws);
  if (ch == NULL
      || !sc_cudnn_check(cuda,
                         cudnnConvolutionForward(cuda->cudnn, &one, p->x_md, xo, p->w_md, wo,
                                                 p->conv,
                                                 (cudnnConvolutionFwdAlgo_t)ch->algo, ws,
                                                 ch->workspace_bytes, &zero, p->y_md, yo),
                         dir_names[DIR_FORWARD])
      || !finish_result(cuda, p, yo, y, y_count)) {
    poison(cuda, y, y_count);
    return;
  }
  if (bias != NULL)
    sc_cuda_check(cuda,
                  sc_cuda_bias_add(cuda->stream, d->batch * d->out_h * d->out_w, d->out_c, y,
                                   bias),
                  "convolution bias");
}

/* dyo: the output gradient as the plan's operand type. */
static gboolean
backward_filter(ScCudaBackend *cuda, ConvPlan *p, const float *xin, const void *dyo, float *dw)
{
  const ScConvDesc *d = &p->desc;
  float *dwt = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_DW, weights_count(d) * sizeof(float));
  const void *xo = dwt != NULL ? operand(cuda, p, SC_CUDA_SCRATCH_BF16_X, xin, input_count(p))
                               : NULL;
  void *dwo = xo != NULL ? result_buffer(cuda, p, dwt, weights_count(d)) : NULL;
  if (dwo == NULL)
    return FALSE;
  const float one = 1.0f, zero = 0.0f;
  void *ws;
  const ConvChoice *ch = prepare(cuda, p, DIR_BACKWARD_FILTER, xo, dyo, dwo, &ws);
  return ch != NULL
         && sc_cudnn_check(cuda,
                           cudnnConvolutionBackwardFilter(
                             cuda->cudnn, &one, p->x_md, xo, p->y_md, dyo, p->conv,
                             (cudnnConvolutionBwdFilterAlgo_t)ch->algo, ws,
                             ch->workspace_bytes, &zero, p->w_md, dwo),
                           dir_names[DIR_BACKWARD_FILTER])
         && finish_result(cuda, p, dwo, dwt, weights_count(d))
         && sc_cuda_check(cuda,
                          sc_cuda_ohwi_to_hwio(cuda->stream, d->k_h, d->k_w, d->in_c,
                                               d->out_c, dwt, dw),
                          "weight gradient layout");
}

static gboolean
backward_data(ScCudaBackend *cuda, ConvPlan *p, const float *w, const void *dyo, float *dx)
{
  const ScConvDesc *d = &p->desc;
  const float *wt = weights_ohwi(cuda, d, w);
  const void *wo = wt != NULL ? operand(cuda, p, SC_CUDA_SCRATCH_BF16_W, wt, weights_count(d))
                              : NULL;
  if (wo == NULL)
    return FALSE;
  /* With explicit padding cuDNN writes the padded gradient; its interior is dx. */
  float *dxp = dx;
  if (p->explicit_pad) {
    dxp = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_PAD, input_count(p) * sizeof(float));
    if (dxp == NULL)
      return FALSE;
  }
  void *dxo = result_buffer(cuda, p, dxp, input_count(p));
  if (dxo == NULL)
    return FALSE;
  const float one = 1.0f, zero = 0.0f;
  void *ws;
  const ConvChoice *ch = prepare(cuda, p, DIR_BACKWARD_DATA, wo, dyo, dxo, &ws);
  if (ch == NULL
      || !sc_cudnn_check(cuda,
                         cudnnConvolutionBackwardData(cuda->cudnn, &one, p->w_md, wo, p->y_md,
                                                      dyo, p->conv,
                                                      (cudnnConvolutionBwdDataAlgo_t)ch->algo,
                                                      ws, ch->workspace_bytes, &zero, p->x_md,
                                                      dxo),
                         dir_names[DIR_BACKWARD_DATA])
      || !finish_result(cuda, p, dxo, dxp, input_count(p)))
    return FALSE;
  if (!p->explicit_pad)
    return TRUE;
  return sc_cuda_check(cuda,
                       sc_cuda_crop_nhwc(cuda->stream, d->batch, d->in_h, d->in_w, d->in_c,
                                         d->pad_top, d->pad_bottom, d->pad_left, d->pad_right,
                                         dxp, dx),
                       "convolution gradient crop");
}

void
sc_cuda_conv2d_backward(ScBackend *be, const ScConvDesc *d, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *dbias)
{
  ScCudaBackend *cuda = sc_cuda_backend(be);
  ConvPlan *p = plan_get(cuda, d);
  const size_t rows = (size_t)d->batch * d->out_h * d->out_w;

  if (dbias != NULL) {
    double *partial = sc_cuda_scratch(cuda, SC_CUDA_SCRATCH_BIAS,
                                      sc_cuda_bias_grad_scratch(d->out_c) * sizeof(double));
    if (partial == NULL
        || !sc_cuda_check(cuda,
                          sc_cuda_bias_grad(cuda->stream, (int)rows, d->out_c, dy, dbias,
                                            partial),
                          "convolution bias gradient"))
      poison(cuda, dbias, d->out_c);
  }
  /* dy as the operand type once, for both directions. */
  const void *dyo = p != NULL ? operand(cuda, p, SC_CUDA_SCRATCH_BF16_DY, dy, rows * d->out_c)
                              : NULL;
  /* The padded input lives in the same scratch as the padded input
   * gradient, so the filter gradient (which reads it) runs first. */
  const float *xin = dyo != NULL ? input_for(cuda, p, x) : NULL;
  if (xin == NULL || !backward_filter(cuda, p, xin, dyo, dw))
    poison(cuda, dw, weights_count(d));
  if (dx != NULL && (dyo == NULL || !backward_data(cuda, p, w, dyo, dx)))
    poison(cuda, dx, (size_t)d->batch * d->in_h * d->in_w * d->in_c);
}

gboolean
sc_cuda_conv_algorithms(ScBackend *be, const ScConvDesc *d, int algos[3])
{
  g_return_val_if_fail(sc_backend_is_cuda(be), FALSE);
  ConvPlan *p = plan_lookup(sc_cuda_backend(be)->conv, d);
  if (p == NULL)
    return FALSE;
  for (int i = 0; i < DIR_COUNT; i++)
    algos[i] = p->choice[i].chosen ? p->choice[i].algo : -1;
  return TRUE;
}

guint
sc_cuda_conv_plan_count(ScBackend *be)
{
  g_return_val_if_fail(sc_backend_is_cuda(be), 0);
  return sc_cuda_backend(be)->conv->plans->len;
}
