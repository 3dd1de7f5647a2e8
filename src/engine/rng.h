/* Counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
 *
 * Every random draw in the engine is a pure function of
 * (seed, purpose, epoch, step, index, draw number), so a run replays exactly,
 * a resumed run continues the same sequence, and another backend (CUDA) can
 * compute the same numbers in parallel without sharing state.
 *
 * Counter layout of one stream:
 *   ctr[0] = block number (4 outputs per block), ctr[1] = index (image),
 *   ctr[2] = step, ctr[3] = purpose << 24 | epoch (24 bits);
 *   key = the 64-bit seed. */
#pragma once

#include "philox.h"

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  SC_RNG_INIT = 1,        /* weight initialisation: step = layer, index = tensor */
  SC_RNG_SPLIT,           /* choosing the labeled subset */
  SC_RNG_SHUFFLE,         /* per-epoch order of a split: step = which stream */
  SC_RNG_AUG_WEAK,        /* weak augmentation of the supervised / probe batch */
  SC_RNG_AUG_VIEW1,       /* strong augmentation, first view */
  SC_RNG_AUG_VIEW2,       /* strong augmentation, second view */
  SC_RNG_PREVIEW,         /* images and draws for previews */
  SC_RNG_TEST,            /* free for tests */
} ScRngPurpose;

typedef struct {
  uint32_t key[2];
  uint32_t ctr[4];
  uint32_t block[4]; /* the current block's outputs */
  int used;          /* how many of block[] were consumed */
} ScRng;

/* One Philox4x32-10 evaluation. */
void sc_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

void sc_rng_init(ScRng *rng, uint64_t seed, ScRngPurpose purpose,
                 uint32_t epoch, uint32_t step, uint32_t index);
uint32_t sc_rng_u32(ScRng *rng);
/* Uniform in [0, 1) with 24 random bits (exactly representable in float). */
float sc_rng_uniform(ScRng *rng);
/* Uniform in [lo, hi). */
float sc_rng_range(ScRng *rng, float lo, float hi);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t sc_rng_below(ScRng *rng, uint32_t n);

/* The same conversion from 32 random bits to [0, 1), for kernels that
 * evaluate the generator themselves. */
static inline float
sc_rng_u32_to_unit(uint32_t bits)
{
  return sc_philox_unit(bits);
}

/* Fisher-Yates permutation of 0..n-1 drawn from rng. */
void sc_rng_permutation(ScRng *rng, int32_t *out, size_t n);

G_END_DECLS
