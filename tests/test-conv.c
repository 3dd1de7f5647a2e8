/* The CPU backend's convolutions: the reference's numbers, then forward and
 * backward against a naive double-precision convolution and central finite
 * differences of L = sum(dy * conv(x, w, b)) taken in double.
 *
 * Tolerances (|got - want| <= abs + rel * |want|), float against double:
 *   small cases, inputs and weights in [-1, 1]:
 *     y, dx: abs 2e-5, rel 1e-5 (sums of at most 75 products)
 *     dw, db: abs 1e-4, rel 1e-5 (sums over up to 3 x 9 x 8 = 216 positions)
 *   the reference's integer-valued examples: abs 1e-4, rel 1e-6
 *   finite differences of the double functional (eps 1e-5): abs 1e-7, rel 1e-7
 *   encoder shapes (batch 2): see test_encoder_shapes. */
#include "backend.h"
#include "cpu/cpu-backend-private.h"
#include "sc-error.h"
#include "test-util.h"

#include <math.h>
#include <string.h>

typedef struct {
  int batch, h, w, in_c, out_c, k_h, k_w, stride;
  ScPadding padding;
} Case;

static ScBackend *
backend_new(void)
{
  g_autoptr(GError) error = NULL;
  ScBackend *be = sc_backend_cpu_new(2, &error);
  g_assert_no_error(error);
  return be;
}

static size_t
x_count(const ScConvDesc *d)
{
  return (size_t)d->batch * d->in_h * d->in_w * d->in_c;
}

static size_t
y_count(const ScConvDesc *d)
{
  return (size_t)d->batch * d->out_h * d->out_w * d->out_c;
}

static size_t
w_count(const ScConvDesc *d)
{
  return (size_t)d->k_h * d->k_w * d->in_c * d->out_c;
}

/* Input row iy read by output row oy at kernel row ky (may fall in the padding). */
static inline int
in_row(const ScConvDesc *d, int oy, int ky)
{
  return oy * d->stride - d->pad_top + ky;
}

static inline int
in_col(const ScConvDesc *d, int ox, int kx)
{
  return ox * d->stride - d->pad_left + kx;
}

/* y (N, OH, OW, O) = b + sum x (N, H, W, C) * w (KH, KW, C, O), in double. */
static void
conv_forward_d(const ScConvDesc *d, const double *x, const double *w, const double *b,
               double *y)
{
  for (int n = 0; n < d->batch; n++)
    for (int oy = 0; oy < d->out_h; oy++)
      for (int ox = 0; ox < d->out_w; ox++)
        for (int o = 0; o < d->out_c; o++) {
          double sum = b[o];
          for (int ky = 0; ky < d->k_h; ky++)
            for (int kx = 0; kx < d->k_w; kx++) {
              int iy = in_row(d, oy, ky), ix = in_col(d, ox, kx);
              if (iy < 0 || iy >= d->in_h || ix < 0 || ix >= d->in_w)
                continue;
              const double *xp = x + (((size_t)n * d->in_h + iy) * d->in_w + ix) * d->in_c;
              const double *wp = w + ((size_t)ky * d->k_w + kx) * d->in_c * d->out_c + o;
              for (int c = 0; c < d->in_c; c++)
                sum += xp[c] * wp[(size_t)c * d->out_c];
            }
          y[(((size_t)n * d->out_h + oy) * d->out_w + ox) * d->out_c + o] = sum;
        }
}

/* The gradients of L = sum(dy * y) written out as sums, in double. */
static void
conv_backward_d(const ScConvDesc *d, const double *x, const double *w, const double *dy,
                double *dx, double *dw, double *db)
{
  memset(dx, 0, x_count(d) * sizeof(double));
  memset(dw, 0, w_count(d) * sizeof(double));
  memset(db, 0, d->out_c * sizeof(double));
  for (int n = 0; n < d->batch; n++)
    for (int oy = 0; oy < d->out_h; oy++)
      for (int ox = 0; ox < d->out_w; ox++) {
        const double *g = dy + (((size_t)n * d->out_h + oy) * d->out_w + ox) * d->out_c;
        for (int o = 0; o < d->out_c; o++)
          db[o] += g[o];
        for (int ky = 0; ky < d->k_h; ky++)
          for (int kx = 0; kx < d->k_w; kx++) {
            int iy = in_row(d, oy, ky), ix = in_col(d, ox, kx);
            if (iy < 0 || iy >= d->in_h || ix < 0 || ix >= d->in_w)
              continue;
            size_t xi = (((size_t)n * d->in_h + iy) * d->in_w + ix) * d->in_c;
            size_t wi = ((size_t)ky * d->k_w + kx) * d->in_c * d->out_c;
            for (int c = 0; c < d->in_c; c++)
              for (int o = 0; o < d->out_c; o++) {
                dx[xi + c] += g[o] * w[wi + (size_t)c * d->out_c + o];
                dw[wi + (size_t)c * d->out_c + o] += g[o] * x[xi + c];
              }
          }
      }
}

