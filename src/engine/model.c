#include "model.h"

#include <math.h>
#include <string.h>

#include "rng.h"
#include "sc-error.h"

ScNet *
sc_net_new(const char *name, int in_h, int in_w, int in_c)
{
  g_return_val_if_fail(in_h > 0 && in_w > 0 && in_c > 0, NULL);
  ScNet *net = g_new0(ScNet, 1);
  g_strlcpy(net->name, name, sizeof net->name);
  /* A net without layers passes its input through; keep the shape in a
   * pseudo "previous layer" read by the add functions. */
  net->layers[0].in_h = net->layers[0].out_h = in_h;
  net->layers[0].in_w = net->layers[0].out_w = in_w;
  net->layers[0].in_c = net->layers[0].out_c = in_c;
  return net;
}

static void
release_activations(ScNet *net)
{
  for (int i = 0; i < SC_NET_MAX_LAYERS; i++) {
    if (net->owned[i] != NULL)
      net->be->ops->free(net->be, net->owned[i]);
    net->owned[i] = NULL;
    net->outputs[i] = NULL;
  }
  if (net->grad_ping != NULL) {
    net->be->ops->free(net->be, net->grad_ping);
    net->be->ops->free(net->be, net->grad_pong);
  }
  net->grad_ping = net->grad_pong = NULL;
  net->batch_capacity = 0;
}

void
sc_net_release(ScNet *net)
{
  if (net->be != NULL)
    release_activations(net);
}

void
sc_net_free(ScNet *net)
{
  if (net == NULL)
    return;
  if (net->be != NULL)
    release_activations(net);
  g_free(net);
}

/* The next layer's slot, with its input shape set to the last output. */
static ScLayer *
append_layer(ScNet *net, ScLayerKind kind, const char *kind_name)
{
  g_return_val_if_fail(net->n_layers < SC_NET_MAX_LAYERS, NULL);
  g_return_val_if_fail(net->params == NULL, NULL); /* shape is fixed once bound */
  const ScLayer *prev = &net->layers[net->n_layers > 0 ? net->n_layers - 1 : 0];
  int in_h = prev->out_h, in_w = prev->out_w, in_c = prev->out_c;
  ScLayer *layer = &net->layers[net->n_layers];
  *layer = (ScLayer){ .kind = kind, .in_h = in_h, .in_w = in_w, .in_c = in_c,
                      .out_h = in_h, .out_w = in_w, .out_c = in_c };
  g_snprintf(layer->name, sizeof layer->name, "%s.%s%d", net->name, kind_name,
             net->n_layers);
  net->n_layers++;
  return layer;
}

static void
assign_parameters(ScNet *net, ScLayer *layer, size_t weights, size_t biases)
{
  layer->weight_offset = net->param_count;
  layer->weight_count = weights;
  layer->bias_offset = net->param_count + weights;
  layer->bias_count = biases;
  net->param_count += weights + biases;
}

gboolean
sc_net_add_conv2d(ScNet *net, int filters, int kernel, int stride, ScPadding padding,
                  GError **error)
{
  const ScLayer *prev = &net->layers[net->n_layers > 0 ? net->n_layers - 1 : 0];
  ScConvDesc d;
  if (!sc_conv_desc_init(&d, 1, prev->out_h, prev->out_w, prev->out_c, filters, kernel,
                         kernel, stride, padding, error)) {
    g_prefix_error(error, "%s, layer %d: ", net->name, net->n_layers + 1);
    return FALSE;
  }
  ScLayer *layer = append_layer(net, SC_LAYER_CONV2D, "conv");
  layer->out_h = d.out_h;
  layer->out_w = d.out_w;
  layer->out_c = filters;
  layer->k_h = layer->k_w = kernel;
  layer->stride = stride;
  layer->padding = padding;
  layer->fan_in = kernel * kernel * d.in_c;
  layer->fan_out = kernel * kernel * filters;
  assign_parameters(net, layer, (size_t)kernel * kernel * d.in_c * filters, filters);
  return TRUE;
}

void
sc_net_add_dense(ScNet *net, int units)
{
  ScLayer *layer = append_layer(net, SC_LAYER_DENSE, "dense");
  /* A dense layer sees one sample as a flat vector (NHWC order). */
  int in_features = layer->in_h * layer->in_w * layer->in_c;
  layer->in_h = layer->in_w = 1;
  layer->in_c = in_features;
  layer->out_h = layer->out_w = 1;
  layer->out_c = units;
  layer->fan_in = in_features;
  layer->fan_out = units;
  assign_parameters(net, layer, (size_t)in_features * units, units);
}

void
sc_net_add_relu(ScNet *net)
{
  append_layer(net, SC_LAYER_RELU, "relu");
}

void
sc_net_add_flatten(ScNet *net)
{
  ScLayer *layer = append_layer(net, SC_LAYER_FLATTEN, "flatten");
  /* Index f = (h * W + w) * C + c: NHWC memory is already in this order. */
  layer->out_c = layer->in_h * layer->in_w * layer->in_c;
  layer->out_h = layer->out_w = 1;
}

