/* Layers and models: shapes, parameter counts, Glorot initialisation and
 * backward passes checked against finite differences. */
#include "model.h"

#include <math.h>
#include <string.h>

#include "rng.h"
#include "sc-error.h"
#include "test-util.h"

static ScBackend *
cpu(void)
{
  static ScBackend *be;
  if (be == NULL) {
    g_autoptr(GError) error = NULL;
    be = sc_backend_cpu_new(1, &error);
    g_assert_no_error(error);
  }
  return be;
}

static void
test_encoder_shapes_and_counts(void)
{
  g_autoptr(GError) error = NULL;
  ScNet *enc = sc_encoder_new(96, 96, 3, 128, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(enc->param_count, ==, 856064);
  static const int sides[] = { 47, 23, 11, 5 };
  int conv = 0;
  for (int i = 0; i < enc->n_layers; i++)
    if (enc->layers[i].kind == SC_LAYER_CONV2D) {
      g_assert_cmpint(enc->layers[i].out_h, ==, sides[conv]);
      g_assert_cmpint(enc->layers[i].out_w, ==, sides[conv]);
      conv++;
    }
  g_assert_cmpint(conv, ==, 4);
  g_assert_cmpuint(sc_net_output_size(enc), ==, 128);
  sc_net_free(enc);

  ScNet *head = sc_projection_head_new(128, 128);
  ScNet *probe = sc_linear_head_new(128, 10);
  g_assert_cmpuint(head->param_count, ==, 33024);
  g_assert_cmpuint(probe->param_count, ==, 1290);
  sc_net_free(head);
  sc_net_free(probe);

  /* Any input where the four convolutions keep at least one pixel. */
  enc = sc_encoder_new(31, 40, 1, 8, &error);
  g_assert_no_error(error);
  g_assert_cmpint(enc->layers[6].out_h, ==, 1);
  sc_net_free(enc);
  g_assert_null(sc_encoder_new(30, 96, 3, 128, &error));
  g_assert_error(error, SC_ENGINE_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "30x96"));
}

static void
test_glorot_limits(void)
{
  g_autoptr(GError) error = NULL;
  ScNet *enc = sc_encoder_new(96, 96, 3, 128, &error);
  ScNet *head = sc_projection_head_new(128, 128);
  ScNet *probe = sc_linear_head_new(128, 10);
  ScNet *nets[] = { enc, head, probe };
  ScParams *p = sc_params_new(cpu(), nets, 3, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(p->count, ==, 889088 + 1290);
  sc_net_init_glorot(enc, 1, 0);
  sc_net_init_glorot(head, 1, 1);
  sc_net_init_glorot(probe, 1, 2);

  /* Limits per layer from the reference: conv1, conv2-4, dense, head, probe. */
  size_t n;
  g_autofree double *limits = NULL;
  JsonArray *layers = json_node_get_array(sc_test_reference_node("glorot_uniform/layers"));
  limits = g_new(double, json_array_get_length(layers));
  n = 0;
  for (guint i = 0; i < json_array_get_length(layers); i++) {
    JsonObject *o = json_array_get_object_element(layers, i);
    if (json_object_has_member(o, "limit"))
      limits[n++] = json_object_get_double_member(o, "limit");
  }
  g_assert_cmpuint(n, ==, 8);

  int checked = 0;
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < nets[k]->n_layers; i++) {
      const ScLayer *l = &nets[k]->layers[i];
      if (l->weight_count == 0)
        continue;
      double limit = sqrt(6.0 / (l->fan_in + l->fan_out));
      g_assert_cmpfloat_with_epsilon(limit, limits[checked], 1e-6);
      const float *w = nets[k]->params + l->weight_offset;
      double max_abs = 0, sum = 0, sum2 = 0;
      for (size_t j = 0; j < l->weight_count; j++) {
        max_abs = MAX(max_abs, fabs(w[j]));
        sum += w[j];
        sum2 += (double)w[j] * w[j];
      }
      double mean = sum / l->weight_count, var = sum2 / l->weight_count - mean * mean;
      g_assert_cmpfloat(max_abs, <=, limit);
      g_assert_cmpfloat(max_abs, >, 0.99 * limit);
      g_assert_cmpfloat(fabs(mean), <, 4 * limit / sqrt(3.0 * l->weight_count));
      g_assert_cmpfloat(fabs(var / (limit * limit / 3.0) - 1.0), <, 0.1);
      const float *b = nets[k]->params + l->bias_offset;
      for (size_t j = 0; j < l->bias_count; j++)
        g_assert_cmpfloat(b[j], ==, 0.0f);
      checked++;
    }
  g_assert_cmpint(checked, ==, 8);
  sc_params_free(p);
  sc_net_free(enc);
  sc_net_free(head);
  sc_net_free(probe);
}

