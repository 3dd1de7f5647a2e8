/* Checkpoints and the exported encoder, as safetensors files.
 *
 * A checkpoint holds, for each model (baseline, pretrain, finetune, probe),
 * every weight as "<model>.<layer>.kernel" / ".bias" and Adam's moments as
 * "<model>.adam_m.<layer>..." and "<model>.adam_v.<layer>...". Its metadata
 * (string values) holds "format", "version", "config" and "history" (JSON)
 * and "state" (JSON: epochs done per run and each Adam's step counter; the
 * counter-based generator needs no more to continue) and "data" (JSON: what
 * identifies the data set, checked on resume). safetensors.c adds a
 * SHA-256 of the file, so a changed byte or a cut is refused. */
#include "sc-json.h"
#include "trainer-private.h"

#include <math.h>

#define CHECKPOINT_FORMAT "simclr-studio-checkpoint"
#define CHECKPOINT_VERSION "1"
#define ENCODER_FORMAT "simclr-studio-encoder"

/* Tensors of one model; names are owned, data points into a host buffer. */
typedef struct {
  GArray *entries;  /* of ScTensorEntry */
  GPtrArray *names; /* owned names */
} TensorList;

static void
tensor_list_init(TensorList *l)
{
  l->entries = g_array_new(FALSE, TRUE, sizeof(ScTensorEntry));
  l->names = g_ptr_array_new_with_free_func(g_free);
}

static void
tensor_list_clear(TensorList *l)
{
  g_array_unref(l->entries);
  g_ptr_array_unref(l->names);
}

static void
tensor_list_add(TensorList *l, char *name, const float *data, int ndim, const int64_t *shape)
{
  g_ptr_array_add(l->names, name);
  ScTensorEntry e = { .name = name, .data = data, .ndim = ndim };
  for (int d = 0; d < ndim; d++)
    e.shape[d] = shape[d];
  g_array_append_val(l->entries, e);
}

/* The net's kernels and biases; host holds the net's parameter slice. */
static void
add_net(TensorList *l, const char *prefix, const ScNet *net, const float *host)
{
  for (int i = 0; i < net->n_layers; i++) {
    const ScLayer *y = &net->layers[i];
    if (y->weight_count == 0)
      continue;
    int64_t conv[4] = { y->k_h, y->k_w, y->in_c, y->out_c }; /* HWIO */
    int64_t dense[2] = { y->in_c, y->out_c };                /* (in, units) */
    int64_t bias[1] = { y->out_c };
    gboolean is_conv = y->kind == SC_LAYER_CONV2D;
    tensor_list_add(l, g_strdup_printf("%s%s.kernel", prefix, y->name),
                    host + y->weight_offset, is_conv ? 4 : 2, is_conv ? conv : dense);
    tensor_list_add(l, g_strdup_printf("%s%s.bias", prefix, y->name),
                    host + y->bias_offset, 1, bias);
  }
}

/* A model's weights and moments; host is (3, count): params, m, v. */
static void
add_model(TensorList *l, const ScTrainerModel *m, const float *host)
{
  size_t n = m->params->count;
  const char *parts[3] = { "", "adam_m.", "adam_v." };
  for (int p = 0; p < 3; p++) {
    g_autofree char *prefix = g_strdup_printf("%s.%s", m->name, parts[p]);
    const float *base = host + p * n;
    if (m->encoder != NULL) {
      add_net(l, prefix, m->encoder, base);
      base += m->encoder->param_count;
    }
    add_net(l, prefix, m->head, base);
  }
}

static ScTrainerModel *
model_at(ScTrainer *t, int i)
{
  return i < SC_N_RUNS ? &t->models[i] : &t->probe;
}

static char *
builder_to_string(JsonBuilder *b)
{
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, NULL);
}

static char *
state_json(ScTrainer *t)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "epochs_done");
  json_builder_begin_object(b);
  for (int r = 0; r < SC_N_RUNS; r++) {
    json_builder_set_member_name(b, sc_run_name(r));
    json_builder_add_int_value(b, t->epochs_done[r]);
  }
  json_builder_end_object(b);
  json_builder_set_member_name(b, "adam_iterations");
  json_builder_begin_object(b);
  for (int i = 0; i <= SC_N_RUNS; i++) {
    json_builder_set_member_name(b, model_at(t, i)->name);
    json_builder_add_int_value(b, model_at(t, i)->adam->iterations);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  return builder_to_string(b);
}