/* L = sum(dy * conv_d(x, w, b)). */
static double
loss_d(const ScConvDesc *d, const double *x, const double *w, const double *b,
       const double *dy, double *y_scratch)
{
  conv_forward_d(d, x, w, b, y_scratch);
  double sum = 0.0;
  for (size_t i = 0; i < y_count(d); i++)
    sum += dy[i] * y_scratch[i];
  return sum;
}

/* Central differences of loss_d with respect to every entry of p (n). */
static void
finite_diff(const ScConvDesc *d, double *x, double *w, double *b, const double *dy,
            double *p, size_t n, double *grad)
{
  const double eps = 1e-5;
  double *y = g_new(double, y_count(d));
  for (size_t i = 0; i < n; i++) {
    double keep = p[i];
    p[i] = keep + eps;
    double up = loss_d(d, x, w, b, dy, y);
    p[i] = keep - eps;
    double down = loss_d(d, x, w, b, dy, y);
    p[i] = keep;
    grad[i] = (up - down) / (2 * eps);
  }
  g_free(y);
}

static void
fill_uniform(GRand *rand, double *d, float *f, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++) {
    /* Values that floats hold exactly, so both precisions see the same input. */
    f[i] = (float)g_rand_double_range(rand, lo, hi);
    d[i] = f[i];
  }
}

static void
fill_nan(float *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    p[i] = NAN;
}

static double
max_abs_diff(const float *got, const double *want, size_t n)
{
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = MAX(m, fabs(got[i] - want[i]));
  return m;
}

/* Float buffers on the backend and their double twins. */
typedef struct {
  ScConvDesc d;
  float *x, *w, *b, *dy, *y, *dx, *dw, *db;
  double *xd, *wd, *bd, *dyd, *yd, *dxd, *dwd, *dbd;
} Tensors;

static void
tensors_init(Tensors *t, ScBackend *be, const ScConvDesc *d, GRand *rand, double x_lo,
             double x_hi, double w_scale)
{
  t->d = *d;
  size_t nx = x_count(d), ny = y_count(d), nw = w_count(d), nb = d->out_c;
  float **f[] = { &t->x, &t->w, &t->b, &t->dy, &t->y, &t->dx, &t->dw, &t->db };
  double **g[] = { &t->xd, &t->wd, &t->bd, &t->dyd, &t->yd, &t->dxd, &t->dwd, &t->dbd };
  size_t sizes[] = { nx, nw, nb, ny, ny, nx, nw, nb };
  for (int i = 0; i < 8; i++) {
    *f[i] = be->ops->alloc(be, sizes[i] * sizeof(float));
    g_assert_nonnull(*f[i]);
    *g[i] = g_new0(double, sizes[i]);
  }
  fill_uniform(rand, t->xd, t->x, nx, x_lo, x_hi);
  fill_uniform(rand, t->wd, t->w, nw, -w_scale, w_scale);
  fill_uniform(rand, t->bd, t->b, nb, -1.0, 1.0);
  fill_uniform(rand, t->dyd, t->dy, ny, -1.0, 1.0);
}

static void
tensors_clear(Tensors *t, ScBackend *be)
{
  float *f[] = { t->x, t->w, t->b, t->dy, t->y, t->dx, t->dw, t->db };
  double *g[] = { t->xd, t->wd, t->bd, t->dyd, t->yd, t->dxd, t->dwd, t->dbd };
  for (int i = 0; i < 8; i++) {
    be->ops->free(be, f[i]);
    g_free(g[i]);
  }
}

