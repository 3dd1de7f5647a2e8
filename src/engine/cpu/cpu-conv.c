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
 * Weight gradients are the exception: oneDNN 2.6 has no brgemm kernel for
 * them, and its jit kernel ran about 1.7x faster on blocked activations
 * (nChw16c; plain NCHW for the 3-channel input) than on NHWC, even counting
 * the reorders (encoder layer 2, batch 1050, 2 threads: 690 ms against
 * 390 + 45 ms). So x and dy are reordered in chunks of images small enough
 * to stay cheap in memory, and the chunks' gradients are summed.
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

/* Bytes of reordered x and dy per chunk of the weight gradient: about 34
 * images of encoder layer 2, small next to the activations themselves. */
#define WGRAD_CHUNK_BYTES (48u << 20)

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

/* The weight gradient of one chunk of images through blocked layouts. */
typedef struct {
  int images;               /* per call; 0: unused */
  dnnl_primitive_desc_t hint; /* a forward on the same layouts, required by oneDNN */
  dnnl_primitive_desc_t pd;
  dnnl_primitive_t prim;
  dnnl_memory_desc_t src_user_md, dst_user_md; /* the chunk in NHWC */
  dnnl_memory_desc_t src_md, dst_md;           /* as the primitive wants them */
  dnnl_primitive_t src_reorder, dst_reorder;   /* NHWC -> blocked; NULL if the same */
} WgradChunk;

typedef struct {
  WgradChunk chunk[2];      /* [0] full chunks, [1] the rest of the batch */
  dnnl_memory_desc_t w_md;  /* dw as both chunks write it */
  dnnl_primitive_t to_user; /* w_md -> HWIO, overwriting */
  dnnl_primitive_t add_to_user; /* w_md -> HWIO, adding (sum post-op) */
  float *w_buf;             /* (k_h * k_w * in_c * out_c) in w_md's layout */
  float *dbias_part;        /* (out_c) one later chunk's bias gradient */
} Wgrad;

typedef struct {
  ScConvDesc desc;
  dnnl_memory_desc_t src_md, dst_md, bias_md, w_user_md; /* NHWC, NHWC, (O), HWIO */
  ConvStep step[DIR_COUNT];
  gboolean wgrad_tried;     /* the blocked weight gradient was considered */
  Wgrad *wgrad;             /* NULL: the NHWC backward-weights step instead */
} ConvPlan;

struct _ScCpuConv {
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  dnnl_primitive_attr_t attr; /* user-managed scratchpad */
  GPtrArray *plans;           /* ConvPlan *, most recently created last */
  void *scratch;
  size_t scratch_bytes;
  size_t wgrad_chunk_bytes;   /* WGRAD_CHUNK_BYTES; smaller in tests */
  float *wgrad_src, *wgrad_dst; /* one chunk of x and dy, reordered */
  size_t wgrad_src_bytes, wgrad_dst_bytes;
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
wgrad_free(Wgrad *wg)
{
  if (wg == NULL)
    return;
  for (int i = 0; i < 2; i++) {
    WgradChunk *c = &wg->chunk[i];
    dnnl_primitive_t prims[] = { c->prim, c->src_reorder, c->dst_reorder };
    for (size_t j = 0; j < G_N_ELEMENTS(prims); j++)
      if (prims[j] != NULL)
        dnnl_primitive_destroy(prims[j]);
    if (c->pd != NULL)
      dnnl_primitive_desc_destroy(c->pd);
    if (c->hint != NULL)
      dnnl_primitive_desc_destroy(c->hint);
  }
  if (wg->to_user != NULL)
    dnnl_primitive_destroy(wg->to_user);
  if (wg->add_to_user != NULL)
    dnnl_primitive_destroy(wg->add_to_user);
  free(wg->w_buf);
  g_free(wg->dbias_part);
  g_free(wg);
}

static void
conv_plan_free(gpointer data)
{
  ConvPlan *plan = data;
  for (int i = 0; i < DIR_COUNT; i++)
    conv_step_clear(&plan->step[i]);
  wgrad_free(plan->wgrad);
  g_free(plan);
}

gboolean
sc_cpu_conv_init(ScBackend *be, GError **error)
{
  static const ScConvDesc none = { 0 };
  ScCpuConv *conv = g_new0(ScCpuConv, 1);
  sc_cpu_backend(be)->conv = conv;
  conv->plans = g_ptr_array_new_with_free_func(conv_plan_free);
  conv->wgrad_chunk_bytes = WGRAD_CHUNK_BYTES;
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
  free(conv->wgrad_src);
  free(conv->wgrad_dst);
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

/* Grows *buf (64-byte aligned) to at least need bytes; its contents go. */
static gboolean
buffer_reserve(void **buf, size_t *have, size_t need)
{
  if (need <= *have)
    return TRUE;
  free(*buf);
  *have = 0;
  *buf = aligned_alloc(64, (need + 63) / 64 * 64);
  if (*buf == NULL)
    return FALSE;
  *have = need;
  return TRUE;
}

/* One shared scratchpad, as large as the largest primitive needs. */
static gboolean
scratch_reserve(ScCpuConv *conv, const_dnnl_primitive_desc_t pd, const ScConvDesc *d,
                size_t *bytes, GError **error)
{
  *bytes = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd,
                                                                  dnnl_query_scratchpad_md, 0));
  if (!buffer_reserve(&conv->scratch, &conv->scratch_bytes, *bytes))
    return dnnl_ok(dnnl_out_of_memory, "scratchpad", d, error);
  return TRUE;
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

