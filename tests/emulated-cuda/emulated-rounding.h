/* The reduced-precision roundings the emulated cuBLAS and cuDNN apply to
 * their inputs, bit by bit as the hardware's conversions do. */
#pragma once

#include <stdint.h>
#include <string.h>

/* float -> TF32 (8 exponent bits, 10 explicit mantissa bits), kept in a
 * float: round to nearest, ties away from zero (PTX cvt.rna.tf32.f32, the
 * conversion cuBLAS and cuDNN use before their TF32 tensor-core products).
 * NaN and infinity pass unchanged. */
static inline float
sc_emu_round_tf32(float f)
{
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  if ((u & 0x7f800000u) == 0x7f800000u)
    return f;
  u += 0x1000u; /* half of the 13 dropped bits, added to the magnitude */
  u &= 0xffffe000u;
  memcpy(&f, &u, sizeof(f));
  return f;
}

/* float -> bfloat16 bits: round to nearest, ties to even; NaN stays a
 * (quiet) NaN of the same sign. */
static inline uint16_t
sc_emu_float_to_bf16(float f)
{
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

static inline float
sc_emu_bf16_to_float(uint16_t h)
{
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

static inline float
sc_emu_round_bf16(float f)
{
  return sc_emu_bf16_to_float(sc_emu_float_to_bf16(f));
}
