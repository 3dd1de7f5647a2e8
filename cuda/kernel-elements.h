// One thread's work in the elementwise kernels of cuda-kernels.cu, as
// functions nvcc compiles for the device and the host, so a host test can
// run them over every index and compare with the CPU backend.
#pragma once

#include "exact-math.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// The OHWI (cuDNN's KRSC) index of the HWIO weight at index hwio:
// hwio = ((y kw + x) ci + i) co + o, ohwi = ((o kh + y) kw + x) ci + i.
SC_HD_FN size_t
sc_k_ohwi_index(size_t hwio, int kh, int kw, int ci, int co)
{
  size_t o = hwio % co, rest = hwio / co; // rest = (y kw + x) ci + i
  size_t i = rest % ci, yx = rest / ci;
  return (o * kh * kw + yx) * ci + i;
}

// Element p of a padded NHWC image (n, ph, pw, c) with the original
// (n, h, w, c) placed at (top, left): TRUE and *inner = the original's
// index when p lies inside it, FALSE in the padding.
SC_HD_FN bool
sc_k_pad_source(size_t p, int h, int w, int c, int top, int left, int ph, int pw,
                size_t *inner)
{
  size_t ch = p % c, rest = p / c;
  int x = (int)(rest % pw) - left;
  rest /= pw;
  int y = (int)(rest % ph) - top;
  size_t img = rest / ph;
  if (y < 0 || y >= h || x < 0 || x >= w)
    return false;
  *inner = ((img * h + y) * w + x) * c + ch;
  return true;
}

// One Adam update of element i, the CPU's formula with each operation
// rounded on its own: m += (1-b1)(g-m); v += (1-b2)(g^2-v);
// p -= lr_t m / (sqrt(v) + eps).
SC_HD_FN void
sc_k_adam(size_t i, float *params, const float *grads, float *m, float *v, float lr_t,
          float one_minus_b1, float one_minus_b2, float epsilon)
{
  float g = grads[i];
  float mi = sc_fadd(m[i], sc_fmul(one_minus_b1, sc_fsub(g, m[i])));
  float vi = sc_fadd(v[i], sc_fmul(one_minus_b2, sc_fsub(sc_fmul(g, g), v[i])));
  float step = sc_fdiv(sc_fmul(lr_t, mi), sc_fadd(sc_fsqrt(vi), epsilon));
  m[i] = mi;
  v[i] = vi;
  params[i] = sc_fsub(params[i], step);
}

// Cross-view NT-Xent, element idx of G (b, b): (P[i][k] + Q[k][i]) / 2 -
// [i == k], with P = g (updated in place) and Q = q the column softmax
// stored as rows of S^T.
SC_HD_FN void
sc_k_ntxent_cross_grad(size_t idx, int b, float *g, const float *q)
{
  size_t i = idx / b, k = idx % b;
  float h = sc_fmul(0.5f, sc_fadd(g[idx], q[k * b + i]));
  g[idx] = sc_fsub(h, i == k ? 1.0f : 0.0f);
}

// Full NT-Xent, element idx of S (v, v), v = 2b, holding the softmax:
// for r < k, both S[r][k] and S[k][r] become the mean of the two after each
// lost the one-hot of its target ((row + b) % v). The diagonal (excluded,
// 0) stays; k < r is the other thread's pair.
SC_HD_FN void
sc_k_ntxent_full_grad(size_t idx, int b, float *sm)
{
  const int v = 2 * b;
  int r = (int)(idx / v), k = (int)(idx % v);
  if (k <= r)
    return;
  size_t t = (size_t)k * v + r;
  float x = sc_fsub(sm[idx], k == (r + b) % v ? 1.0f : 0.0f);
  float y = sc_fsub(sm[t], r == (k + b) % v ? 1.0f : 0.0f);
  float h = sc_fmul(0.5f, sc_fadd(x, y));
  sm[idx] = h;
  sm[t] = h;
}

// float32 -> bfloat16 bits, rounded to nearest even; a NaN stays a (quiet)
// NaN, which plain rounding could carry into infinity.
SC_HD_FN uint16_t
sc_k_float_to_bf16(float f)
{
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

SC_HD_FN float
sc_k_bf16_to_float(uint16_t b)
{
  uint32_t u = (uint32_t)b << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
