/* The CPU backend's private state, shared by cpu-backend.c and cpu-conv.c.
 *
 * Operations cannot return errors (backend.h); a failure inside one (oneDNN
 * out of memory, say) is kept here and reported by the next sync(). */
#pragma once

#include "cpu-ops.h"

G_BEGIN_DECLS

typedef struct _ScCpuConv ScCpuConv;

typedef struct {
  ScBackend base;  /* first, so an ScBackend * is an ScCpuBackend * */
  GMutex lock;     /* guards conv and pending */
  ScCpuConv *conv; /* oneDNN engine, stream and cached primitives (cpu-conv.c) */
  GError *pending; /* first failure since the last sync(), or NULL */
} ScCpuBackend;

static inline ScCpuBackend *
sc_cpu_backend(ScBackend *be)
{
  return (ScCpuBackend *)be;
}

/* cpu-conv.c: creates the oneDNN engine and stream. */
gboolean sc_cpu_conv_init(ScBackend *be, GError **error);

/* Applies be->threads to the calling thread's OpenMP team size. OpenMP keeps
 * that setting per thread, and the trainer runs in a thread of its own. */
void sc_cpu_backend_apply_threads(ScBackend *be);

/* Bytes of reordered input and output gradient per chunk of the blocked
 * weight gradient (cpu-conv.c); 0 restores the default. Drops cached plans.
 * Tests make it small to run several chunks on small shapes. */
void sc_cpu_conv_set_wgrad_chunk_bytes(ScBackend *be, size_t bytes);
/* Images per chunk of d's weight gradient; 0 when it runs on NHWC in one
 * call (no blocked kernel) or d has not run backward yet. */
int sc_cpu_conv_wgrad_chunk_images(ScBackend *be, const ScConvDesc *d);

/* Keeps the first failure (takes ownership of error); the caller holds lock. */
void sc_cpu_backend_fail(ScBackend *be, GError *error);

G_END_DECLS
