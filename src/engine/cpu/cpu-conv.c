/* Convolutions on the CPU through oneDNN.
 *
 * Activations stay NHWC in our buffers and oneDNN reads and writes them in
 * place (its AVX-512 kernels take channels-last directly). Weights live as
 * HWIO; each primitive picks its own blocked weight layout and a small
 * reorder converts on the way in (forward, backward data) or out (backward
 * weights). bench/conv-bench.c measured it against im2col + OpenBLAS on the
 * encoder's four layers, batch 1050, 2 threads: 2.3 s against 4.3 s for
 * forward and backward, and no column buffer. Blocked activation layouts
 * (format "any") were slower still once their reorders were counted.
 *
 * Primitives are cached per ScConvDesc, so every batch size gets its own.
 * One scratchpad buffer, grown to the largest need, serves all of them; the
 * backend's lock makes the operations of one backend run one at a time. */
#include "cpu-backend-private.h"

#include "../sc-error.h"

#include <dnnl.h>
#include <dnnl_debug.h>
#include <stdlib.h>
#include <string.h>

/* TODO: bf16 on AMX. oneDNN 2.6 keeps f32 convolutions in f32 even under
 * fpmath_mode bf16 (measured: no change); it would need bf16 tensors. */

/* Plans kept before the oldest is dropped: four layers times a few batch
 * sizes (training, evaluation, the last partial batches) fit easily. */
#define CONV_PLANS_MAX 64

typedef enum {
  DIR_FORWARD,
  DIR_BACKWARD_DATA,
  DIR_BACKWARD_WEIGHTS,
  DIR_COUNT,
} ConvDir;

static const char *const dir_names[DIR_COUNT] = { "forward", "backward data",
                                                  "backward weights" };

typedef struct {
  dnnl_primitive_desc_t pd; /* NULL until the direction is first used */
  dnnl_primitive_t prim;
  dnnl_memory_desc_t w_md;  /* weights (or their gradient) as the primitive wants */
  dnnl_primitive_t reorder; /* HWIO <-> w_md; NULL when w_md is HWIO itself */
  float *w_buf;             /* (k_h * k_w * in_c * out_c) in w_md's layout */
} ConvStep;

typedef struct {
  ScConvDesc desc;
  dnnl_memory_desc_t src_md, dst_md, bias_md, w_user_md; /* NHWC, NHWC, (O), HWIO */
  ConvStep step[DIR_COUNT];
} ConvPlan;

struct _ScCpuConv {
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  dnnl_primitive_attr_t attr; /* user-managed scratchpad */
  GPtrArray *plans;           /* ConvPlan *, most recently created last */
  void *scratch;
  size_t scratch_bytes;
};

static gboolean
dnnl_ok(dnnl_status_t status, const char *call, const ScConvDesc *d, GError **error)
{
  if (status == dnnl_success)
    return TRUE;
  ScErrorCode code = status == dnnl_out_of_memory        ? SC_ERROR_OUT_OF_MEMORY
                     : status == dnnl_invalid_arguments ? SC_ERROR_INVALID_ARGUMENT
                                                        : SC_ERROR_UNSUPPORTED;
  g_set_error(error, SC_BACKEND_ERROR, code,
              "oneDNN %s failed (%s) for the convolution of batch %d, %dx%dx%d -> "
              "%dx%dx%d, kernel %dx%d, stride %d",
              call, dnnl_status2str(status), d->batch, d->in_h, d->in_w, d->in_c,
              d->out_h, d->out_w, d->out_c, d->k_h, d->k_w, d->stride);
  return FALSE;
}

static void
conv_step_clear(ConvStep *s)
{
  if (s->reorder != NULL)
    dnnl_primitive_destroy(s->reorder);
  if (s->prim != NULL)
    dnnl_primitive_destroy(s->prim);
  if (s->pd != NULL)
    dnnl_primitive_desc_destroy(s->pd);
  free(s->w_buf);
  memset(s, 0, sizeof(*s));
}

static void
conv_plan_free(gpointer data)
{
  ConvPlan *plan = data;
  for (int i = 0; i < DIR_COUNT; i++)
    conv_step_clear(&plan->step[i]);
  g_free(plan);
}