/* Runs our forward and backward (outputs poisoned with NaN first, so every
 * entry must be overwritten) and the double versions. */
static void
tensors_run(Tensors *t, ScBackend *be, gboolean want_dx)
{
  const ScConvDesc *d = &t->d;
  fill_nan(t->y, y_count(d));
  fill_nan(t->dx, x_count(d));
  fill_nan(t->dw, w_count(d));
  fill_nan(t->db, d->out_c);
  be->ops->conv2d_forward(be, d, t->x, t->w, t->b, t->y);
  be->ops->conv2d_backward(be, d, t->x, t->w, t->dy, want_dx ? t->dx : NULL, t->dw, t->db);
  g_autoptr(GError) error = NULL;
  g_assert_true(be->ops->sync(be, &error));
  g_assert_no_error(error);
  conv_forward_d(d, t->xd, t->wd, t->bd, t->yd);
  conv_backward_d(d, t->xd, t->wd, t->dyd, t->dxd, t->dwd, t->dbd);
}

static void
check_reference(const char *name)
{
  g_autofree char *p_x = g_strdup_printf("%s/input_NHWC", name);
  g_autofree char *p_w = g_strdup_printf("%s/weight_HWIO_keras", name);
  g_autofree char *p_b = g_strdup_printf("%s/bias", name);
  g_autofree char *p_y = g_strdup_printf("%s/output_NHWC", name);
  g_autofree char *p_dy = g_strdup_printf("%s/upstream_grad_NHWC", name);
  g_autofree char *p_dx = g_strdup_printf("%s/dinput_NHWC", name);
  g_autofree char *p_dw = g_strdup_printf("%s/dweight_HWIO_keras", name);
  g_autofree char *p_db = g_strdup_printf("%s/dbias", name);
  g_autofree char *p_stride = g_strdup_printf("%s/stride", name);
  size_t nx, nw, nb, ny, ndy, ndx, ndw, ndb;
  g_autofree double *x = sc_test_reference_array(p_x, &nx);
  g_autofree double *w = sc_test_reference_array(p_w, &nw);
  g_autofree double *b = sc_test_reference_array(p_b, &nb);
  g_autofree double *y = sc_test_reference_array(p_y, &ny);
  g_autofree double *dy = sc_test_reference_array(p_dy, &ndy);
  g_autofree double *dx = sc_test_reference_array(p_dx, &ndx);
  g_autofree double *dw = sc_test_reference_array(p_dw, &ndw);
  g_autofree double *db = sc_test_reference_array(p_db, &ndb);
  int stride = (int)sc_test_reference_double(p_stride);

  /* One 5x5 image; channels from the sizes. */
  int in_c = (int)(nx / 25), out_c = (int)nb;
  g_assert_cmpuint(nx, ==, 25u * in_c);
  g_assert_cmpuint(nw, ==, 9u * in_c * out_c);
  ScConvDesc d;
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_conv_desc_init(&d, 1, 5, 5, in_c, out_c, 3, 3, stride, SC_PADDING_VALID,
                                  &error));
  g_assert_cmpuint(ny, ==, y_count(&d));
  g_assert_cmpuint(ndy, ==, ny);
  g_assert_cmpuint(ndx, ==, nx);
  g_assert_cmpuint(ndw, ==, nw);
  g_assert_cmpuint(ndb, ==, nb);

  ScBackend *be = backend_new();
  float *xf = g_new(float, nx), *wf = g_new(float, nw), *bf = g_new(float, nb);
  float *dyf = g_new(float, ny), *yf = g_new(float, ny), *dxf = g_new(float, nx);
  float *dwf = g_new(float, nw), *dbf = g_new(float, nb);
  for (size_t i = 0; i < nx; i++)
    xf[i] = (float)x[i];
  for (size_t i = 0; i < nw; i++)
    wf[i] = (float)w[i];
  for (size_t i = 0; i < nb; i++)
    bf[i] = (float)b[i];
  for (size_t i = 0; i < ny; i++)
    dyf[i] = (float)dy[i];
  be->ops->conv2d_forward(be, &d, xf, wf, bf, yf);
  be->ops->conv2d_backward(be, &d, xf, wf, dyf, dxf, dwf, dbf);
  g_assert_true(be->ops->sync(be, &error));
  sc_test_assert_close_f("output", yf, y, ny, 1e-4, 1e-6);
  sc_test_assert_close_f("dinput", dxf, dx, nx, 1e-4, 1e-6);
  sc_test_assert_close_f("dweight", dwf, dw, nw, 1e-4, 1e-6);
  sc_test_assert_close_f("dbias", dbf, db, nb, 1e-4, 1e-6);
  float *bufs[] = { xf, wf, bf, dyf, yf, dxf, dwf, dbf };
  for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
    g_free(bufs[i]);
  sc_backend_free(be);
}