  size_t scratch;
  if (!scratch_reserve(conv, s->pd, d, &scratch, error))
    return FALSE;

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

/* The weight-gradient primitive of one chunk of images, on the layouts
 * oneDNN prefers; FALSE without error when only a reference kernel exists. */
static gboolean
wgrad_chunk_init(ScCpuConv *conv, const ConvPlan *plan, int images, WgradChunk *c,
                 GError **error)
{
  ScConvDesc cd = plan->desc;
  cd.batch = images;
  c->images = images;
  dnnl_dims_t src = { images, cd.in_c, cd.in_h, cd.in_w };
  dnnl_dims_t dst = { images, cd.out_c, cd.out_h, cd.out_w };
  dnnl_dims_t w = { cd.out_c, cd.in_c, cd.k_h, cd.k_w };
  dnnl_dims_t strides = { cd.stride, cd.stride };
  dnnl_dims_t pad_l = { cd.pad_top, cd.pad_left }, pad_r = { cd.pad_bottom, cd.pad_right };
  dnnl_memory_desc_t src_any, dst_any, w_any;
  dnnl_convolution_desc_t fwd, bwd;
  if (!dnnl_ok(dnnl_memory_desc_init_by_tag(&c->src_user_md, 4, src, dnnl_f32, dnnl_nhwc),
               "memory_desc_init (input chunk)", &cd, error)
      || !dnnl_ok(dnnl_memory_desc_init_by_tag(&c->dst_user_md, 4, dst, dnnl_f32, dnnl_nhwc),
                  "memory_desc_init (output chunk)", &cd, error)
      || !dnnl_ok(dnnl_memory_desc_init_by_tag(&src_any, 4, src, dnnl_f32,
                                               dnnl_format_tag_any),
                  "memory_desc_init (input, any)", &cd, error)
      || !dnnl_ok(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst, dnnl_f32,
                                               dnnl_format_tag_any),
                  "memory_desc_init (output, any)", &cd, error)
      || !dnnl_ok(dnnl_memory_desc_init_by_tag(&w_any, 4, w, dnnl_f32, dnnl_format_tag_any),
                  "memory_desc_init (weights, any)", &cd, error)
      || !dnnl_ok(dnnl_convolution_forward_desc_init(&fwd, dnnl_forward_training,
                                                     dnnl_convolution_direct, &src_any,
                                                     &w_any, &plan->bias_md, &dst_any,
                                                     strides, pad_l, pad_r),
                  "convolution_desc_init (blocked forward)", &cd, error)
      || !dnnl_ok(dnnl_primitive_desc_create(&c->hint, &fwd, conv->attr, conv->engine, NULL),
                  "primitive_desc_create (blocked forward)", &cd, error)
      || !dnnl_ok(dnnl_convolution_backward_weights_desc_init(
                    &bwd, dnnl_convolution_direct, &src_any, &w_any, &plan->bias_md,
                    &dst_any, strides, pad_l, pad_r),
                  "convolution_desc_init (blocked backward weights)", &cd, error)
      || !dnnl_ok(dnnl_primitive_desc_create(&c->pd, &bwd, conv->attr, conv->engine, c->hint),
                  "primitive_desc_create (blocked backward weights)", &cd, error))
    return FALSE;

