/* Tensors in the safetensors layout (an 8-byte little-endian header size, a
 * JSON header, then the raw little-endian data), readable by other tools.
 * Our files carry a SHA-256 of the whole file in the header's metadata
 * (computed with the digest's own characters set to '0'), so a flipped byte
 * or a cut is refused on reading. Writes are atomic: temporary file, fsync,
 * rename. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;
  const float *data; /* host memory, float32 */
  int ndim;
  int64_t shape[4];
} ScTensorEntry;

/* metadata: string keys and values for "__metadata__" (may be NULL); the
 * key "sha256" is reserved. */
gboolean sc_safetensors_write(const char *path, const ScTensorEntry *tensors,
                              size_t n_tensors, GHashTable *metadata, GError **error);

typedef struct _ScSafetensors ScSafetensors;

/* Reads and checks a file (structure, offsets, and our checksum when present). */
ScSafetensors *sc_safetensors_read(const char *path, GError **error);
void sc_safetensors_free(ScSafetensors *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScSafetensors, sc_safetensors_free)

/* The float32 tensor `name` with exactly `count` values (copied to dst). */
gboolean sc_safetensors_get(const ScSafetensors *st, const char *name, float *dst,
                            size_t count, GError **error);
/* A metadata value, or NULL. */
const char *sc_safetensors_metadata(const ScSafetensors *st, const char *key);
gboolean sc_safetensors_has(const ScSafetensors *st, const char *name);

G_END_DECLS