gboolean
sc_cpu_conv_init(ScBackend *be, GError **error)
{
  static const ScConvDesc none = { 0 };
  ScCpuConv *conv = g_new0(ScCpuConv, 1);
  sc_cpu_backend(be)->conv = conv;
  conv->plans = g_ptr_array_new_with_free_func(conv_plan_free);
  return dnnl_ok(dnnl_engine_create(&conv->engine, dnnl_cpu, 0), "engine_create", &none,
                 error)
         && dnnl_ok(dnnl_stream_create(&conv->stream, conv->engine,
                                       dnnl_stream_default_flags),
                    "stream_create", &none, error)
         && dnnl_ok(dnnl_primitive_attr_create(&conv->attr), "attr_create", &none, error)
         && dnnl_ok(dnnl_primitive_attr_set_scratchpad_mode(conv->attr,
                                                            dnnl_scratchpad_mode_user),
                    "set_scratchpad_mode", &none, error);
}

void
sc_cpu_conv_release(ScBackend *be)
{
  ScCpuConv *conv = sc_cpu_backend(be)->conv;
  if (conv == NULL)
    return;
  g_ptr_array_unref(conv->plans);
  if (conv->attr != NULL)
    dnnl_primitive_attr_destroy(conv->attr);
  if (conv->stream != NULL)
    dnnl_stream_destroy(conv->stream);
  if (conv->engine != NULL)
    dnnl_engine_destroy(conv->engine);
  free(conv->scratch);
  g_free(conv);
  sc_cpu_backend(be)->conv = NULL;
}

/* Memory descriptors of our layouts. oneDNN orders dimensions (N, C, H, W)
 * and (O, I, H, W) whatever the layout; the tag says how they lie. */
static gboolean
conv_plan_init_mds(ConvPlan *plan, GError **error)
{
  const ScConvDesc *d = &plan->desc;
  dnnl_dims_t src = { d->batch, d->in_c, d->in_h, d->in_w };
  dnnl_dims_t dst = { d->batch, d->out_c, d->out_h, d->out_w };
  dnnl_dims_t w = { d->out_c, d->in_c, d->k_h, d->k_w };
  dnnl_dims_t bias = { d->out_c };
  return dnnl_ok(dnnl_memory_desc_init_by_tag(&plan->src_md, 4, src, dnnl_f32, dnnl_nhwc),
                 "memory_desc_init (input)", d, error)
         && dnnl_ok(dnnl_memory_desc_init_by_tag(&plan->dst_md, 4, dst, dnnl_f32, dnnl_nhwc),
                    "memory_desc_init (output)", d, error)
         && dnnl_ok(dnnl_memory_desc_init_by_tag(&plan->w_user_md, 4, w, dnnl_f32, dnnl_hwio),
                    "memory_desc_init (weights)", d, error)
         && dnnl_ok(dnnl_memory_desc_init_by_tag(&plan->bias_md, 1, bias, dnnl_f32, dnnl_a),
                    "memory_desc_init (bias)", d, error);
}

/* The operation descriptor of one direction; weights in "any" layout. */
static gboolean
conv_op_desc(const ConvPlan *plan, ConvDir dir, dnnl_convolution_desc_t *op,
             GError **error)
{
  const ScConvDesc *d = &plan->desc;
  dnnl_dims_t strides = { d->stride, d->stride };
  dnnl_dims_t pad_l = { d->pad_top, d->pad_left };
  dnnl_dims_t pad_r = { d->pad_bottom, d->pad_right };
  dnnl_dims_t w_dims = { d->out_c, d->in_c, d->k_h, d->k_w };
  dnnl_memory_desc_t w_any;
  if (!dnnl_ok(dnnl_memory_desc_init_by_tag(&w_any, 4, w_dims, dnnl_f32, dnnl_format_tag_any),
               "memory_desc_init (weights, any)", d, error))
    return FALSE;

  dnnl_status_t status;
  switch (dir) {
  case DIR_FORWARD:
    status = dnnl_convolution_forward_desc_init(op, dnnl_forward_training,
                                                dnnl_convolution_direct, &plan->src_md,
                                                &w_any, &plan->bias_md, &plan->dst_md,
                                                strides, pad_l, pad_r);
    break;
  case DIR_BACKWARD_DATA:
    status = dnnl_convolution_backward_data_desc_init(op, dnnl_convolution_direct,
                                                      &plan->src_md, &w_any, &plan->dst_md,
                                                      strides, pad_l, pad_r);
    break;
  default:
    status = dnnl_convolution_backward_weights_desc_init(op, dnnl_convolution_direct,
                                                         &plan->src_md, &w_any,
                                                         &plan->bias_md, &plan->dst_md,
                                                         strides, pad_l, pad_r);
    break;
  }
  return dnnl_ok(status, "convolution_desc_init", d, error);
}