/* What identifies the data a checkpoint was trained on, as (name, value)
 * pairs of text; the names read well in a message. */
#define N_DATA_KEYS 7
static const char *const data_keys[N_DATA_KEYS] = {
  "format", "classes", "train images", "test images", "unlabeled images", "image size",
  "sample hash",
};

/* The first and last few images (and labels) of each split into the hash:
 * a changed or reordered file shows without reading every image. */
static void
hash_split(GChecksum *sum, const ScSplit *split, guint8 *buffer, size_t image_bytes)
{
  enum { ENDS = 4 };
  size_t n = sc_split_count(split);
  const int32_t *labels = sc_split_labels(split);
  for (size_t k = 0; k < MIN(n, 2 * ENDS); k++) {
    size_t i = k < ENDS ? k : n - (k - ENDS) - 1; /* never repeats: k < n */
    sc_split_get_image(split, i, buffer);
    g_checksum_update(sum, buffer, image_bytes);
    if (labels != NULL)
      g_checksum_update(sum, (const guint8 *)&labels[i], sizeof labels[i]);
  }
}

static void
data_fingerprint(const ScTrainer *t, char *values[N_DATA_KEYS])
{
  const ScDataset *d = t->data;
  const ScSplit *tr = d->train;
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  size_t bytes = sc_split_image_bytes(tr);
  g_autofree guint8 *buffer = g_new(guint8, bytes); /* (h, w, c) */
  const ScSplit *splits[] = { d->train, d->test, d->unlabeled };
  for (size_t i = 0; i < G_N_ELEMENTS(splits); i++)
    if (splits[i] != NULL)
      hash_split(sum, splits[i], buffer, bytes);
  values[0] = g_strdup(sc_data_format_name(d->format));
  values[1] = g_strdup_printf("%d", d->n_classes);
  values[2] = g_strdup_printf("%zu", sc_split_count(tr));
  values[3] = g_strdup_printf("%zu", sc_split_count(d->test));
  values[4] = g_strdup_printf("%zu", d->unlabeled != NULL ? sc_split_count(d->unlabeled) : 0);
  values[5] = g_strdup_printf("%dx%dx%d", sc_split_height(tr), sc_split_width(tr),
                              sc_split_channels(tr));
  values[6] = g_strdup(g_checksum_get_string(sum));
}

static char *
data_json(const ScTrainer *t)
{
  char *values[N_DATA_KEYS];
  data_fingerprint(t, values);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  for (int i = 0; i < N_DATA_KEYS; i++) {
    json_builder_set_member_name(b, data_keys[i]);
    json_builder_add_string_value(b, values[i]);
    g_free(values[i]);
  }
  json_builder_end_object(b);
  return builder_to_string(b);
}

gboolean
sc_trainer_write_checkpoint(ScTrainer *t, const char *path, GError **error)
{
  ScBackend *be = t->be;
  TensorList list;
  tensor_list_init(&list);
  float *host[SC_N_RUNS + 1];
  for (int i = 0; i <= SC_N_RUNS; i++) {
    ScTrainerModel *m = model_at(t, i);
    size_t n = m->params->count;
    host[i] = g_new(float, 3 * n);
    be->ops->download(be, host[i], m->params->params, n * sizeof(float));
    be->ops->download(be, host[i] + n, m->adam->m, n * sizeof(float));
    be->ops->download(be, host[i] + 2 * n, m->adam->v, n * sizeof(float));
    add_model(&list, m, host[i]);
  }

  g_autoptr(JsonBuilder) cb = json_builder_new();
  sc_train_config_to_json(&t->config, cb);
  g_autoptr(JsonBuilder) hb = json_builder_new();
  sc_trainer_history_to_json(t, hb);
  g_autoptr(GHashTable) meta = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert(meta, "format", g_strdup(CHECKPOINT_FORMAT));
  g_hash_table_insert(meta, "version", g_strdup(CHECKPOINT_VERSION));
  g_hash_table_insert(meta, "config", builder_to_string(cb));
  g_hash_table_insert(meta, "history", builder_to_string(hb));
  g_hash_table_insert(meta, "state", state_json(t));
  g_hash_table_insert(meta, "data", data_json(t));

  gboolean ok = be->ops->sync(be, error)
                && sc_safetensors_write(path, (const ScTensorEntry *)list.entries->data,
                                        list.entries->len, meta, error);
  for (int i = 0; i <= SC_N_RUNS; i++)
    g_free(host[i]);
  tensor_list_clear(&list);
  return ok;
}