static void
test_reference_1ch(void)
{
  check_reference("conv_1ch");
}

static void
test_reference_2ch(void)
{
  check_reference("conv_2ch");
}

static void
check_case(ScBackend *be, const Case *c, guint32 seed)
{
  ScConvDesc d;
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_conv_desc_init(&d, c->batch, c->h, c->w, c->in_c, c->out_c, c->k_h,
                                  c->k_w, c->stride, c->padding, &error));
  GRand *rand = g_rand_new_with_seed(seed);
  Tensors t;
  tensors_init(&t, be, &d, rand, -1.0, 1.0, 1.0);
  tensors_run(&t, be, TRUE);
  size_t nx = x_count(&d), nw = w_count(&d);

  /* Our double backward against finite differences first: it is the yardstick. */
  double *fd_x = g_new(double, nx), *fd_w = g_new(double, nw), *fd_b = g_new(double, d.out_c);
  finite_diff(&d, t.xd, t.wd, t.bd, t.dyd, t.xd, nx, fd_x);
  finite_diff(&d, t.xd, t.wd, t.bd, t.dyd, t.wd, nw, fd_w);
  finite_diff(&d, t.xd, t.wd, t.bd, t.dyd, t.bd, d.out_c, fd_b);
  sc_test_assert_close_d("double dx vs finite differences", t.dxd, fd_x, nx, 1e-7, 1e-7);
  sc_test_assert_close_d("double dw vs finite differences", t.dwd, fd_w, nw, 1e-7, 1e-7);
  sc_test_assert_close_d("double db vs finite differences", t.dbd, fd_b, d.out_c, 1e-7, 1e-7);

  sc_test_assert_close_f("y", t.y, t.yd, y_count(&d), 2e-5, 1e-5);
  sc_test_assert_close_f("dx", t.dx, fd_x, nx, 2e-5, 1e-5);
  sc_test_assert_close_f("dw", t.dw, fd_w, nw, 1e-4, 1e-5);
  sc_test_assert_close_f("db", t.db, fd_b, d.out_c, 1e-4, 1e-5);
  g_test_message("%dx%dx%dx%d k %dx%d s %d %s: max error y %.1e dx %.1e dw %.1e db %.1e",
                 c->batch, c->h, c->w, c->in_c, c->k_h, c->k_w, c->stride,
                 c->padding == SC_PADDING_SAME ? "same" : "valid",
                 max_abs_diff(t.y, t.yd, y_count(&d)), max_abs_diff(t.dx, fd_x, nx),
                 max_abs_diff(t.dw, fd_w, nw), max_abs_diff(t.db, fd_b, d.out_c));
  g_free(fd_x);
  g_free(fd_w);
  g_free(fd_b);
  tensors_clear(&t, be);
  g_rand_free(rand);
}

static void
test_finite_differences(void)
{
  static const Case cases[] = {
    { 1, 5, 5, 1, 1, 3, 3, 2, SC_PADDING_VALID },
    { 3, 7, 5, 2, 3, 3, 3, 1, SC_PADDING_VALID },
    { 3, 7, 5, 3, 4, 3, 3, 2, SC_PADDING_SAME },
    { 1, 9, 6, 3, 4, 5, 5, 3, SC_PADDING_SAME },
    { 3, 9, 6, 2, 3, 1, 1, 2, SC_PADDING_VALID },
    { 3, 9, 6, 3, 4, 1, 1, 1, SC_PADDING_SAME },
    { 3, 6, 8, 3, 4, 3, 3, 2, SC_PADDING_SAME },  /* one pixel of padding, after */
    { 1, 7, 5, 2, 3, 3, 2, 1, SC_PADDING_SAME },  /* non-square kernel, odd padding */
    { 3, 9, 6, 3, 4, 3, 2, 3, SC_PADDING_VALID },
    { 3, 8, 7, 2, 3, 5, 5, 1, SC_PADDING_SAME },
    { 2, 7, 7, 20, 24, 3, 3, 2, SC_PADDING_SAME }, /* channel blocks of 16 and a tail */
  };
  ScBackend *be = backend_new();
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
    check_case(be, &cases[i], 100 + i);
  sc_backend_free(be);
}