static size_t
layer_output_size(const ScLayer *l)
{
  return (size_t)l->out_h * l->out_w * l->out_c;
}

size_t
sc_net_output_size(const ScNet *net)
{
  return layer_output_size(&net->layers[net->n_layers > 0 ? net->n_layers - 1 : 0]);
}

size_t
sc_net_input_size(const ScNet *net)
{
  const ScLayer *first = &net->layers[0];
  return (size_t)first->in_h * first->in_w * first->in_c;
}

ScNet *
sc_encoder_new(int in_h, int in_w, int in_c, int width, GError **error)
{
  if (width < 1) {
    g_set_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Encoder width must be at least 1, got %d", width);
    return NULL;
  }
  ScNet *net = sc_net_new("encoder", in_h, in_w, in_c);
  /* Four 3x3 stride-2 valid convolutions: 96 -> 47 -> 23 -> 11 -> 5. */
  for (int i = 0; i < 4; i++) {
    if (!sc_net_add_conv2d(net, width, 3, 2, SC_PADDING_VALID, error)) {
      g_prefix_error(error, "An input of %dx%d pixels is too small for the encoder "
                     "(at least 31x31 is needed): ", in_h, in_w);
      sc_net_free(net);
      return NULL;
    }
    sc_net_add_relu(net);
  }
  sc_net_add_flatten(net);
  sc_net_add_dense(net, width);
  sc_net_add_relu(net);
  return net;
}

ScNet *
sc_projection_head_new(int in_features, int width)
{
  ScNet *net = sc_net_new("head", 1, 1, in_features);
  sc_net_add_dense(net, width);
  sc_net_add_relu(net);
  sc_net_add_dense(net, width);
  return net;
}

ScNet *
sc_linear_head_new(int in_features, int classes)
{
  ScNet *net = sc_net_new("linear", 1, 1, in_features);
  sc_net_add_dense(net, classes);
  return net;
}

ScParams *
sc_params_new(ScBackend *be, ScNet *const *nets, int n_nets, GError **error)
{
  ScParams *p = g_new0(ScParams, 1);
  p->be = be;
  for (int i = 0; i < n_nets; i++)
    p->count += nets[i]->param_count;
  p->params = sc_backend_alloc(be, p->count * sizeof(float), "the parameters", error);
  if (p->params == NULL) {
    g_free(p);
    return NULL;
  }
  p->grads = sc_backend_alloc(be, p->count * sizeof(float), "the gradients", error);
  if (p->grads == NULL) {
    be->ops->free(be, p->params);
    g_free(p);
    return NULL;
  }
  be->ops->zero(be, p->params, p->count * sizeof(float));
  be->ops->zero(be, p->grads, p->count * sizeof(float));

  size_t offset = 0;
  for (int i = 0; i < n_nets; i++) {
    nets[i]->be = be;
    nets[i]->params = p->params + offset;
    nets[i]->grads = p->grads + offset;
    offset += nets[i]->param_count;
  }
  return p;
}

void
sc_params_free(ScParams *p)
{
  if (p == NULL)
    return;
  p->be->ops->free(p->be, p->params);
  p->be->ops->free(p->be, p->grads);
  g_free(p);
}

void
sc_net_init_glorot(ScNet *net, uint64_t seed, uint32_t net_id)
{
  g_return_if_fail(net->params != NULL);
  g_autofree float *host = g_new0(float, net->param_count);
  for (int i = 0; i < net->n_layers; i++) {
    const ScLayer *l = &net->layers[i];
    if (l->weight_count == 0)
      continue;
    /* Keras glorot_uniform: U(-L, L), L = sqrt(6 / (fan_in + fan_out)); zero biases. */
    float limit = (float)sqrt(6.0 / (l->fan_in + l->fan_out));
    ScRng rng;
    sc_rng_init(&rng, seed, SC_RNG_INIT, net_id, (uint32_t)i, 0);
    for (size_t j = 0; j < l->weight_count; j++)
      host[l->weight_offset + j] = sc_rng_range(&rng, -limit, limit);
  }
  net->be->ops->upload(net->be, net->params, host, net->param_count * sizeof(float));
}

gboolean
sc_net_prepare(ScNet *net, int batch_capacity, GError **error)
{
  g_return_val_if_fail(net->be != NULL, FALSE);
  g_return_val_if_fail(batch_capacity > 0, FALSE);
  if (batch_capacity <= net->batch_capacity)
    return TRUE;
  release_activations(net);

  ScBackend *be = net->be;
  size_t largest = sc_net_input_size(net);
  gboolean reads_input = TRUE; /* only flatten views of the caller's input so far */
  for (int i = 0; i < net->n_layers; i++) {
    const ScLayer *l = &net->layers[i];
    size_t size = layer_output_size(l);
    largest = MAX(largest, size);
    /* ReLU works in place on its input and flatten is a view, except while
     * the input still belongs to the caller. */
    gboolean needs_buffer = l->kind == SC_LAYER_CONV2D || l->kind == SC_LAYER_DENSE
                            || (l->kind == SC_LAYER_RELU && reads_input);
    reads_input = reads_input && l->kind == SC_LAYER_FLATTEN;
    if (!needs_buffer)
      continue;
    g_autofree char *what = g_strdup_printf("the activations of %s", l->name);
    net->owned[i] = sc_backend_alloc(be, size * batch_capacity * sizeof(float), what, error);
    if (net->owned[i] == NULL) {
      release_activations(net);
      return FALSE;
    }
  }
  size_t grad_bytes = largest * batch_capacity * sizeof(float);
  net->grad_ping = sc_backend_alloc(be, grad_bytes, "gradient scratch", error);
  net->grad_pong = net->grad_ping != NULL
                     ? sc_backend_alloc(be, grad_bytes, "gradient scratch", error)
                     : NULL;
  if (net->grad_pong == NULL) {
    release_activations(net);
    return FALSE;
  }
  net->batch_capacity = batch_capacity;
  return TRUE;
}

