#include "safetensors.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "sc-error.h"
#include "sc-file.h"
#include "sc-json.h"

#define DIGEST_KEY "sha256"
#define DIGEST_HEX_LEN 64

struct _ScSafetensors {
  char *path;
  GBytes *contents;
  JsonParser *parser;
  JsonObject *header;
  const guint8 *data; /* start of the data section */
  size_t data_bytes;
  GHashTable *metadata; /* borrowed strings from header */
};

static char *
digest_of(const guint8 *bytes, gsize len)
{
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, bytes, len);
}

gboolean
sc_safetensors_write(const char *path, const ScTensorEntry *tensors, size_t n_tensors,
                     GHashTable *metadata, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);

  json_builder_set_member_name(b, "__metadata__");
  json_builder_begin_object(b);
  if (metadata != NULL) {
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, metadata);
    while (g_hash_table_iter_next(&it, &key, &value)) {
      json_builder_set_member_name(b, key);
      json_builder_add_string_value(b, value);
    }
  }
  /* Placeholder of the digest's length, replaced once the digest is known. */
  char zeros[DIGEST_HEX_LEN + 1];
  memset(zeros, '0', DIGEST_HEX_LEN);
  zeros[DIGEST_HEX_LEN] = '\0';
  json_builder_set_member_name(b, DIGEST_KEY);
  json_builder_add_string_value(b, zeros);
  json_builder_end_object(b);

  size_t offset = 0;
  for (size_t i = 0; i < n_tensors; i++) {
    const ScTensorEntry *t = &tensors[i];
    size_t count = 1;
    json_builder_set_member_name(b, t->name);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "dtype");
    json_builder_add_string_value(b, "F32");
    json_builder_set_member_name(b, "shape");
    json_builder_begin_array(b);
    for (int d = 0; d < t->ndim; d++) {
      json_builder_add_int_value(b, t->shape[d]);
      count *= (size_t)t->shape[d];
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "data_offsets");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, (gint64)offset);
    json_builder_add_int_value(b, (gint64)(offset + count * sizeof(float)));
    json_builder_end_array(b);
    json_builder_end_object(b);
    offset += count * sizeof(float);
  }
  json_builder_end_object(b);

  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  gsize header_len;
  g_autofree char *header = json_generator_to_data(gen, &header_len);
  /* Pad the header with spaces so the data starts 8-byte aligned. */
  size_t padded = (header_len + 7) / 8 * 8;

  size_t total = 8 + padded + offset;
  g_autofree guint8 *buf = g_try_malloc(total);
  if (buf == NULL) {
    g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "Out of memory writing %s (%zu bytes)", path, total);
    return FALSE;
  }
  guint64 le = GUINT64_TO_LE((guint64)padded);
  memcpy(buf, &le, 8);
  memcpy(buf + 8, header, header_len);
  memset(buf + 8 + header_len, ' ', padded - header_len);
  guint8 *data = buf + 8 + padded;
  for (size_t i = 0, at = 0; i < n_tensors; i++) {
    size_t count = 1;
    for (int d = 0; d < tensors[i].ndim; d++)
      count *= (size_t)tensors[i].shape[d];
    memcpy(data + at, tensors[i].data, count * sizeof(float));
    at += count * sizeof(float);
  }
#if G_BYTE_ORDER == G_BIG_ENDIAN
#error "safetensors data is little-endian; byte swapping is not implemented"
#endif

  /* The placeholder is the only run of 64 zeros after the digest key. */
  g_autofree char *needle = g_strdup_printf("\"" DIGEST_KEY "\":\"%s\"", zeros);
  char *at = g_strstr_len((char *)buf + 8, (gssize)padded, needle);
  g_assert(at != NULL);
  g_autofree char *hex = digest_of(buf, total);
  memcpy(at + strlen("\"" DIGEST_KEY "\":\""), hex, DIGEST_HEX_LEN);

  return sc_file_write_atomic(path, buf, total, 0644, TRUE, SC_CHECKPOINT_ERROR, error);
}

void
sc_safetensors_free(ScSafetensors *st)
{
  if (st == NULL)
    return;
  g_free(st->path);
  g_clear_pointer(&st->contents, g_bytes_unref);
  g_clear_object(&st->parser);
  g_clear_pointer(&st->metadata, g_hash_table_unref);
  g_free(st);
}

static gboolean
corrupt(GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
corrupt(GError **error, const char *path, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, args);
  va_end(args);
  g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
              "%s is not a valid safetensors file: %s", path, what);
  return FALSE;
}

/* Every tensor: dtype F32, offsets inside the data, size = product of shape. */
static gboolean
check_tensors(ScSafetensors *st, GError **error)
{
  g_autoptr(GList) names = json_object_get_members(st->header);
  for (GList *l = names; l != NULL; l = l->next) {
    const char *name = l->data;
    if (g_str_equal(name, "__metadata__"))
      continue;
    JsonNode *node = json_object_get_member(st->header, name);
    if (!JSON_NODE_HOLDS_OBJECT(node))
      return corrupt(error, st->path, "tensor '%s' is not an object", name);
    JsonObject *t = json_node_get_object(node);
    JsonNode *offs = json_object_get_member(t, "data_offsets");
    JsonNode *shape = json_object_get_member(t, "shape");
    if (offs == NULL || shape == NULL || !JSON_NODE_HOLDS_ARRAY(offs)
        || !JSON_NODE_HOLDS_ARRAY(shape)
        || json_array_get_length(json_node_get_array(offs)) != 2)
      return corrupt(error, st->path, "tensor '%s' lacks shape or data_offsets", name);
    gint64 begin = json_array_get_int_element(json_node_get_array(offs), 0);
    gint64 end = json_array_get_int_element(json_node_get_array(offs), 1);
    if (begin < 0 || end < begin || (guint64)end > st->data_bytes)
      return corrupt(error, st->path,
                     "tensor '%s' spans bytes %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT
                     " of a %zu-byte data section",
                     name, begin, end, st->data_bytes);
  }
  return TRUE;
}