static gboolean
bad_checkpoint(GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
bad_checkpoint(GError **error, const char *path, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, args);
  va_end(args);
  g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT, "%s is not a usable checkpoint: %s",
              path, what);
  return FALSE;
}

/* The metadata value `key` parsed as a JSON object (owned by the parser). */
static JsonObject *
metadata_object(const ScSafetensors *st, const char *path, const char *key,
                JsonParser *parser, GError **error)
{
  const char *text = sc_safetensors_metadata(st, key);
  if (text == NULL) {
    bad_checkpoint(error, path, "its metadata has no \"%s\"", key);
    return NULL;
  }
  GError *local = NULL;
  if (!sc_json_load_bounded(parser, text, -1, &local)) {
    bad_checkpoint(error, path, "its \"%s\" metadata is not JSON: %s", key, local->message);
    g_error_free(local);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    bad_checkpoint(error, path, "its \"%s\" metadata is not a JSON object", key);
    return NULL;
  }
  return json_node_get_object(root);
}

gboolean
sc_trainer_read_checkpoint_config(const char *path, ScTrainConfig *config,
                                  ScSafetensors **out, GError **error)
{
  g_autoptr(ScSafetensors) st = sc_safetensors_read(path, error);
  if (st == NULL)
    return FALSE;
  /* Only our own files carry the checksum that guards against a cut. */
  if (g_strcmp0(sc_safetensors_metadata(st, "format"), CHECKPOINT_FORMAT) != 0
      || sc_safetensors_metadata(st, "sha256") == NULL)
    return bad_checkpoint(error, path, "its metadata lacks format \"" CHECKPOINT_FORMAT
                          "\" and a checksum (not written by this program?)");
  const char *version = sc_safetensors_metadata(st, "version");
  if (g_strcmp0(version, CHECKPOINT_VERSION) != 0)
    return bad_checkpoint(error, path, "it has version %s, expected " CHECKPOINT_VERSION,
                          version != NULL ? version : "(none)");
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = metadata_object(st, path, "config", parser, error);
  if (o == NULL)
    return FALSE;
  if (!sc_train_config_from_json(o, config, error)) {
    sc_train_config_clear(config);
    g_prefix_error(error, "%s: the stored configuration is invalid: ", path);
    return FALSE;
  }
  *out = g_steal_pointer(&st);
  return TRUE;
}

gboolean
sc_trainer_check_data(ScTrainer *t, const ScSafetensors *st, const char *path,
                      GError **error)
{
  /* Checkpoints written before the data was recorded cannot be checked. */
  if (sc_safetensors_metadata(st, "data") == NULL)
    return TRUE;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *saved = metadata_object(st, path, "data", parser, error);
  if (saved == NULL)
    return FALSE;
  char *now[N_DATA_KEYS];
  data_fingerprint(t, now);
  g_autoptr(GString) diff = g_string_new(NULL);
  for (int i = 0; i < N_DATA_KEYS; i++) {
    const char *then = json_object_get_string_member_with_default(saved, data_keys[i], "?");
    const char *sep = diff->len > 0 ? "; " : "";
    gboolean same = g_strcmp0(then, now[i]) == 0;
    if (!same && i == N_DATA_KEYS - 1) /* a hash says nothing to the reader */
      g_string_append_printf(diff, "%sthe first or last images or labels of a split "
                             "changed", sep);
    else if (!same)
      g_string_append_printf(diff, "%s%s %s then, %s now", sep, data_keys[i], then, now[i]);
    g_free(now[i]);
  }
  if (diff->len == 0)
    return TRUE;
  g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
              "Cannot resume %s: the data in %s is not the data it was trained on (%s); "
              "put the same data back or start a new run", path, t->data->path, diff->str);
  return FALSE;
}