/* The encoder's layers at batch 2 against the double version, every entry:
 * x in [0, 1] like images, weights of Glorot's scale, dy in [-1, 1]. */
static void
check_encoder_layer(ScBackend *be, int in_hw, int in_c, gboolean want_dx, guint32 seed)
{
  ScConvDesc d;
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_conv_desc_init(&d, 2, in_hw, in_hw, in_c, 128, 3, 3, 2, SC_PADDING_VALID,
                                  &error));
  GRand *rand = g_rand_new_with_seed(seed);
  Tensors t;
  double limit = sqrt(6.0 / (9.0 * in_c + 9.0 * 128));
  tensors_init(&t, be, &d, rand, 0.0, 1.0, limit);
  tensors_run(&t, be, want_dx);
  /* Sums of up to 1152 products (y, dx) and 2 x 47 x 47 = 4418 products (dw, db):
   * float rounding grows like the square root of the count. */
  sc_test_assert_close_f("y", t.y, t.yd, y_count(&d), 1e-5, 1e-5);
  if (want_dx)
    sc_test_assert_close_f("dx", t.dx, t.dxd, x_count(&d), 1e-5, 1e-5);
  sc_test_assert_close_f("dw", t.dw, t.dwd, w_count(&d), 5e-4, 1e-5);
  sc_test_assert_close_f("db", t.db, t.dbd, d.out_c, 5e-4, 1e-5);
  g_test_message("encoder %dx%dx%d: max error y %.1e dx %.1e dw %.1e db %.1e", in_hw, in_hw,
                 in_c, max_abs_diff(t.y, t.yd, y_count(&d)),
                 want_dx ? max_abs_diff(t.dx, t.dxd, x_count(&d)) : 0.0,
                 max_abs_diff(t.dw, t.dwd, w_count(&d)), max_abs_diff(t.db, t.dbd, d.out_c));
  tensors_clear(&t, be);
  g_rand_free(rand);
}

static void
test_encoder_shapes(void)
{
  ScBackend *be = backend_new();
  check_encoder_layer(be, 96, 3, FALSE, 7); /* training skips the first layer's dx */
  check_encoder_layer(be, 96, 3, TRUE, 8);
  check_encoder_layer(be, 47, 128, TRUE, 9);
  check_encoder_layer(be, 11, 128, TRUE, 10);
  sc_backend_free(be);
}

/* The CPU backend's weight gradient runs in chunks of images on blocked
 * layouts and adds the chunks up: 5 images in chunks of 2, 2 and 1 must
 * give the whole batch's gradient (NaN-filled first, so chunk 0 overwrites). */
static void
test_weight_gradient_chunks(void)
{
  static const Case cases[] = {
    { 5, 9, 9, 16, 32, 3, 3, 2, SC_PADDING_VALID },  /* blocked input and output */
    { 5, 13, 11, 3, 16, 3, 3, 2, SC_PADDING_VALID }, /* 3 channels, as the first layer */
  };
  ScBackend *be = backend_new();
  gboolean chunked = TRUE;
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const Case *c = &cases[i];
    ScConvDesc d;
    g_assert_true(sc_conv_desc_init(&d, c->batch, c->h, c->w, c->in_c, c->out_c, c->k_h,
                                    c->k_w, c->stride, c->padding, NULL));
    size_t image_bytes = (x_count(&d) + y_count(&d)) / d.batch * sizeof(float);
    sc_cpu_conv_set_wgrad_chunk_bytes(be, 2 * image_bytes + image_bytes / 2);
    GRand *rand = g_rand_new_with_seed(300 + i);
    Tensors t;
    tensors_init(&t, be, &d, rand, 0.0, 1.0, 0.2);
    tensors_run(&t, be, TRUE);
    sc_test_assert_close_f("y", t.y, t.yd, y_count(&d), 1e-5, 1e-5);
    sc_test_assert_close_f("dx", t.dx, t.dxd, x_count(&d), 1e-5, 1e-5);
    sc_test_assert_close_f("dw", t.dw, t.dwd, w_count(&d), 1e-4, 1e-5);
    sc_test_assert_close_f("db", t.db, t.dbd, d.out_c, 1e-4, 1e-5);
    int images = sc_cpu_conv_wgrad_chunk_images(be, &d);
    g_test_message("%dx%dx%d -> %d channels: chunks of %d images, max error dw %.1e db %.1e",
                   c->h, c->w, c->in_c, c->out_c, images,
                   max_abs_diff(t.dw, t.dwd, w_count(&d)), max_abs_diff(t.db, t.dbd, d.out_c));
    chunked = chunked && images == 2;
    g_assert_true(images == 0 || images == 2);
    tensors_clear(&t, be);
    g_rand_free(rand);
  }
  sc_cpu_conv_set_wgrad_chunk_bytes(be, 0);
  sc_backend_free(be);
  if (!chunked)
    g_test_skip("oneDNN has no blocked weight-gradient kernel on this CPU");
}