static void
fill_uniform(float *x, size_t n, ScRng *rng, float lo, float hi)
{
  for (size_t i = 0; i < n; i++)
    x[i] = sc_rng_range(rng, lo, hi);
}

/* L = sum(r * net(x)) evaluated in double from the float forward pass. */
static double
weighted_output(ScNet *net, const float *x, int batch, const double *r)
{
  const float *y = sc_net_forward(net, x, batch);
  size_t n = sc_net_output_size(net) * batch;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += r[i] * y[i];
  return sum;
}

/* Which ReLU outputs of the last forward are positive, one byte each. */
static GByteArray *
relu_pattern(const ScNet *net, int batch)
{
  GByteArray *mask = g_byte_array_new();
  for (int i = 0; i < net->n_layers; i++) {
    const ScLayer *l = &net->layers[i];
    if (l->kind != SC_LAYER_RELU)
      continue;
    size_t n = (size_t)l->out_h * l->out_w * l->out_c * batch;
    for (size_t j = 0; j < n; j++) {
      guint8 on = net->outputs[i][j] > 0.0f;
      g_byte_array_append(mask, &on, 1);
    }
  }
  return mask;
}

static gboolean
same_pattern(GByteArray *a, GByteArray *b)
{
  /* An empty array's data may be NULL, which memcmp must not get. */
  return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Checks the net's parameter and input gradients along random directions
 * against central differences: (L(t + e v) - L(t - e v)) / 2e = grad . v.
 * A difference across a ReLU kink measures nothing, so a step that flips
 * any ReLU is retried smaller, and a point and direction that flip one even
 * then are replaced by others; four of them must be checked. */
static void
check_net_gradients(ScNet *net, int batch, uint32_t seed)
{
  g_autoptr(GError) error = NULL;
  ScParams *p = sc_params_new(cpu(), &net, 1, &error);
  g_assert_no_error(error);
  g_assert_true(sc_net_prepare(net, batch, &error));
  sc_net_init_glorot(net, seed, 0);
  ScRng rng;
  sc_rng_init(&rng, seed, SC_RNG_TEST, 0, 0, 0);
  /* Non-zero biases, so the bias gradients matter. */
  for (int i = 0; i < net->n_layers; i++)
    fill_uniform(net->params + net->layers[i].bias_offset, net->layers[i].bias_count, &rng,
                 -0.1f, 0.1f);

  size_t n_in = sc_net_input_size(net) * batch, n_out = sc_net_output_size(net) * batch;
  g_autofree float *x = g_new(float, n_in);
  g_autofree float *dx = g_new(float, n_in);
  g_autofree float *dy = g_new(float, n_out);
  g_autofree double *r = g_new(double, n_out);
  for (size_t i = 0; i < n_out; i++)
    r[i] = dy[i] = sc_rng_range(&rng, -1.0f, 1.0f);

  g_autofree float *vp = g_new(float, net->param_count);
  g_autofree float *vx = g_new(float, n_in);
  g_autofree float *x0 = g_new(float, n_in);
  g_autofree float *p0 = g_memdup2(net->params, net->param_count * sizeof(float));
  const double steps[] = { 1e-3, 2.5e-4, 6e-5 };
  int checked = 0;
  for (int trial = 0; trial < 16 && checked < 4; trial++) {
    /* A fresh input each time, so no ReLU stays next to its kink. */
    fill_uniform(x0, n_in, &rng, -1.0f, 1.0f);
    memcpy(x, x0, n_in * sizeof(float));
    sc_net_forward(net, x, batch);
    g_autoptr(GByteArray) base = relu_pattern(net, batch);
    sc_net_backward(net, dy, dx);

    /* Direction in parameter space and input space together. */
    fill_uniform(vp, net->param_count, &rng, -1.0f, 1.0f);
    fill_uniform(vx, n_in, &rng, -1.0f, 1.0f);
    double predicted = 0;
    for (size_t i = 0; i < net->param_count; i++)
      predicted += (double)net->grads[i] * vp[i];
    for (size_t i = 0; i < n_in; i++)
      predicted += (double)dx[i] * vx[i];

    for (size_t k = 0; k < G_N_ELEMENTS(steps); k++) {
      double eps = steps[k], side[2];
      gboolean smooth = TRUE;
      for (int s = 0; s < 2; s++) {
        double e = s == 0 ? eps : -eps;
        for (size_t i = 0; i < net->param_count; i++)
          net->params[i] = (float)(p0[i] + e * vp[i]);
        for (size_t i = 0; i < n_in; i++)
          x[i] = (float)(x0[i] + e * vx[i]);
        side[s] = weighted_output(net, x, batch, r);
        g_autoptr(GByteArray) moved = relu_pattern(net, batch);
        smooth = smooth && same_pattern(base, moved);
      }
      memcpy(net->params, p0, net->param_count * sizeof(float));
      memcpy(x, x0, n_in * sizeof(float));
      if (!smooth)
        continue;
      double measured = (side[0] - side[1]) / (2 * eps);
      g_assert_cmpfloat(fabs(measured - predicted), <=, 2e-3 * (1 + fabs(predicted)));
      checked++;
      break;
    }
  }
  g_assert_cmpint(checked, ==, 4);
  sc_params_free(p);
}

static void
test_dense_gradients(void)
{
  for (int batch = 1; batch <= 3; batch += 2) {
    ScNet *net = sc_net_new("dense", 1, 1, 7);
    sc_net_add_dense(net, 5);
    check_net_gradients(net, batch, 11 + batch);
    sc_net_free(net);
  }
}

static void
test_relu_and_flatten_gradients(void)
{
  ScNet *net = sc_net_new("rf", 3, 2, 4);
  sc_net_add_relu(net);
  sc_net_add_flatten(net);
  sc_net_add_dense(net, 3);
  sc_net_add_relu(net);
  sc_net_add_dense(net, 2);
  check_net_gradients(net, 3, 5);
  g_assert_cmpint(net->layers[1].out_c, ==, 24);
  sc_net_free(net);
}

static void
test_small_convnet_gradients(void)
{
  /* Non-square, odd sizes, both paddings, batch 1 and 3. */
  for (int batch = 1; batch <= 3; batch += 2) {
    g_autoptr(GError) error = NULL;
    ScNet *net = sc_net_new("small", 9, 7, 2);
    g_assert_true(sc_net_add_conv2d(net, 3, 3, 1, SC_PADDING_SAME, &error));
    sc_net_add_relu(net);
    g_assert_true(sc_net_add_conv2d(net, 4, 3, 2, SC_PADDING_VALID, &error));
    sc_net_add_relu(net);
    sc_net_add_flatten(net);
    sc_net_add_dense(net, 6);
    sc_net_add_relu(net);
    sc_net_add_dense(net, 3);
    g_assert_cmpint(net->layers[2].out_h, ==, 4);
    g_assert_cmpint(net->layers[2].out_w, ==, 3);
    check_net_gradients(net, batch, 21 + batch);
    sc_net_free(net);
  }
}

static void
test_encoder_gradients(void)
{
  g_autoptr(GError) error = NULL;
  ScNet *net = sc_encoder_new(33, 35, 3, 6, &error);
  g_assert_no_error(error);
  check_net_gradients(net, 2, 3);
  sc_net_free(net);
}

/* ---- Each layer against a double version and central differences ----
 *
 * L(p, x) = sum(r * net_d(p, x)) where net_d is the net written out in
 * double; its central differences (step 1e-6) are the yardstick for the
 * float backward. Tolerances, float against double: forward abs 1e-6 rel
 * 1e-6; gradients abs 2e-5 rel 1e-5 (sums of at most 30 products). */

/* The net's layers (dense, ReLU, flatten) applied in double to x (batch, in)
 * with parameters p (param_count); returns a new (batch, out) array. */
static double *
net_forward_d(const ScNet *net, const double *p, const double *x, int batch)
{
  double *cur = g_memdup2(x, sc_net_input_size(net) * batch * sizeof(double));
  for (int i = 0; i < net->n_layers; i++) {
    const ScLayer *l = &net->layers[i];
    size_t n_in = (size_t)l->in_h * l->in_w * l->in_c;
    size_t n_out = (size_t)l->out_h * l->out_w * l->out_c;
    double *out = g_new(double, n_out * batch);
    for (int s = 0; s < batch; s++) {
      const double *xs = cur + s * n_in;
      double *ys = out + s * n_out;
      switch (l->kind) {
      case SC_LAYER_DENSE: /* y[u] = b[u] + sum_k x[k] W[k][u], W (in, units) */
        for (size_t u = 0; u < n_out; u++) {
          double sum = p[l->bias_offset + u];
          for (size_t k = 0; k < n_in; k++)
            sum += xs[k] * p[l->weight_offset + k * n_out + u];
          ys[u] = sum;
        }
        break;
      case SC_LAYER_RELU:
        for (size_t k = 0; k < n_out; k++)
          ys[k] = xs[k] > 0 ? xs[k] : 0;
        break;
      case SC_LAYER_FLATTEN: /* NHWC order is already the flat order */
        memcpy(ys, xs, n_out * sizeof(double));
        break;
      default:
        g_assert_not_reached();
      }
    }
    g_free(cur);
    cur = out;
  }
  return cur;
}

static double
weighted_output_d(const ScNet *net, const double *p, const double *x, int batch,
                  const double *r)
{
  g_autofree double *y = net_forward_d(net, p, x, batch);
  double sum = 0;
  for (size_t i = 0; i < sc_net_output_size(net) * batch; i++)
    sum += r[i] * y[i];
  return sum;
}

/* Central differences of weighted_output_d with respect to each entry of v. */
static void
central_differences(const ScNet *net, double *p, double *x, int batch, const double *r,
                    double *v, size_t n, double *fd)
{
  const double eps = 1e-6;
  for (size_t i = 0; i < n; i++) {
    double keep = v[i];
    v[i] = keep + eps;
    double up = weighted_output_d(net, p, x, batch, r);
    v[i] = keep - eps;
    double down = weighted_output_d(net, p, x, batch, r);
    v[i] = keep;
    fd[i] = (up - down) / (2 * eps);
  }
}

/* Values that floats hold exactly; |x| >= 0.05 keeps every ReLU input a
 * step of 1e-6 away from its kink. */
static void
fill_away_from_zero(float *f, double *d, size_t n, GRand *rand)
{
  for (size_t i = 0; i < n; i++) {
    double mag = g_rand_double_range(rand, 0.05, 1.0);
    f[i] = (float)(g_rand_boolean(rand) ? mag : -mag);
    d[i] = f[i];
  }
}

static void
check_layers_double(ScNet *net, int batch, guint32 seed)
{
  g_autoptr(GError) error = NULL;
  ScParams *params = sc_params_new(cpu(), &net, 1, &error);
  g_assert_no_error(error);
  g_assert_true(sc_net_prepare(net, batch, &error));
  GRand *rand = g_rand_new_with_seed(seed);
  size_t np = net->param_count;
  size_t n_in = sc_net_input_size(net) * batch, n_out = sc_net_output_size(net) * batch;
  g_autofree double *pd = g_new(double, MAX(np, 1));
  g_autofree double *xd = g_new(double, n_in);
  g_autofree double *r = g_new(double, n_out);
  g_autofree float *x = g_new(float, n_in);
  g_autofree float *x_copy = g_new(float, n_in);
  g_autofree float *dx = g_new(float, n_in);
  g_autofree float *dy = g_new(float, n_out);
  fill_away_from_zero(net->params, pd, np, rand);
  fill_away_from_zero(x, xd, n_in, rand);
  fill_away_from_zero(dy, r, n_out, rand);
  memcpy(x_copy, x, n_in * sizeof(float));

  /* Forward: every output against the double net. */
  const float *y = sc_net_forward(net, x, batch);
  g_autofree double *yd = net_forward_d(net, pd, xd, batch);
  sc_test_assert_close_f("forward", y, yd, n_out, 1e-6, 1e-6);
  g_assert_cmpmem(x, n_in * sizeof(float), x_copy, n_in * sizeof(float));

  /* Backward, outputs poisoned first so every entry must be written. */
  for (size_t i = 0; i < np; i++)
    net->grads[i] = NAN;
  for (size_t i = 0; i < n_in; i++)
    dx[i] = NAN;
  sc_net_backward(net, dy, dx);
  g_assert_true(cpu()->ops->sync(cpu(), &error));
  g_autofree double *fd_p = g_new(double, MAX(np, 1));
  g_autofree double *fd_x = g_new(double, n_in);
  central_differences(net, pd, xd, batch, r, pd, np, fd_p);
  central_differences(net, pd, xd, batch, r, xd, n_in, fd_x);
  sc_test_assert_close_f("parameter gradients", net->grads, fd_p, np, 2e-5, 1e-5);
  sc_test_assert_close_f("input gradients", dx, fd_x, n_in, 2e-5, 1e-5);
  /* The input is the caller's: no layer may write into it. */
  g_assert_cmpmem(x, n_in * sizeof(float), x_copy, n_in * sizeof(float));
  g_rand_free(rand);
  sc_params_free(params);
}

static void
test_layers_double_dense(void)
{
  for (int batch = 1; batch <= 3; batch += 2) {
    /* A (3, 1, 5) input seen as 15 features, 4 units; and 7 -> 9. */
    ScNet *net = sc_net_new("dense", 3, 1, 5);
    sc_net_add_dense(net, 4);
    check_layers_double(net, batch, 31 + batch);
    sc_net_free(net);
    net = sc_net_new("dense", 1, 1, 7);
    sc_net_add_dense(net, 9);
    check_layers_double(net, batch, 41 + batch);
    sc_net_free(net);
  }
}

static void
test_layers_double_relu(void)
{
  for (int batch = 1; batch <= 3; batch += 2) {
    ScNet *net = sc_net_new("relu", 3, 5, 2);
    sc_net_add_relu(net);
    check_layers_double(net, batch, 51 + batch);
    sc_net_free(net);
  }
}

static void
test_layers_double_flatten(void)
{
  for (int batch = 1; batch <= 3; batch += 2) {
    ScNet *net = sc_net_new("flatten", 3, 5, 2);
    sc_net_add_flatten(net);
    g_assert_cmpuint(sc_net_output_size(net), ==, 30);
    check_layers_double(net, batch, 61 + batch);
    sc_net_free(net);
    /* Flatten between layers, and a ReLU right after a flatten of the input. */
    net = sc_net_new("mixed", 3, 5, 2);
    sc_net_add_flatten(net);
    sc_net_add_relu(net);
    sc_net_add_dense(net, 5);
    sc_net_add_relu(net);
    sc_net_add_flatten(net);
    sc_net_add_dense(net, 3);
    check_layers_double(net, batch, 71 + batch);
    sc_net_free(net);
  }
}

static void
test_input_gradient_can_be_skipped(void)
{
  /* Backward with dx = NULL must give the same parameter gradients. */
  g_autoptr(GError) error = NULL;
  ScNet *net = sc_encoder_new(31, 31, 3, 4, &error);
  ScParams *p = sc_params_new(cpu(), &net, 1, &error);
  g_assert_true(sc_net_prepare(net, 2, &error));
  sc_net_init_glorot(net, 9, 0);
  ScRng rng;
  sc_rng_init(&rng, 9, SC_RNG_TEST, 0, 0, 0);
  size_t n_in = sc_net_input_size(net) * 2;
  g_autofree float *x = g_new(float, n_in);
  g_autofree float *dx = g_new(float, n_in);
  float dy[8];
  fill_uniform(x, n_in, &rng, 0.0f, 1.0f);
  fill_uniform(dy, 8, &rng, -1.0f, 1.0f);
  sc_net_forward(net, x, 2);
  sc_net_backward(net, dy, dx);
  g_autofree float *g1 = g_memdup2(net->grads, net->param_count * sizeof(float));
  sc_net_forward(net, x, 2);
  sc_net_backward(net, dy, NULL);
  g_assert_cmpmem(g1, net->param_count * sizeof(float), net->grads,
                  net->param_count * sizeof(float));
  sc_params_free(p);
  sc_net_free(net);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/model/encoder-shapes-and-counts", test_encoder_shapes_and_counts);
  g_test_add_func("/model/glorot-limits", test_glorot_limits);
  g_test_add_func("/model/dense-gradients", test_dense_gradients);
  g_test_add_func("/model/relu-flatten-gradients", test_relu_and_flatten_gradients);
  g_test_add_func("/model/small-convnet-gradients", test_small_convnet_gradients);
  g_test_add_func("/model/encoder-gradients", test_encoder_gradients);
  g_test_add_func("/model/input-gradient-can-be-skipped", test_input_gradient_can_be_skipped);
  g_test_add_func("/model/layers-double/dense", test_layers_double_dense);
  g_test_add_func("/model/layers-double/relu", test_layers_double_relu);
  g_test_add_func("/model/layers-double/flatten", test_layers_double_flatten);
  return g_test_run();
}