static void
conv_desc_for(const ScLayer *l, int batch, ScConvDesc *d)
{
  gboolean ok = sc_conv_desc_init(d, batch, l->in_h, l->in_w, l->in_c, l->out_c, l->k_h,
                                  l->k_w, l->stride, l->padding, NULL);
  g_assert(ok); /* the shape was checked when the layer was added */
}

const float *
sc_net_forward(ScNet *net, const float *x, int batch)
{
  g_return_val_if_fail(batch > 0 && batch <= net->batch_capacity, NULL);
  ScBackend *be = net->be;
  net->input = x;
  net->batch = batch;

  const float *cur = x;
  for (int i = 0; i < net->n_layers; i++) {
    const ScLayer *l = &net->layers[i];
    float *w = net->params + l->weight_offset;
    float *b = net->params + l->bias_offset;
    float *out;
    switch (l->kind) {
    case SC_LAYER_CONV2D: {
      ScConvDesc d;
      conv_desc_for(l, batch, &d);
      out = net->owned[i];
      be->ops->conv2d_forward(be, &d, cur, w, b, out);
      break;
    }
    case SC_LAYER_DENSE:
      /* y (batch, units) = x (batch, in) . W (in, units) + b */
      out = net->owned[i];
      be->ops->gemm(be, false, false, batch, l->out_c, l->in_c, 1.0f, cur, l->in_c, w,
                    l->out_c, 0.0f, out, l->out_c);
      be->ops->bias_add(be, batch, l->out_c, out, b);
      break;
    case SC_LAYER_RELU:
      out = net->owned[i] != NULL ? net->owned[i] : (float *)cur;
      be->ops->relu_forward(be, layer_output_size(l) * batch, cur, out);
      break;
    case SC_LAYER_FLATTEN:
    default:
      out = (float *)cur;
      break;
    }
    net->outputs[i] = out;
    cur = out;
  }
  return cur;
}

void
sc_net_backward(ScNet *net, const float *dy, float *dx)
{
  g_return_if_fail(net->input != NULL);
  ScBackend *be = net->be;
  int batch = net->batch;
  const float *g = dy;

  for (int i = net->n_layers - 1; i >= 0; i--) {
    const ScLayer *l = &net->layers[i];
    const float *in = i > 0 ? net->outputs[i - 1] : net->input;
    /* Where this layer's input gradient goes: the caller's dx for the first
     * layer (skipped when NULL), else whichever scratch g is not in. */
    float *g_in = i == 0 ? dx : (g == net->grad_ping ? net->grad_pong : net->grad_ping);
    float *w = net->params + l->weight_offset;
    float *dw = net->grads + l->weight_offset;
    float *db = net->grads + l->bias_offset;
    size_t in_size = (size_t)l->in_h * l->in_w * l->in_c;

    switch (l->kind) {
    case SC_LAYER_CONV2D: {
      ScConvDesc d;
      conv_desc_for(l, batch, &d);
      be->ops->conv2d_backward(be, &d, in, w, g, g_in, dw, db);
      break;
    }
    case SC_LAYER_DENSE:
      /* dW (in, units) = x^T . g; db = column sums of g; dx = g . W^T */
      be->ops->gemm(be, true, false, l->in_c, l->out_c, batch, 1.0f, in, l->in_c, g,
                    l->out_c, 0.0f, dw, l->out_c);
      be->ops->bias_grad(be, batch, l->out_c, g, db);
      if (g_in != NULL)
        be->ops->gemm(be, false, true, batch, l->in_c, l->out_c, 1.0f, g, l->out_c, w,
                      l->out_c, 0.0f, g_in, l->in_c);
      break;
    case SC_LAYER_RELU:
      /* In place when g is our scratch: one large buffer less to stream. */
      if (i > 0 && (g == net->grad_ping || g == net->grad_pong))
        g_in = (float *)g;
      if (g_in != NULL)
        be->ops->relu_backward(be, in_size * batch, net->outputs[i], g, g_in);
      break;
    case SC_LAYER_FLATTEN:
    default:
      if (i == 0 && g_in != NULL)
        be->ops->copy(be, g_in, g, in_size * batch * sizeof(float));
      g_in = (float *)g; /* a view: the gradient passes through unchanged */
      break;
    }
    if (g_in == NULL)
      break; /* only the first layer may skip its input gradient */
    g = g_in;
  }
}