ScSafetensors *
sc_safetensors_read(const char *path, GError **error)
{
  g_autoptr(ScSafetensors) st = g_new0(ScSafetensors, 1);
  st->path = g_strdup(path);
  GError *local = NULL;
  GMappedFile *mapped = g_mapped_file_new(path, FALSE, &local);
  if (mapped == NULL) {
    g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_IO, "Cannot read %s: %s", path,
                local->message);
    g_error_free(local);
    return NULL;
  }
  st->contents = g_mapped_file_get_bytes(mapped);
  g_mapped_file_unref(mapped);

  gsize size;
  const guint8 *bytes = g_bytes_get_data(st->contents, &size);
  if (size < 8) {
    corrupt(error, path, "it has %zu bytes, fewer than the 8-byte header size", size);
    return NULL;
  }
  guint64 header_len;
  memcpy(&header_len, bytes, 8);
  header_len = GUINT64_FROM_LE(header_len);
  if (header_len > size - 8) {
    corrupt(error, path, "the header claims %" G_GUINT64_FORMAT " bytes but the file "
            "has only %zu after the size field (cut short?)", header_len, size - 8);
    return NULL;
  }
  st->parser = json_parser_new();
  if (!sc_json_load_bounded(st->parser, (const char *)bytes + 8, (gssize)header_len,
                            &local)) {
    corrupt(error, path, "its JSON header does not parse: %s", local->message);
    g_error_free(local);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(st->parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    corrupt(error, path, "its header is not a JSON object");
    return NULL;
  }
  st->header = json_node_get_object(root);
  st->data = bytes + 8 + header_len;
  st->data_bytes = size - 8 - header_len;

  st->metadata = g_hash_table_new(g_str_hash, g_str_equal);
  if (json_object_has_member(st->header, "__metadata__")) {
    JsonNode *meta = json_object_get_member(st->header, "__metadata__");
    if (!JSON_NODE_HOLDS_OBJECT(meta)) {
      corrupt(error, path, "__metadata__ is not an object");
      return NULL;
    }
    g_autoptr(GList) keys = json_object_get_members(json_node_get_object(meta));
    for (GList *l = keys; l != NULL; l = l->next) {
      const char *v = json_object_get_string_member_with_default(json_node_get_object(meta),
                                                                 l->data, NULL);
      if (v != NULL)
        g_hash_table_insert(st->metadata, l->data, (gpointer)v);
    }
  }

  const char *digest = g_hash_table_lookup(st->metadata, DIGEST_KEY);
  if (digest != NULL) {
    /* Hash the file with the digest's characters zeroed, as when written. */
    g_autofree char *needle = g_strdup_printf("\"" DIGEST_KEY "\":\"%s\"", digest);
    g_autofree guint8 *copy = g_memdup2(bytes, size);
    char *at = g_strstr_len((char *)copy + 8, (gssize)header_len, needle);
    if (at == NULL || strlen(digest) != DIGEST_HEX_LEN) {
      corrupt(error, path, "its checksum field is malformed");
      return NULL;
    }
    memset(at + strlen("\"" DIGEST_KEY "\":\""), '0', DIGEST_HEX_LEN);
    g_autofree char *actual = digest_of(copy, size);
    if (!g_str_equal(actual, digest)) {
      g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
                  "%s is damaged: its SHA-256 is %s but the file records %s "
                  "(a changed byte or a partial copy)",
                  path, actual, digest);
      return NULL;
    }
  }
  if (!check_tensors(st, error))
    return NULL;
  return g_steal_pointer(&st);
}

gboolean
sc_safetensors_has(const ScSafetensors *st, const char *name)
{
  return json_object_has_member(st->header, name) && !g_str_equal(name, "__metadata__");
}

gboolean
sc_safetensors_get(const ScSafetensors *st, const char *name, float *dst, size_t count,
                   GError **error)
{
  if (!sc_safetensors_has(st, name)) {
    g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
                "%s has no tensor '%s'", st->path, name);
    return FALSE;
  }
  JsonObject *t = json_object_get_object_member(st->header, name);
  const char *dtype = json_object_get_string_member_with_default(t, "dtype", "");
  JsonArray *offs = json_object_get_array_member(t, "data_offsets");
  gint64 begin = json_array_get_int_element(offs, 0);
  gint64 end = json_array_get_int_element(offs, 1);
  JsonArray *shape = json_object_get_array_member(t, "shape");
  guint64 elements = 1;
  for (guint i = 0; i < json_array_get_length(shape); i++)
    elements *= (guint64)json_array_get_int_element(shape, i);
  if (!g_str_equal(dtype, "F32") || elements != count
      || (guint64)(end - begin) != count * sizeof(float)) {
    g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
                "%s: tensor '%s' is %s with %" G_GUINT64_FORMAT " values; expected F32 "
                "with %zu values",
                st->path, name, dtype, elements, count);
    return FALSE;
  }
  memcpy(dst, st->data + begin, count * sizeof(float));
  return TRUE;
}

const char *
sc_safetensors_metadata(const ScSafetensors *st, const char *key)
{
  return g_hash_table_lookup(st->metadata, key);
}