/* Many batch sizes of one layer: each gets its own cached primitives, the
 * cache drops old ones, and a size seen before still gives the right answer. */
static void
test_batch_sizes(void)
{
  ScBackend *be = backend_new();
  const int sizes[] = { 3, 1, 2, 3 };
  for (int round = 0; round < 2; round++) {
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
      Case c = { sizes[i], 6, 5, 3, 4, 3, 3, 2, SC_PADDING_SAME };
      check_case(be, &c, 200 + i);
    }
    /* Enough other shapes between the rounds to push these out of the cache. */
    for (int b = 1; round == 0 && b <= 70; b++) {
      ScConvDesc d;
      g_assert_true(sc_conv_desc_init(&d, b, 2, 2, 1, 1, 1, 1, 1, SC_PADDING_VALID, NULL));
      float x[140 * 4], w = 2.0f, bias = 0.5f, y[140 * 4];
      for (int j = 0; j < b * 4; j++)
        x[j] = (float)j;
      be->ops->conv2d_forward(be, &d, x, &w, &bias, y);
      for (int j = 0; j < b * 4; j++)
        g_assert_cmpfloat(y[j], ==, 2.0f * j + 0.5f);
    }
  }
  g_assert_true(be->ops->sync(be, NULL));
  sc_backend_free(be);
}

/* A description that does not add up (the output size is wrong) cannot be
 * run: the operation leaves the failure for sync(), which names the shape. */
static void
test_bad_desc_reported_by_sync(void)
{
  ScBackend *be = backend_new();
  ScConvDesc d;
  g_assert_true(sc_conv_desc_init(&d, 1, 5, 5, 1, 1, 3, 3, 1, SC_PADDING_VALID, NULL));
  d.out_h = 4; /* should be 3 */
  float x[25] = { 0 }, w[9] = { 0 }, b = 0, y[16], dx[25], dw[9], db;
  g_test_expect_message("simclr-engine", G_LOG_LEVEL_WARNING, "*oneDNN*");
  be->ops->conv2d_forward(be, &d, x, w, &b, y);
  be->ops->conv2d_backward(be, &d, x, w, y, dx, dw, &db);
  g_test_assert_expected_messages();
  g_autoptr(GError) error = NULL;
  g_assert_false(be->ops->sync(be, &error));
  g_assert_error(error, SC_BACKEND_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "5x5x1 -> 4x3x1"));
  /* Reported once; the backend keeps working. */
  g_clear_error(&error);
  g_assert_true(be->ops->sync(be, &error));
  sc_backend_free(be);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/Conv/reference/1ch", test_reference_1ch);
  g_test_add_func("/Conv/reference/2ch", test_reference_2ch);
  g_test_add_func("/Conv/finite-differences", test_finite_differences);
  g_test_add_func("/Conv/encoder-shapes", test_encoder_shapes);
  g_test_add_func("/Conv/batch-sizes", test_batch_sizes);
  g_test_add_func("/Conv/weight-gradient-chunks", test_weight_gradient_chunks);
  g_test_add_func("/Conv/bad-desc-reported-by-sync", test_bad_desc_reported_by_sync);
  return g_test_run();
}