  const char *impl = NULL;
  dnnl_primitive_desc_query(c->pd, dnnl_query_impl_info_str, 0, &impl);
  if (impl == NULL || g_str_has_prefix(impl, "ref"))
    return FALSE;
  c->src_md = *dnnl_primitive_desc_query_md(c->pd, dnnl_query_src_md, 0);
  c->dst_md = *dnnl_primitive_desc_query_md(c->pd, dnnl_query_diff_dst_md, 0);
  if (!dnnl_ok(dnnl_primitive_create(&c->prim, c->pd), "primitive_create (blocked)", &cd,
               error))
    return FALSE;

  const dnnl_memory_desc_t *from[2] = { &c->src_user_md, &c->dst_user_md };
  const dnnl_memory_desc_t *to[2] = { &c->src_md, &c->dst_md };
  dnnl_primitive_t *reorder[2] = { &c->src_reorder, &c->dst_reorder };
  for (int i = 0; i < 2; i++) {
    if (dnnl_memory_desc_equal(from[i], to[i]))
      continue;
    dnnl_primitive_desc_t rpd;
    if (!dnnl_ok(dnnl_reorder_primitive_desc_create(&rpd, from[i], conv->engine, to[i],
                                                    conv->engine, NULL),
                 "reorder_primitive_desc_create (chunk)", &cd, error))
      return FALSE;
    dnnl_status_t status = dnnl_primitive_create(reorder[i], rpd);
    dnnl_primitive_desc_destroy(rpd);
    if (!dnnl_ok(status, "primitive_create (chunk reorder)", &cd, error))
      return FALSE;
  }
  size_t scratch;
  if (!scratch_reserve(conv, c->pd, &cd, &scratch, error))
    return FALSE;
  g_debug("Convolution backward weights, chunks of %d images, %dx%dx%d -> %dx%dx%d: %s",
          images, cd.in_h, cd.in_w, cd.in_c, cd.out_h, cd.out_w, cd.out_c, impl);
  return TRUE;
}

/* A reorder of dw from w_md to HWIO; accumulate adds to what is there. */
static gboolean
wgrad_reorder_init(ScCpuConv *conv, const ConvPlan *plan, Wgrad *wg, gboolean accumulate,
                   GError **error)
{
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t post_ops = NULL;
  dnnl_primitive_desc_t rpd = NULL;
  gboolean ok = TRUE;
  if (accumulate) {
    ok = dnnl_ok(dnnl_primitive_attr_create(&attr), "attr_create", &plan->desc, error)
         && dnnl_ok(dnnl_post_ops_create(&post_ops), "post_ops_create", &plan->desc, error)
         && dnnl_ok(dnnl_post_ops_append_sum(post_ops, 1.0f), "post_ops_append_sum",
                    &plan->desc, error)
         && dnnl_ok(dnnl_primitive_attr_set_post_ops(attr, post_ops), "set_post_ops",
                    &plan->desc, error);
  }
  ok = ok
       && dnnl_ok(dnnl_reorder_primitive_desc_create(&rpd, &wg->w_md, conv->engine,
                                                     &plan->w_user_md, conv->engine, attr),
                  "reorder_primitive_desc_create (weight gradient)", &plan->desc, error)
       && dnnl_ok(dnnl_primitive_create(accumulate ? &wg->add_to_user : &wg->to_user, rpd),
                  "primitive_create (weight gradient reorder)", &plan->desc, error);
  if (rpd != NULL)
    dnnl_primitive_desc_destroy(rpd);
  if (post_ops != NULL)
    dnnl_post_ops_destroy(post_ops);
  if (attr != NULL)
    dnnl_primitive_attr_destroy(attr);
  return ok;
}

