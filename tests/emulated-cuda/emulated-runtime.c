/* The emulated CUDA runtime: device memory is host memory, registered so
 * that copies and library calls can check their pointers; streams run their
 * work at once. */
#include "emulated-cuda.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* What cudaGetDeviceProperties and cudaMemGetInfo report; cudaMalloc
 * refuses what would not fit. */
#define EMU_DEVICE_BYTES ((size_t)16 << 30)
/* Larger allocations are mapped, not poisoned: the convolution workspace
 * is 512 MiB, and touching it all would cost more than a test's work. */
#define EMU_POISON_LIMIT_BYTES ((size_t)64 << 20)
/* cudaMalloc's alignment. */
#define EMU_ALIGN_BYTES 256

static GMutex lock;
static GHashTable *blocks;      /* base -> size */
static GHashTable *streams;     /* created streams */
static size_t bytes_allocated;
static cudaError_t last_error = cudaSuccess;

static void
ensure_registry(void)
{
  if (blocks == NULL)
    blocks = g_hash_table_new(g_direct_hash, g_direct_equal);
  if (streams == NULL)
    streams = g_hash_table_new(g_direct_hash, g_direct_equal);
}

/* TRUE when [p, p + bytes) lies inside one live allocation; lock held. */
static gboolean
inside_block_locked(const void *p, size_t bytes)
{
  GHashTableIter iter;
  gpointer base, size;
  g_hash_table_iter_init(&iter, blocks);
  while (g_hash_table_iter_next(&iter, &base, &size)) {
    const char *b = base;
    if ((const char *)p >= b && (size_t)((const char *)p - b) <= GPOINTER_TO_SIZE(size)
        && bytes <= GPOINTER_TO_SIZE(size) - (size_t)((const char *)p - b))
      return TRUE;
  }
  return FALSE;
}

/* TRUE when p points into any live allocation (a device pointer). */
static gboolean
is_device_pointer(const void *p)
{
  g_mutex_lock(&lock);
  ensure_registry();
  gboolean in = inside_block_locked(p, 0);
  g_mutex_unlock(&lock);
  return in;
}

/* Records error as the last error and returns it, as the runtime does. */
static cudaError_t
fail(cudaError_t error)
{
  sc_emu_set_last_error(error);
  return error;
}

