/* Convolution throughput of the CPU backend (oneDNN) against im2col + OpenBLAS,
 * on the reference encoder's four layers: 3x3 stride 2 valid,
 * 96x96x3 -> 47x47x128 -> 23x23x128 -> 11x11x128 -> 5x5x128.
 *
 * The im2col path lives here only as the baseline that decided for oneDNN;
 * it works in chunks of images so its column buffer stays under 64 MiB.
 *
 *   conv-bench [--batch 1050] [--threads 2] [--reps 5] [--impl both]
 *
 * Forward is y = conv(x, w) + b; backward gives dw, db and dx (not for the
 * first layer, as in training). Times are the median of the repetitions. */
#include "backend.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COL_BYTES_MAX (64u << 20)

typedef struct {
  const ScConvDesc *d;
  const float *x, *w, *b, *dy; /* x (N, H, W, C), w HWIO, b (O), dy (N, OH, OW, O) */
  float *y, *dx, *dw, *db;
} LayerBuffers;

/* col (n_img * out_h * out_w, k_h * k_w * in_c): the patches of n_img images. */
static void
im2col(const ScConvDesc *d, const float *x, int n_img, float *col)
{
  const int k = d->k_h * d->k_w * d->in_c;
  const int rows = n_img * d->out_h * d->out_w;
#pragma omp parallel for
  for (int r = 0; r < rows; r++) {
    int n = r / (d->out_h * d->out_w), oy = r / d->out_w % d->out_h, ox = r % d->out_w;
    float *dst = col + (size_t)r * k;
    for (int ky = 0; ky < d->k_h; ky++) {
      for (int kx = 0; kx < d->k_w; kx++, dst += d->in_c) {
        int iy = oy * d->stride - d->pad_top + ky, ix = ox * d->stride - d->pad_left + kx;
        if (iy < 0 || iy >= d->in_h || ix < 0 || ix >= d->in_w)
          memset(dst, 0, d->in_c * sizeof(float));
        else
          memcpy(dst, x + (((size_t)n * d->in_h + iy) * d->in_w + ix) * d->in_c,
                 d->in_c * sizeof(float));
      }
    }
  }
}

/* dx (n_img, H, W, C) = the patches of col added back where they came from. */
static void
col2im(const ScConvDesc *d, const float *col, int n_img, float *dx)
{
  const int k = d->k_h * d->k_w * d->in_c;
  const size_t image = (size_t)d->in_h * d->in_w * d->in_c;
#pragma omp parallel for
  for (int n = 0; n < n_img; n++) {
    float *img = dx + n * image;
    memset(img, 0, image * sizeof(float));
    for (int oy = 0; oy < d->out_h; oy++) {
      for (int ox = 0; ox < d->out_w; ox++) {
        const float *src = col + ((size_t)(n * d->out_h + oy) * d->out_w + ox) * k;
        for (int ky = 0; ky < d->k_h; ky++) {
          for (int kx = 0; kx < d->k_w; kx++, src += d->in_c) {
            int iy = oy * d->stride - d->pad_top + ky;
            int ix = ox * d->stride - d->pad_left + kx;
            if (iy < 0 || iy >= d->in_h || ix < 0 || ix >= d->in_w)
              continue;
            float *p = img + ((size_t)iy * d->in_w + ix) * d->in_c;
            for (int c = 0; c < d->in_c; c++)
              p[c] += src[c];
          }
        }
      }
    }
  }
}

static int
chunk_images(const ScConvDesc *d)
{
  size_t per_image = (size_t)d->out_h * d->out_w * d->k_h * d->k_w * d->in_c * sizeof(float);
  return (int)CLAMP(COL_BYTES_MAX / per_image, 1, (size_t)d->batch);
}

static void
im2col_forward(const LayerBuffers *l, float *col)
{
  const ScConvDesc *d = l->d;
  const int k = d->k_h * d->k_w * d->in_c, chunk = chunk_images(d);
  const size_t in_img = (size_t)d->in_h * d->in_w * d->in_c;
  const size_t out_img = (size_t)d->out_h * d->out_w * d->out_c;
  for (int n0 = 0; n0 < d->batch; n0 += chunk) {
    int n_img = MIN(chunk, d->batch - n0), rows = n_img * d->out_h * d->out_w;
    float *y = l->y + n0 * out_img;
    im2col(d, l->x + n0 * in_img, n_img, col);
    /* y (rows, O) = b + col (rows, K) . w (K, O); HWIO is already (K, O). */
    for (int r = 0; r < rows; r++)
      memcpy(y + (size_t)r * d->out_c, l->b, d->out_c * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d->out_c, k, 1.0f, col, k,
                l->w, d->out_c, 1.0f, y, d->out_c);
  }
}

