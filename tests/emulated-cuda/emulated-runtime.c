/* The emulated CUDA runtime: device memory is host memory, registered so
 * that copies and library calls can check their pointers; streams run their
 * work at once. */
#include "emulated-cuda.h"

#include <stdlib.h>
#include <string.h>

static GMutex lock;
static GHashTable *blocks;      /* base -> size */
static size_t bytes_allocated;
static cudaError_t last_error = cudaSuccess;

static void
ensure_registry(void)
{
  if (blocks == NULL)
    blocks = g_hash_table_new(g_direct_hash, g_direct_equal);
}

gboolean
sc_emu_device_range(const void *p, size_t bytes, const char *what)
{
  gboolean ok = FALSE;
  g_mutex_lock(&lock);
  ensure_registry();
  GHashTableIter iter;
  gpointer base, size;
  g_hash_table_iter_init(&iter, blocks);
  while (!ok && g_hash_table_iter_next(&iter, &base, &size)) {
    const char *b = base;
    ok = (const char *)p >= b && (size_t)((const char *)p - b) <= GPOINTER_TO_SIZE(size)
         && bytes <= GPOINTER_TO_SIZE(size) - (size_t)((const char *)p - b);
  }
  g_mutex_unlock(&lock);
  if (!ok)
    g_message("emulated device: %s: %p + %zu bytes is not inside one device allocation",
              what, p, bytes);
  return ok;
}

void
sc_emu_set_last_error(cudaError_t error)
{
  g_mutex_lock(&lock);
  if (last_error == cudaSuccess)
    last_error = error;
  g_mutex_unlock(&lock);
}

size_t
sc_emu_device_bytes(void)
{
  g_mutex_lock(&lock);
  size_t n = bytes_allocated;
  g_mutex_unlock(&lock);
  return n;
}

cudaError_t
cudaGetLastError(void)
{
  g_mutex_lock(&lock);
  cudaError_t e = last_error;
  last_error = cudaSuccess;
  g_mutex_unlock(&lock);
  return e;
}

cudaError_t
cudaMalloc(void **ptr, size_t bytes)
{
  if (ptr == NULL)
    return cudaErrorInvalidValue;
  /* Poisoned, as fresh device memory holds whatever was there before. */
  void *p = bytes > 0 ? malloc(bytes) : NULL;
  if (bytes > 0 && p == NULL)
    return cudaErrorMemoryAllocation;
  if (p != NULL)
    memset(p, 0xA5, bytes);
  g_mutex_lock(&lock);
  ensure_registry();
  if (p != NULL) {
    g_hash_table_insert(blocks, p, GSIZE_TO_POINTER(bytes));
    bytes_allocated += bytes;
  }
  g_mutex_unlock(&lock);
  *ptr = p;
  return cudaSuccess;
}

cudaError_t
cudaFree(void *ptr)
{
  if (ptr == NULL)
    return cudaSuccess;
  g_mutex_lock(&lock);
  ensure_registry();
  gpointer size;
  gboolean known = g_hash_table_lookup_extended(blocks, ptr, NULL, &size);
  if (known) {
    g_hash_table_remove(blocks, ptr);
    bytes_allocated -= GPOINTER_TO_SIZE(size);
  }
  g_mutex_unlock(&lock);
  if (!known)
    return cudaErrorInvalidValue;
  free(ptr);
  return cudaSuccess;
}