gboolean
sc_emu_device_range(const void *p, size_t bytes, const char *what)
{
  g_mutex_lock(&lock);
  ensure_registry();
  gboolean ok = p != NULL && inside_block_locked(p, bytes);
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

gboolean
sc_emu_stream_valid(cudaStream_t stream)
{
  if (stream == NULL || stream == cudaStreamLegacy || stream == cudaStreamPerThread)
    return TRUE;
  g_mutex_lock(&lock);
  ensure_registry();
  gboolean ok = g_hash_table_contains(streams, stream);
  g_mutex_unlock(&lock);
  if (!ok)
    g_message("emulated device: stream %p was never created or is destroyed", (void *)stream);
  return ok;
}

/* ---- Errors ---- */

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
cudaPeekAtLastError(void)
{
  g_mutex_lock(&lock);
  cudaError_t e = last_error;
  g_mutex_unlock(&lock);
  return e;
}

/* The runtime's own names and messages for the codes the emulator and the
 * backend meet. */
static const struct {
  cudaError_t code;
  const char *name, *text;
} error_texts[] = {
  { cudaSuccess, "cudaSuccess", "no error" },
  { cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument" },
  { cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory" },
  { cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error" },
  { cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
    "invalid configuration argument" },
  { cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal" },
  { cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle",
    "invalid resource handle" },
  { cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected" },
  { cudaErrorInsufficientDriver, "cudaErrorInsufficientDriver",
    "CUDA driver version is insufficient for CUDA runtime version" },
  { cudaErrorNotReady, "cudaErrorNotReady", "device not ready" },
  { cudaErrorIllegalAddress, "cudaErrorIllegalAddress",
    "an illegal memory access was encountered" },
  { cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure" },
  { cudaErrorUnknown, "cudaErrorUnknown", "unknown error" },
};

const char *
cudaGetErrorName(cudaError_t error)
{
  for (size_t i = 0; i < G_N_ELEMENTS(error_texts); i++)
    if (error_texts[i].code == error)
      return error_texts[i].name;
  return "cudaErrorUnknown";
}

const char *
cudaGetErrorString(cudaError_t error)
{
  for (size_t i = 0; i < G_N_ELEMENTS(error_texts); i++)
    if (error_texts[i].code == error)
      return error_texts[i].text;
  return "unrecognized error code";
}

/* ---- The device ---- */

cudaError_t
cudaGetDeviceCount(int *count)
{
  if (count == NULL)
    return fail(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

cudaError_t
cudaSetDevice(int device)
{
  return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice);
}

cudaError_t
cudaGetDevice(int *device)
{
  if (device == NULL)
    return fail(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

/* An H100-like device with a few multiprocessors. */
cudaError_t
cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device)
{
  if (prop == NULL)
    return fail(cudaErrorInvalidValue);
  if (device != 0)
    return fail(cudaErrorInvalidDevice);
  memset(prop, 0, sizeof(*prop));
  g_strlcpy(prop->name, "Emulated GPU (CPU)", sizeof(prop->name));
  prop->totalGlobalMem = EMU_DEVICE_BYTES;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->sharedMemPerBlockOptin = 48 * 1024;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->regsPerBlock = 65536;
  prop->regsPerMultiprocessor = 65536;
  prop->warpSize = 32;
  prop->memPitch = (size_t)2147483647;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 65536;
  prop->major = 9;
  prop->minor = 0;
  prop->textureAlignment = 512;
  prop->multiProcessorCount = 4;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->maxBlocksPerMultiProcessor = 32;
  prop->l2CacheSize = 50 * 1024 * 1024;
  prop->memoryBusWidth = 5120;
  prop->asyncEngineCount = 1;
  prop->unifiedAddressing = 1;
  prop->concurrentKernels = 1;
  return cudaSuccess;
}

cudaError_t
cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
  if (free_bytes == NULL || total_bytes == NULL)
    return fail(cudaErrorInvalidValue);
  *total_bytes = EMU_DEVICE_BYTES;
  *free_bytes = EMU_DEVICE_BYTES - sc_emu_device_bytes();
  return cudaSuccess;
}

/* Streams run their work when it is queued: waiting is never needed. */
cudaError_t
cudaDeviceSynchronize(void)
{
  return cudaSuccess;
}

/* ---- Memory ---- */

cudaError_t
cudaMalloc(void **ptr, size_t bytes)
{
  if (ptr == NULL)
    return fail(cudaErrorInvalidValue);
  *ptr = NULL;
  if (bytes == 0)
    return cudaSuccess;
  g_mutex_lock(&lock);
  gboolean fits = bytes <= EMU_DEVICE_BYTES - bytes_allocated;
  g_mutex_unlock(&lock);
  if (!fits)
    return fail(cudaErrorMemoryAllocation);
  void *p = NULL;
  if (bytes > EMU_POISON_LIMIT_BYTES) {
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
             -1, 0);
    if (p == MAP_FAILED)
      return fail(cudaErrorMemoryAllocation);
  } else {
    if (posix_memalign(&p, EMU_ALIGN_BYTES, bytes) != 0)
      return fail(cudaErrorMemoryAllocation);
    /* Poisoned, as fresh device memory holds whatever was there before. */
    memset(p, 0xA5, bytes);
  }
  g_mutex_lock(&lock);
  ensure_registry();
  g_hash_table_insert(blocks, p, GSIZE_TO_POINTER(bytes));
  bytes_allocated += bytes;
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
  if (!known) {
    g_message("emulated device: cudaFree(%p): not the start of a device allocation", ptr);
    return fail(cudaErrorInvalidValue);
  }
  if (GPOINTER_TO_SIZE(size) > EMU_POISON_LIMIT_BYTES)
    munmap(ptr, GPOINTER_TO_SIZE(size));
  else
    free(ptr);
  return cudaSuccess;
}

static const char *
kind_name(enum cudaMemcpyKind kind)
{
  switch (kind) {
  case cudaMemcpyHostToHost:
    return "host to host";
  case cudaMemcpyHostToDevice:
    return "host to device";
  case cudaMemcpyDeviceToHost:
    return "device to host";
  case cudaMemcpyDeviceToDevice:
    return "device to device";
  case cudaMemcpyDefault:
    return "default";
  }
  return "unknown";
}

/* Each side of a copy is device memory exactly when its kind says so
 * (cudaMemcpyDefault: either). */
static gboolean
copy_side_ok(const void *p, size_t bytes, gboolean device, enum cudaMemcpyKind kind,
             const char *side)
{
  g_autofree gchar *what = g_strdup_printf("cudaMemcpy %s (%s)", side, kind_name(kind));
  if (device)
    return sc_emu_device_range(p, bytes, what);
  if (is_device_pointer(p)) {
    g_message("emulated device: %s: %p is device memory, the kind says host", what, p);
    return FALSE;
  }
  return TRUE;
}

cudaError_t
cudaMemcpyAsync(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind,
                cudaStream_t stream)
{
  if (!sc_emu_stream_valid(stream))
    return fail(cudaErrorInvalidResourceHandle);
  if (bytes == 0)
    return cudaSuccess;
  if (dst == NULL || src == NULL)
    return fail(cudaErrorInvalidValue);
  gboolean ok;
  switch (kind) {
  case cudaMemcpyHostToHost:
  case cudaMemcpyHostToDevice:
  case cudaMemcpyDeviceToHost:
  case cudaMemcpyDeviceToDevice: {
    gboolean dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    gboolean src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    /* The device sides first: a host pointer where device memory belongs
     * is the likelier mistake, and its message the clearer. */
    ok = (!dst_device || copy_side_ok(dst, bytes, TRUE, kind, "destination"))
         && (!src_device || copy_side_ok(src, bytes, TRUE, kind, "source"))
         && (dst_device || copy_side_ok(dst, bytes, FALSE, kind, "destination"))
         && (src_device || copy_side_ok(src, bytes, FALSE, kind, "source"));
    break;
  }
  case cudaMemcpyDefault:
    /* Unified addressing: whatever lies in an allocation must fit in it. */
    ok = (!is_device_pointer(dst) || sc_emu_device_range(dst, bytes, "cudaMemcpy destination"))
         && (!is_device_pointer(src) || sc_emu_device_range(src, bytes, "cudaMemcpy source"));
    break;
  default:
    g_message("emulated device: cudaMemcpy kind %d is not a copy direction", (int)kind);
    ok = FALSE;
  }
  if (!ok)
    return fail(cudaErrorInvalidValue);
  memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t
cudaMemcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind)
{
  return cudaMemcpyAsync(dst, src, bytes, kind, NULL);
}

cudaError_t
cudaMemsetAsync(void *dst, int value, size_t bytes, cudaStream_t stream)
{
  if (!sc_emu_stream_valid(stream))
    return fail(cudaErrorInvalidResourceHandle);
  if (bytes == 0)
    return cudaSuccess;
  if (!sc_emu_device_range(dst, bytes, "cudaMemset"))
    return fail(cudaErrorInvalidValue);
  memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t
cudaMemset(void *dst, int value, size_t bytes)
{
  return cudaMemsetAsync(dst, value, bytes, NULL);
}

/* ---- Streams: in order, and done when queued ---- */

cudaError_t
cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned int flags)
{
  if (stream == NULL || (flags & ~(unsigned)cudaStreamNonBlocking) != 0)
    return fail(cudaErrorInvalidValue);
  /* A handle of its own; nothing is kept in it. */
  cudaStream_t s = (cudaStream_t)g_malloc(16);
  g_mutex_lock(&lock);
  ensure_registry();
  g_hash_table_add(streams, s);
  g_mutex_unlock(&lock);
  *stream = s;
  return cudaSuccess;
}

cudaError_t
cudaStreamCreate(cudaStream_t *stream)
{
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t
cudaStreamDestroy(cudaStream_t stream)
{
  g_mutex_lock(&lock);
  ensure_registry();
  gboolean known = stream != NULL && g_hash_table_remove(streams, stream);
  g_mutex_unlock(&lock);
  if (!known) {
    g_message("emulated device: cudaStreamDestroy(%p): not a live stream", (void *)stream);
    return fail(cudaErrorInvalidResourceHandle);
  }
  g_free(stream);
  return cudaSuccess;
}

cudaError_t
cudaStreamSynchronize(cudaStream_t stream)
{
  return sc_emu_stream_valid(stream) ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}