/* The blocked, chunked weight gradient for plan, or NULL where it does not
 * apply (error set only when oneDNN failed); the caller then keeps NHWC. */
static Wgrad *
wgrad_new(ScCpuConv *conv, const ConvPlan *plan, GError **error)
{
  const ScConvDesc *d = &plan->desc;
  size_t image_bytes = ((size_t)d->in_h * d->in_w * d->in_c
                        + (size_t)d->out_h * d->out_w * d->out_c) * sizeof(float);
  int per_chunk = (int)CLAMP(conv->wgrad_chunk_bytes / image_bytes, 1, (size_t)d->batch);
  int sizes[2] = { per_chunk, d->batch % per_chunk };

  Wgrad *wg = g_new0(Wgrad, 1);
  gboolean ok = TRUE;
  for (int i = 0; i < 2 && ok; i++)
    ok = sizes[i] == 0 || wgrad_chunk_init(conv, plan, sizes[i], &wg->chunk[i], error);
  /* Worth it only when it changes a layout; both chunks must agree on dw's. */
  ok = ok && (wg->chunk[0].src_reorder != NULL || wg->chunk[0].dst_reorder != NULL);
  if (ok)
    wg->w_md = *dnnl_primitive_desc_query_md(wg->chunk[0].pd, dnnl_query_diff_weights_md, 0);
  ok = ok
       && (sizes[1] == 0
           || dnnl_memory_desc_equal(&wg->w_md,
                                     dnnl_primitive_desc_query_md(wg->chunk[1].pd,
                                                                  dnnl_query_diff_weights_md,
                                                                  0)))
       && wgrad_reorder_init(conv, plan, wg, FALSE, error)
       && wgrad_reorder_init(conv, plan, wg, TRUE, error);
  if (ok) {
    size_t w_bytes = dnnl_memory_desc_get_size(&wg->w_md);
    wg->w_buf = aligned_alloc(64, (w_bytes + 63) / 64 * 64);
    wg->dbias_part = g_try_new(float, d->out_c);
    const WgradChunk *c = &wg->chunk[0]; /* the larger, when there are two */
    ok = wg->w_buf != NULL && wg->dbias_part != NULL
         && buffer_reserve((void **)&conv->wgrad_src, &conv->wgrad_src_bytes,
                           c->src_reorder != NULL ? dnnl_memory_desc_get_size(&c->src_md) : 0)
         && buffer_reserve((void **)&conv->wgrad_dst, &conv->wgrad_dst_bytes,
                           c->dst_reorder != NULL ? dnnl_memory_desc_get_size(&c->dst_md) : 0);
  }
  if (!ok) {
    wgrad_free(wg);
    return NULL;
  }
  return wg;
}

