/* gzip decompression of a whole buffer (IDX files are usually gzipped). */
#include "readers.h"

#include <zlib.h>

#include "sc-error.h"

#define GZIP_CHUNK_IN (1u << 30) /* zlib counts input in 32-bit units */

static gboolean
is_gzip(const guint8 *data, gsize len)
{
  return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

/* A first guess of the output size: the trailer's size modulo 2^32, bounded by
 * what deflate can reach (about 1032:1), so a lying trailer costs little. */
static gsize
initial_capacity(const guint8 *data, gsize len)
{
  gsize guess = 4096;
  if (len >= 18) {
    const guint8 *t = data + len - 4;
    guess = MAX(guess, (gsize)t[0] | (gsize)t[1] << 8 | (gsize)t[2] << 16 | (gsize)t[3] << 24);
  }
  gsize bound = len < G_MAXSIZE / 1040 ? len * 1040 + 4096 : G_MAXSIZE / 2;
  return MIN(guess, bound);
}

GBytes *
sc_data_maybe_gunzip(GBytes *bytes, const char *name, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data(bytes, &len);
  if (!is_gzip(data, len))
    return g_bytes_ref(bytes);

  z_stream zs = { 0 };
  /* 16 + MAX_WBITS: a gzip header and trailer around the deflate data. */
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "Could not start gzip decompression of %s", name);
    return NULL;
  }
  gsize cap = initial_capacity(data, len), used = 0, consumed = 0;
  guint8 *out = g_try_malloc(cap);
  gboolean ok = out != NULL;
  while (ok) {
    if (used == cap) {
      guint8 *bigger = cap < G_MAXSIZE / 2 ? g_try_realloc(out, cap * 2) : NULL;
      if (bigger == NULL) {
        ok = FALSE;
        break;
      }
      out = bigger;
      cap *= 2;
    }
    zs.next_in = (Bytef *)data + consumed;
    zs.avail_in = (uInt)MIN(len - consumed, GZIP_CHUNK_IN);
    zs.next_out = out + used;
    zs.avail_out = (uInt)MIN(cap - used, GZIP_CHUNK_IN);
    uInt in_before = zs.avail_in, out_before = zs.avail_out;
    int ret = inflate(&zs, Z_NO_FLUSH);
    consumed += in_before - zs.avail_in;
    used += out_before - zs.avail_out;

    if (ret == Z_STREAM_END) {
      if (consumed == len)
        break;
      /* Concatenated gzip members form one valid file. */
      if (is_gzip(data + consumed, len - consumed) && inflateReset(&zs) == Z_OK)
        continue;
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s: %zu bytes after the end of the gzip data at byte offset %zu, "
                  "expected none", name, len - consumed, consumed);
      g_free(out);
      inflateEnd(&zs);
      return NULL;
    }
    if (ret == Z_OK || (ret == Z_BUF_ERROR && zs.avail_out == 0))
      continue;
    if (ret == Z_BUF_ERROR && consumed == len) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s: the gzip data ends early: all %zu compressed bytes read and %zu "
                  "decompressed, expected more (truncated file?)", name, len, used);
    } else {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s: corrupt gzip data near compressed byte offset %zu: %s", name, consumed,
                  zs.msg != NULL ? zs.msg : "inflate failed");
    }
    g_free(out);
    inflateEnd(&zs);
    return NULL;
  }
  inflateEnd(&zs);
  if (!ok) {
    g_free(out);
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "Out of memory decompressing %s (%zu bytes so far)", name, used);
    return NULL;
  }
  return g_bytes_new_take(g_realloc(out, MAX(used, 1)), used);
}
