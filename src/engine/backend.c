#include "backend.h"

#include "config.h"
#include "sc-error.h"

#include <string.h>

#if SC_HAVE_CUDA
#include "cuda/sc-cuda.h"
#endif

gboolean
sc_conv_desc_init(ScConvDesc *d, int batch, int in_h, int in_w, int in_c, int out_c,
                  int k_h, int k_w, int stride, ScPadding padding, GError **error)
{
  if (batch < 1 || in_h < 1 || in_w < 1 || in_c < 1 || out_c < 1 || k_h < 1 || k_w < 1
      || stride < 1) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Convolution: every size must be at least 1 (batch %d, input %dx%dx%d, "
                "%d filters of %dx%d, stride %d)",
                batch, in_h, in_w, in_c, out_c, k_h, k_w, stride);
    return FALSE;
  }
  *d = (ScConvDesc){ .batch = batch, .in_h = in_h, .in_w = in_w, .in_c = in_c,
                     .out_c = out_c, .k_h = k_h, .k_w = k_w, .stride = stride };
  if (padding == SC_PADDING_SAME) {
    d->out_h = (in_h + stride - 1) / stride;
    d->out_w = (in_w + stride - 1) / stride;
    int pad_h = MAX((d->out_h - 1) * stride + k_h - in_h, 0);
    int pad_w = MAX((d->out_w - 1) * stride + k_w - in_w, 0);
    /* TensorFlow puts the odd pixel of padding after the image. */
    d->pad_top = pad_h / 2;
    d->pad_bottom = pad_h - d->pad_top;
    d->pad_left = pad_w / 2;
    d->pad_right = pad_w - d->pad_left;
  } else {
    d->out_h = in_h >= k_h ? (in_h - k_h) / stride + 1 : 0;
    d->out_w = in_w >= k_w ? (in_w - k_w) / stride + 1 : 0;
  }
  if (d->out_h < 1 || d->out_w < 1) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Convolution: a %dx%d input is smaller than the %dx%d kernel "
                "with valid padding",
                in_h, in_w, k_h, k_w);
    return FALSE;
  }
  return TRUE;
}

gboolean
sc_backend_name_valid(const char *name)
{
  static const char *const names[] = { "cpu", "cuda", "cuda-fp32", "cuda-tf32", "cuda-bf16" };
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
    if (g_strcmp0(name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

ScBackend *
sc_backend_new(const char *name, int threads, GError **error)
{
  if (name == NULL || g_str_equal(name, "cpu"))
    return sc_backend_cpu_new(threads, error);
  if (sc_backend_name_valid(name)) {
#if SC_HAVE_CUDA
    ScBackend *be = sc_backend_cuda_new(threads, error);
    ScCudaPrecision precision;
    if (be != NULL && g_str_has_prefix(name, "cuda-")
        && sc_cuda_precision_parse(name + strlen("cuda-"), &precision, NULL))
      sc_cuda_backend_set_precision(be, precision);
    return be;
#else
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_UNSUPPORTED,
                "The CUDA backend is not part of this build (%s); use --backend cpu",
                SC_CUDA_MISSING);
    return NULL;
#endif
  }
  g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_INVALID_ARGUMENT,
              "Unknown backend '%s': expected cpu, cuda, cuda-fp32, cuda-tf32 or cuda-bf16",
              name);
  return NULL;
}

void
sc_backend_free(ScBackend *be)
{
  if (be != NULL)
    be->ops->destroy(be);
}

void *
sc_backend_alloc(ScBackend *be, size_t bytes, const char *what, GError **error)
{
  void *ptr = be->ops->alloc(be, bytes > 0 ? bytes : 1);
  if (ptr == NULL)
    g_set_error(error, SC_BACKEND_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "Out of memory on the %s backend: %.1f MiB needed for %s", be->ops->name,
                bytes / 1048576.0, what);
  return ptr;
}