/* dw (HWIO) and dbias (out_c) from x and dy, one chunk of images at a time. */
static gboolean
wgrad_run(ScCpuConv *conv, const ConvPlan *plan, const float *x, const float *dy, float *dw,
          float *dbias, GError **error)
{
  const ScConvDesc *d = &plan->desc;
  const Wgrad *wg = plan->wgrad;
  const size_t x_image = (size_t)d->in_h * d->in_w * d->in_c;
  const size_t y_image = (size_t)d->out_h * d->out_w * d->out_c;
  for (int n0 = 0; n0 < d->batch;) {
    const WgradChunk *c = &wg->chunk[d->batch - n0 >= wg->chunk[0].images ? 0 : 1];
    const float *src = x + n0 * x_image, *diff_dst = dy + n0 * y_image;
    if (c->src_reorder != NULL) {
      ConvArg a[2] = { { DNNL_ARG_FROM, &c->src_user_md, src },
                       { DNNL_ARG_TO, &c->src_md, conv->wgrad_src } };
      if (!conv_execute(conv, d, c->src_reorder, NULL, a, 2, error))
        return FALSE;
      src = conv->wgrad_src;
    }
    if (c->dst_reorder != NULL) {
      ConvArg a[2] = { { DNNL_ARG_FROM, &c->dst_user_md, diff_dst },
                       { DNNL_ARG_TO, &c->dst_md, conv->wgrad_dst } };
      if (!conv_execute(conv, d, c->dst_reorder, NULL, a, 2, error))
        return FALSE;
      diff_dst = conv->wgrad_dst;
    }
    ConvArg args[] = {
      { DNNL_ARG_SRC, &c->src_md, src },
      { DNNL_ARG_DIFF_DST, &c->dst_md, diff_dst },
      { DNNL_ARG_DIFF_WEIGHTS, &wg->w_md, wg->w_buf },
      { DNNL_ARG_DIFF_BIAS, &plan->bias_md, n0 == 0 ? dbias : wg->dbias_part },
    };
    ConvArg to_user[2] = { { DNNL_ARG_FROM, &wg->w_md, wg->w_buf },
                           { DNNL_ARG_TO, &plan->w_user_md, dw } };
    if (!conv_execute(conv, d, c->prim,
                      dnnl_primitive_desc_query_md(c->pd, dnnl_query_scratchpad_md, 0), args,
                      G_N_ELEMENTS(args), error)
        || !conv_execute(conv, d, n0 == 0 ? wg->to_user : wg->add_to_user, NULL, to_user, 2,
                         error))
      return FALSE;
    if (n0 > 0)
      for (int o = 0; o < d->out_c; o++)
        dbias[o] += wg->dbias_part[o];
    n0 += c->images;
  }
  return TRUE;
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
  ConvPlan *plan = conv_plan_get(conv, d, DIR_FORWARD, error);
  if (plan == NULL)
    return FALSE;
  if (!plan->wgrad_tried) {
    GError *why = NULL;
    plan->wgrad_tried = TRUE;
    plan->wgrad = wgrad_new(conv, plan, &why);
    if (why != NULL) {
      g_debug("Blocked weight gradient unavailable, NHWC instead: %s", why->message);
      g_error_free(why);
    }
  }

  /* dw (HWIO) and dbias (out_c) from x and dy. */
  if (plan->wgrad != NULL) {
    if (!wgrad_run(conv, plan, x, dy, dw, dbias, error))
      return FALSE;
  } else {
    plan = conv_plan_get(conv, d, DIR_BACKWARD_WEIGHTS, error);
    if (plan == NULL)
      return FALSE;
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
  }
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

void
sc_cpu_conv_set_wgrad_chunk_bytes(ScBackend *be, size_t bytes)
{
  ScCpuBackend *cpu = sc_cpu_backend(be);
  g_mutex_lock(&cpu->lock);
  cpu->conv->wgrad_chunk_bytes = bytes > 0 ? bytes : WGRAD_CHUNK_BYTES;
  g_ptr_array_set_size(cpu->conv->plans, 0); /* plans keep the chunking they were made with */
  g_mutex_unlock(&cpu->lock);
}

int
sc_cpu_conv_wgrad_chunk_images(ScBackend *be, const ScConvDesc *d)
{
  ScCpuBackend *cpu = sc_cpu_backend(be);
  int images = 0;
  g_mutex_lock(&cpu->lock);
  for (guint i = 0; i < cpu->conv->plans->len; i++) {
    const ConvPlan *p = g_ptr_array_index(cpu->conv->plans, i);
    if (memcmp(&p->desc, d, sizeof(*d)) == 0 && p->wgrad != NULL)
      images = p->wgrad->chunk[0].images;
  }
  g_mutex_unlock(&cpu->lock);
  return images;
}
