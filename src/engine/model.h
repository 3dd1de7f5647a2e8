/* Layers and models (reference section 4): a net is a short stack of
 * layers whose parameters live in a slice of one arena (ScParams), so an
 * optimizer updates a whole model in one call and gradients sit in one
 * contiguous buffer. Activations are NHWC float32 on the backend. */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

#define SC_NET_MAX_LAYERS 16

typedef enum {
  SC_LAYER_CONV2D,
  SC_LAYER_DENSE,
  SC_LAYER_RELU,
  SC_LAYER_FLATTEN,
} ScLayerKind;

typedef struct {
  ScLayerKind kind;
  char name[32];
  int in_h, in_w, in_c;    /* one sample's input; dense: 1, 1, features */
  int out_h, out_w, out_c; /* one sample's output */
  int k_h, k_w, stride;    /* conv only */
  ScPadding padding;       /* conv only */
  size_t weight_offset;    /* into the net's parameters; HWIO or (in, units) */
  size_t weight_count;
  size_t bias_offset;
  size_t bias_count;
  int fan_in, fan_out;     /* for Glorot initialisation */
} ScLayer;

typedef struct {
  char name[32];
  int n_layers;
  ScLayer layers[SC_NET_MAX_LAYERS];
  size_t param_count;

  /* Bound by sc_params_new: slices of the arena (backend memory). */
  ScBackend *be;
  float *params;
  float *grads;

  /* Activations, allocated by sc_net_prepare for up to batch_capacity. */
  int batch_capacity;
  int batch;               /* of the last forward */
  const float *input;      /* borrowed from the last forward */
  float *outputs[SC_NET_MAX_LAYERS]; /* relu and flatten reuse their input's */
  float *owned[SC_NET_MAX_LAYERS];   /* what this net allocated */
  float *grad_ping, *grad_pong;      /* gradient scratch, the largest activation */
} ScNet;

/* An empty net for inputs of (in_h, in_w, in_c) per sample. */
ScNet *sc_net_new(const char *name, int in_h, int in_w, int in_c);
void sc_net_free(ScNet *net);
gboolean sc_net_add_conv2d(ScNet *net, int filters, int kernel, int stride,
                           ScPadding padding, GError **error);
void sc_net_add_dense(ScNet *net, int units);
void sc_net_add_relu(ScNet *net);
void sc_net_add_flatten(ScNet *net);

/* One sample's output size in floats. */
size_t sc_net_output_size(const ScNet *net);
size_t sc_net_input_size(const ScNet *net);

/* The reference's models. width is 128 in the reference. */
ScNet *sc_encoder_new(int in_h, int in_w, int in_c, int width, GError **error);
ScNet *sc_projection_head_new(int in_features, int width);
/* Dense(classes), used as the linear probe and the classifier. */
ScNet *sc_linear_head_new(int in_features, int classes);

/* Parameters and gradients of several nets in one arena; each net is
 * bound to its slice, in the order given. */
typedef struct {
  ScBackend *be;
  size_t count;
  float *params; /* (count) backend memory */
  float *grads;  /* (count) backend memory */
} ScParams;

ScParams *sc_params_new(ScBackend *be, ScNet *const *nets, int n_nets, GError **error);
void sc_params_free(ScParams *params);

/* Glorot-uniform weights and zero biases, drawn from
 * ScRng(seed, SC_RNG_INIT, epoch = net_id, step = layer, index = 0). */
void sc_net_init_glorot(ScNet *net, uint64_t seed, uint32_t net_id);

/* Allocates activations for batches up to batch_capacity. */
gboolean sc_net_prepare(ScNet *net, int batch_capacity, GError **error);
/* Frees the activations (the parameters stay); prepare again before use. */
void sc_net_release(ScNet *net);

/* Runs the net on x (batch, in...) and returns its output (batch, out...),
 * owned by the net and valid until the next forward. x must stay valid
 * until sc_net_backward. */
const float *sc_net_forward(ScNet *net, const float *x, int batch);

/* Backpropagates dy (the output's gradient) through the last forward.
 * Overwrites the net's gradients; writes the input's gradient into dx
 * unless dx is NULL. */
void sc_net_backward(ScNet *net, const float *dy, float *dx);

G_END_DECLS