static gboolean
conv_step_init(ScCpuConv *conv, ConvPlan *plan, ConvDir dir, GError **error)
{
  const ScConvDesc *d = &plan->desc;
  ConvStep *s = &plan->step[dir];
  dnnl_convolution_desc_t op;
  /* Backward primitives are chosen to match a forward one. */
  if (!conv_op_desc(plan, dir, &op, error)
      || !dnnl_ok(dnnl_primitive_desc_create(&s->pd, &op, conv->attr, conv->engine,
                                             dir == DIR_FORWARD ? NULL
                                                                : plan->step[DIR_FORWARD].pd),
                  "primitive_desc_create", d, error)
      || !dnnl_ok(dnnl_primitive_create(&s->prim, s->pd), "primitive_create", d, error))
    return FALSE;

  /* The weights layout it chose, and the reorder to or from HWIO. */
  dnnl_query_t w_query = dir == DIR_BACKWARD_WEIGHTS ? dnnl_query_diff_weights_md
                                                     : dnnl_query_weights_md;
  s->w_md = *dnnl_primitive_desc_query_md(s->pd, w_query, 0);
  if (!dnnl_memory_desc_equal(&s->w_md, &plan->w_user_md)) {
    dnnl_primitive_desc_t reorder_pd;
    gboolean to_user = dir == DIR_BACKWARD_WEIGHTS;
    if (!dnnl_ok(dnnl_reorder_primitive_desc_create(
                   &reorder_pd, to_user ? &s->w_md : &plan->w_user_md, conv->engine,
                   to_user ? &plan->w_user_md : &s->w_md, conv->engine, NULL),
                 "reorder_primitive_desc_create", d, error))
      return FALSE;
    dnnl_status_t status = dnnl_primitive_create(&s->reorder, reorder_pd);
    dnnl_primitive_desc_destroy(reorder_pd);
    if (!dnnl_ok(status, "primitive_create (reorder)", d, error))
      return FALSE;
    size_t bytes = dnnl_memory_desc_get_size(&s->w_md);
    s->w_buf = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (s->w_buf == NULL)
      return dnnl_ok(dnnl_out_of_memory, "weights buffer", d, error);
  }

  /* One shared scratchpad, as large as the largest primitive needs. */
  size_t scratch = dnnl_memory_desc_get_size(
    dnnl_primitive_desc_query_md(s->pd, dnnl_query_scratchpad_md, 0));
  if (scratch > conv->scratch_bytes) {
    free(conv->scratch);
    conv->scratch_bytes = 0;
    conv->scratch = aligned_alloc(64, (scratch + 63) / 64 * 64);
    if (conv->scratch == NULL)
      return dnnl_ok(dnnl_out_of_memory, "scratchpad", d, error);
    conv->scratch_bytes = scratch;
  }

  const char *impl = NULL;
  dnnl_primitive_desc_query(s->pd, dnnl_query_impl_info_str, 0, &impl);
  g_debug("Convolution %s, batch %d, %dx%dx%d -> %dx%dx%d, kernel %dx%d stride %d: %s, "
          "scratchpad %.1f MiB",
          dir_names[dir], d->batch, d->in_h, d->in_w, d->in_c, d->out_h, d->out_w, d->out_c,
          d->k_h, d->k_w, d->stride, impl != NULL ? impl : "?", scratch / 1048576.0);
  return TRUE;
}