static void
im2col_backward(const LayerBuffers *l, float *col)
{
  const ScConvDesc *d = l->d;
  const int k = d->k_h * d->k_w * d->in_c, chunk = chunk_images(d);
  const size_t in_img = (size_t)d->in_h * d->in_w * d->in_c;
  const size_t out_img = (size_t)d->out_h * d->out_w * d->out_c;
  const size_t out_rows = (size_t)d->batch * d->out_h * d->out_w;
  for (int o = 0; o < d->out_c; o++)
    l->db[o] = 0.0f;
  for (size_t r = 0; r < out_rows; r++)
    for (int o = 0; o < d->out_c; o++)
      l->db[o] += l->dy[r * d->out_c + o];
  for (int n0 = 0; n0 < d->batch; n0 += chunk) {
    int n_img = MIN(chunk, d->batch - n0), rows = n_img * d->out_h * d->out_w;
    const float *dy = l->dy + n0 * out_img;
    /* dw (K, O) += col^T (K, rows) . dy (rows, O) */
    im2col(d, l->x + n0 * in_img, n_img, col);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, d->out_c, rows, 1.0f, col, k,
                dy, d->out_c, n0 == 0 ? 0.0f : 1.0f, l->dw, d->out_c);
    if (l->dx == NULL)
      continue;
    /* dcol (rows, K) = dy (rows, O) . w^T (O, K), then scattered into dx. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, k, d->out_c, 1.0f, dy,
                d->out_c, l->w, d->out_c, 0.0f, col, k);
    col2im(d, col, n_img, l->dx + n0 * in_img);
  }
}

static float *
random_buffer(ScBackend *be, size_t n, float scale, guint32 seed)
{
  float *p = be->ops->alloc(be, n * sizeof(float));
  if (p == NULL) {
    fprintf(stderr, "conv-bench: out of memory for %zu floats\n", n);
    exit(1);
  }
  GRand *rand = g_rand_new_with_seed(seed);
  for (size_t i = 0; i < n; i++)
    p[i] = (float)g_rand_double_range(rand, -scale, scale);
  g_rand_free(rand);
  return p;
}

static double
median_ms(double *t, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
      double s = t[j];
      t[j] = t[j - 1];
      t[j - 1] = s;
    }
  return t[n / 2];
}

/* Largest |a - b| relative to the largest |b|. */
static double
rel_diff(const float *a, const float *b, size_t n)
{
  double diff = 0.0, scale = 1e-30;
  for (size_t i = 0; i < n; i++) {
    diff = MAX(diff, fabs((double)a[i] - b[i]));
    scale = MAX(scale, fabs((double)b[i]));
  }
  return diff / scale;
}

int
main(int argc, char **argv)
{
  int batch = 1050, threads = 2, reps = 5;
  g_autofree char *impl = NULL;
  GOptionEntry entries[] = {
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Images per batch (1050)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "CPU threads (2)", "N" },
    { "reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Timed repetitions (5)", "N" },
    { "impl", 'i', 0, G_OPTION_ARG_STRING, &impl, "onednn, im2col or both", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- convolution throughput");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || batch < 1 || reps < 1) {
    fprintf(stderr, "conv-bench: %s\n", error != NULL ? error->message : "bad sizes");
    return 2;
  }
  gboolean run_dnnl = impl == NULL || !g_str_equal(impl, "im2col");
  gboolean run_im2col = impl == NULL || !g_str_equal(impl, "onednn");

  ScBackend *be = sc_backend_cpu_new(threads, &error);
  if (be == NULL) {
    fprintf(stderr, "conv-bench: %s\n", error->message);
    return 1;
  }
  printf("batch %d, %d threads (OpenMP max %d), median of %d\n", batch, threads,
         omp_get_max_threads(), reps);
  printf("%-22s %-7s %10s %10s %10s\n", "layer", "impl", "fwd ms", "bwd ms", "total ms");

  static const int in_hw[4] = { 96, 47, 23, 11 }, in_c[4] = { 3, 128, 128, 128 };
  double total[2][2] = { { 0 } }; /* [impl][fwd, bwd] */
  double *t_fwd = g_new(double, reps), *t_bwd = g_new(double, reps);
  for (int layer = 0; layer < 4; layer++) {
    ScConvDesc d;
    if (!sc_conv_desc_init(&d, batch, in_hw[layer], in_hw[layer], in_c[layer], 128, 3, 3, 2,
                           SC_PADDING_VALID, &error)) {
      fprintf(stderr, "conv-bench: %s\n", error->message);
      return 1;
    }
    size_t nx = (size_t)batch * d.in_h * d.in_w * d.in_c;
    size_t ny = (size_t)batch * d.out_h * d.out_w * d.out_c;
    size_t nw = (size_t)d.k_h * d.k_w * d.in_c * d.out_c;
    float *x = random_buffer(be, nx, 1.0f, 1), *w = random_buffer(be, nw, 0.1f, 2);
    float *b = random_buffer(be, d.out_c, 0.1f, 3), *dy = random_buffer(be, ny, 1.0f, 4);
    float *y[2], *dw[2], *db[2], *dx[2] = { NULL, NULL };
    for (int i = 0; i < 2; i++) {
      y[i] = random_buffer(be, ny, 0, 5);
      dw[i] = random_buffer(be, nw, 0, 6);
      db[i] = random_buffer(be, d.out_c, 0, 7);
      if (layer > 0 && (i == 0 ? run_dnnl : run_im2col))
        dx[i] = random_buffer(be, nx, 0, 8);
    }
    float *col = run_im2col ? g_malloc(COL_BYTES_MAX) : NULL;
    g_autofree char *name = g_strdup_printf("%dx%dx%d -> %dx%dx%d", d.in_h, d.in_w, d.in_c,
                                            d.out_h, d.out_w, d.out_c);
    for (int i = 0; i < 2; i++) {
      if (!(i == 0 ? run_dnnl : run_im2col))
        continue;
      LayerBuffers l = { &d, x, w, b, dy, y[i], dx[i], dw[i], db[i] };
      for (int r = -1; r < reps; r++) { /* r = -1 warms up (plans, page faults) */
        gint64 t0 = g_get_monotonic_time();
        if (i == 0)
          be->ops->conv2d_forward(be, &d, x, w, b, y[i]);
        else
          im2col_forward(&l, col);
        gint64 t1 = g_get_monotonic_time();
        if (i == 0)
          be->ops->conv2d_backward(be, &d, x, w, dy, dx[i], dw[i], db[i]);
        else
          im2col_backward(&l, col);
        gint64 t2 = g_get_monotonic_time();
        if (r >= 0) {
          t_fwd[r] = (t1 - t0) / 1e3;
          t_bwd[r] = (t2 - t1) / 1e3;
        }
      }
      if (!be->ops->sync(be, &error)) {
        fprintf(stderr, "conv-bench: %s\n", error->message);
        return 1;
      }
      double f = median_ms(t_fwd, reps), bw = median_ms(t_bwd, reps);
      total[i][0] += f;
      total[i][1] += bw;
      printf("%-22s %-7s %10.1f %10.1f %10.1f\n", name, i == 0 ? "onednn" : "im2col", f, bw,
             f + bw);
    }
    if (run_dnnl && run_im2col) {
      printf("  agreement (max diff / max value): y %.1e, dw %.1e, db %.1e", 
             rel_diff(y[0], y[1], ny), rel_diff(dw[0], dw[1], nw),
             rel_diff(db[0], db[1], d.out_c));
      if (dx[0] != NULL)
        printf(", dx %.1e", rel_diff(dx[0], dx[1], nx));
      printf("\n");
    }
    g_free(col);
    float *bufs[] = { x, w, b, dy, y[0], y[1], dw[0], dw[1], db[0], db[1], dx[0], dx[1] };
    for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
      if (bufs[i] != NULL)
        be->ops->free(be, bufs[i]);
  }
  for (int i = 0; i < 2; i++)
    if (i == 0 ? run_dnnl : run_im2col)
      printf("%-22s %-7s %10.1f %10.1f %10.1f  (%.0f images/s fwd+bwd)\n", "all four layers",
             i == 0 ? "onednn" : "im2col", total[i][0], total[i][1],
             total[i][0] + total[i][1], batch / ((total[i][0] + total[i][1]) / 1e3));
  g_free(t_fwd);
  g_free(t_bwd);
  sc_backend_free(be);
  return 0;
}