static gboolean
restore_state(ScTrainer *t, const ScSafetensors *st, const char *path, GError **error)
{
  g_autoptr(JsonParser) hp = json_parser_new();
  JsonObject *history = metadata_object(st, path, "history", hp, error);
  if (history == NULL || !sc_trainer_history_from_json(history, t->history, error)) {
    g_prefix_error(error, "%s: ", path);
    return FALSE;
  }
  g_autoptr(JsonParser) sp = json_parser_new();
  JsonObject *state = metadata_object(st, path, "state", sp, error);
  if (state == NULL)
    return FALSE;
  JsonObject *done = json_object_get_object_member(state, "epochs_done");
  JsonObject *iters = json_object_get_object_member(state, "adam_iterations");
  if (done == NULL || iters == NULL)
    return bad_checkpoint(error, path, "its state lacks epochs_done or adam_iterations");
  for (int r = 0; r < SC_N_RUNS; r++) {
    gint64 n = json_object_get_int_member_with_default(done, sc_run_name(r), -1);
    if (n < 0 || n > t->config.epochs || n != (gint64)t->history[r]->len)
      return bad_checkpoint(error, path,
                            "%s has %" G_GINT64_FORMAT " epochs done and %u in its history "
                            "(expected equal, at most %d)",
                            sc_run_name(r), n, t->history[r]->len, t->config.epochs);
    t->epochs_done[r] = (int)n;
  }
  for (int i = 0; i <= SC_N_RUNS; i++) {
    ScTrainerModel *m = model_at(t, i);
    gint64 it = json_object_get_int_member_with_default(iters, m->name, -1);
    if (it < 0)
      return bad_checkpoint(error, path, "the Adam step counter of %s is missing", m->name);
    m->adam->iterations = it;
  }
  return TRUE;
}

gboolean
sc_trainer_restore(ScTrainer *t, const ScSafetensors *st, const char *path, GError **error)
{
  ScBackend *be = t->be;
  for (int i = 0; i <= SC_N_RUNS; i++) {
    ScTrainerModel *m = model_at(t, i);
    size_t n = m->params->count;
    g_autofree float *host = g_new(float, 3 * n);
    TensorList list;
    tensor_list_init(&list);
    add_model(&list, m, host);
    gboolean ok = TRUE;
    for (guint e = 0; ok && e < list.entries->len; e++) {
      const ScTensorEntry *te = &g_array_index(list.entries, ScTensorEntry, e);
      size_t count = 1;
      for (int d = 0; d < te->ndim; d++)
        count *= (size_t)te->shape[d];
      ok = sc_safetensors_get(st, te->name, (float *)te->data, count, error);
    }
    tensor_list_clear(&list);
    if (!ok)
      return FALSE;
    be->ops->upload(be, m->params->params, host, n * sizeof(float));
    be->ops->upload(be, m->adam->m, host + n, n * sizeof(float));
    be->ops->upload(be, m->adam->v, host + 2 * n, n * sizeof(float));
  }
  return restore_state(t, st, path, error);
}

gboolean
sc_trainer_export_encoder(const ScTrainer *trainer, const char *path, GError **error)
{
  g_return_val_if_fail(trainer != NULL && path != NULL, FALSE);
  ScTrainer *t = (ScTrainer *)trainer;
  static const ScRunKind order[] = { SC_RUN_PRETRAIN, SC_RUN_FINETUNE, SC_RUN_BASELINE };
  const ScTrainerModel *m = NULL;
  ScRunKind run = SC_RUN_PRETRAIN;
  for (size_t i = 0; i < G_N_ELEMENTS(order) && m == NULL; i++)
    if (t->epochs_done[order[i]] > 0)
      m = &t->models[run = order[i]];
  if (m == NULL) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT,
                "Cannot export the encoder to %s: no run has finished an epoch", path);
    return FALSE;
  }
  size_t n = m->encoder->param_count;
  g_autofree float *host = g_new(float, n);
  t->be->ops->download(t->be, host, m->params->params, n * sizeof(float));
  TensorList list;
  tensor_list_init(&list);
  add_net(&list, "", m->encoder, host);

  g_autoptr(GHashTable) meta = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert(meta, "format", g_strdup(ENCODER_FORMAT));
  g_hash_table_insert(meta, "run", g_strdup(sc_run_name(run)));
  g_hash_table_insert(meta, "epochs", g_strdup_printf("%d", t->epochs_done[run]));
  g_hash_table_insert(meta, "input",
                      g_strdup_printf("NHWC float32 in [0, 1], %dx%dx3", t->in_size,
                                      t->in_size));
  g_hash_table_insert(meta, "width", g_strdup_printf("%d", t->config.width));
  gboolean ok = t->be->ops->sync(t->be, error)
                && sc_safetensors_write(path, (const ScTensorEntry *)list.entries->data,
                                        list.entries->len, meta, error);
  tensor_list_clear(&list);
  return ok;
}