/* The cached plan for d with the steps up to dir ready; NULL on failure. */
static ConvPlan *
conv_plan_get(ScCpuConv *conv, const ScConvDesc *d, ConvDir dir, GError **error)
{
  ConvPlan *plan = NULL;
  for (guint i = 0; i < conv->plans->len && plan == NULL; i++) {
    ConvPlan *p = g_ptr_array_index(conv->plans, i);
    if (memcmp(&p->desc, d, sizeof(*d)) == 0)
      plan = p;
  }
  if (plan == NULL) {
    if (conv->plans->len >= CONV_PLANS_MAX)
      g_ptr_array_remove_index(conv->plans, 0);
    plan = g_new0(ConvPlan, 1);
    plan->desc = *d;
    g_ptr_array_add(conv->plans, plan);
    if (!conv_plan_init_mds(plan, error)) {
      g_ptr_array_remove(conv->plans, plan);
      return NULL;
    }
  }
  /* Backward steps take the forward one as their hint. */
  ConvDir needed[2] = { DIR_FORWARD, dir };
  for (int i = 0; i < 2; i++) {
    if (plan->step[needed[i]].pd == NULL && !conv_step_init(conv, plan, needed[i], error)) {
      conv_step_clear(&plan->step[needed[i]]);
      return NULL;
    }
  }
  return plan;
}

/* Runs prim with (arg, md, pointer) triples, plus the scratchpad. */
typedef struct {
  int arg;
  const dnnl_memory_desc_t *md;
  const void *ptr;
} ConvArg;

static gboolean
conv_execute(ScCpuConv *conv, const ScConvDesc *d, dnnl_primitive_t prim,
             const dnnl_memory_desc_t *scratch_md, const ConvArg *args, int n_args,
             GError **error)
{
  ConvArg all[8];
  g_assert(n_args < (int)G_N_ELEMENTS(all));
  memcpy(all, args, n_args * sizeof(*args));
  if (scratch_md != NULL)
    all[n_args++] = (ConvArg){ DNNL_ARG_SCRATCHPAD, scratch_md, conv->scratch };

  dnnl_exec_arg_t exec[8];
  gboolean ok = TRUE;
  int n = 0; /* memories created so far */
  while (ok && n < n_args) {
    exec[n].arg = all[n].arg;
    /* oneDNN takes a writable handle even for inputs it only reads. */
    ok = dnnl_ok(dnnl_memory_create(&exec[n].memory, all[n].md, conv->engine,
                                    (void *)all[n].ptr),
                 "memory_create", d, error);
    n += ok;
  }
  ok = ok && dnnl_ok(dnnl_primitive_execute(prim, conv->stream, n, exec), "execute", d, error)
       && dnnl_ok(dnnl_stream_wait(conv->stream), "stream_wait", d, error);
  for (int i = 0; i < n; i++)
    dnnl_memory_destroy(exec[i].memory);
  return ok;
}

/* Converts weights between HWIO and the step's layout; to_user for gradients. */
static gboolean
conv_reorder_weights(ScCpuConv *conv, const ConvPlan *plan, const ConvStep *s,
                     const float *user, gboolean to_user, GError **error)
{
  ConvArg args[2] = {
    { DNNL_ARG_FROM, to_user ? &s->w_md : &plan->w_user_md, to_user ? s->w_buf : user },
    { DNNL_ARG_TO, to_user ? &plan->w_user_md : &s->w_md, to_user ? user : s->w_buf },
  };
  return conv_execute(conv, &plan->desc, s->reorder, NULL, args, 2, error);
}

static const dnnl_memory_desc_t *
conv_scratch_md(const ConvStep *s)
{
  return dnnl_primitive_desc_query_md(s->pd, dnnl_query_scratchpad_md, 0);
}

static gboolean
conv_forward(ScCpuConv *conv, const ScConvDesc *d, const float *x, const float *w,
             const float *bias, float *y, GError **error)
{
  ConvPlan *plan = conv_plan_get(conv, d, DIR_FORWARD, error);
  if (plan == NULL)
    return FALSE;
  const ConvStep *s = &plan->step[DIR_FORWARD];
  if (s->reorder != NULL && !conv_reorder_weights(conv, plan, s, w, FALSE, error))
    return FALSE;
  ConvArg args[] = {
    { DNNL_ARG_SRC, &plan->src_md, x },
    { DNNL_ARG_WEIGHTS, &s->w_md, s->reorder != NULL ? s->w_buf : w },
    { DNNL_ARG_BIAS, &plan->bias_md, bias },
    { DNNL_ARG_DST, &plan->dst_md, y },
  };
  return conv_execute(conv, d, s->prim, conv_scratch_md(s), args, G_N_ELEMENTS(args), error);
}

static gboolean
conv_backward(ScCpuConv *conv, const ScConvDesc *d, const float *x, const float *w,
              const float *dy, float *dx, float *dw, float *dbias, GError **error)
{
  ConvPlan *plan = conv_plan_get(conv, d, DIR_BACKWARD_WEIGHTS, error);
  if (plan == NULL)
    return FALSE;

  /* dw (HWIO) and dbias (out_c) from x and dy. */
  const ConvStep *sw = &plan->step[DIR_BACKWARD_WEIGHTS];
  ConvArg wargs[] = {
    { DNNL_ARG_SRC, &plan->src_md, x },
    { DNNL_ARG_DIFF_DST, &plan->dst_md, dy },
    { DNNL_ARG_DIFF_WEIGHTS, &sw->w_md, sw->reorder != NULL ? sw->w_buf : dw },
    { DNNL_ARG_DIFF_BIAS, &plan->bias_md, dbias },
  };
  if (!conv_execute(conv, d, sw->prim, conv_scratch_md(sw), wargs, G_N_ELEMENTS(wargs),
                    error)
      || (sw->reorder != NULL && !conv_reorder_weights(conv, plan, sw, dw, TRUE, error)))
    return FALSE;
  if (dx == NULL)
    return TRUE;

  /* dx (N, H, W, C) from dy and w. */
  plan = conv_plan_get(conv, d, DIR_BACKWARD_DATA, error);
  if (plan == NULL)
    return FALSE;
  const ConvStep *sd = &plan->step[DIR_BACKWARD_DATA];
  if (sd->reorder != NULL && !conv_reorder_weights(conv, plan, sd, w, FALSE, error))
    return FALSE;
  ConvArg dargs[] = {
    { DNNL_ARG_DIFF_DST, &plan->dst_md, dy },
    { DNNL_ARG_WEIGHTS, &sd->w_md, sd->reorder != NULL ? sd->w_buf : w },
    { DNNL_ARG_DIFF_SRC, &plan->src_md, dx },
  };
  return conv_execute(conv, d, sd->prim, conv_scratch_md(sd), dargs, G_N_ELEMENTS(dargs),
                      error);
}

void
sc_cpu_conv2d_forward(ScBackend *be, const ScConvDesc *d, const float *x, const float *w,
                      const float *bias, float *y)
{
  g_return_if_fail(d != NULL && x != NULL && w != NULL && bias != NULL && y != NULL);
  ScCpuBackend *cpu = sc_cpu_backend(be);
  GError *error = NULL;
  g_mutex_lock(&cpu->lock);
  sc_cpu_backend_apply_threads(be);
  if (!conv_forward(cpu->conv, d, x, w, bias, y, &error))
    sc_cpu_backend_fail(be, error);
  g_mutex_unlock(&cpu->lock);
}

void
sc_cpu_conv2d_backward(ScBackend *be, const ScConvDesc *d, const float *x, const float *w,
                       const float *dy, float *dx, float *dw, float *dbias)
{
  g_return_if_fail(d != NULL && x != NULL && w != NULL && dy != NULL && dw != NULL
                   && dbias != NULL);
  ScCpuBackend *cpu = sc_cpu_backend(be);
  GError *error = NULL;
  g_mutex_lock(&cpu->lock);
  sc_cpu_backend_apply_threads(be);
  if (!conv_backward(cpu->conv, d, x, w, dy, dx, dw, dbias, &error))
    sc_cpu_backend_fail(be, error);
  g_mutex_unlock(&cpu->lock);
}
