/* The trainer's history: metric names, CSV and JSON files. */
#include "trainer-private.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "sc-file.h"
#include "sc-json.h"

#define ALL { TRUE, TRUE, TRUE }
#define SUPERVISED { TRUE, FALSE, TRUE }
#define PRETRAIN { FALSE, TRUE, FALSE }

const ScMetricField sc_metric_fields[] = {
  { "loss", offsetof(ScEpochMetrics, loss), SUPERVISED },
  { "acc", offsetof(ScEpochMetrics, acc), SUPERVISED },
  { "val_loss", offsetof(ScEpochMetrics, val_loss), SUPERVISED },
  { "val_acc", offsetof(ScEpochMetrics, val_acc), SUPERVISED },
  { "c_loss", offsetof(ScEpochMetrics, c_loss), PRETRAIN },
  { "c_acc", offsetof(ScEpochMetrics, c_acc), PRETRAIN },
  { "p_loss", offsetof(ScEpochMetrics, p_loss), PRETRAIN },
  { "p_acc", offsetof(ScEpochMetrics, p_acc), PRETRAIN },
  { "val_p_loss", offsetof(ScEpochMetrics, val_p_loss), PRETRAIN },
  { "val_p_acc", offsetof(ScEpochMetrics, val_p_acc), PRETRAIN },
  { "knn_acc", offsetof(ScEpochMetrics, knn_acc), PRETRAIN },
  { "seconds", offsetof(ScEpochMetrics, seconds), ALL },
  { "images_per_s", offsetof(ScEpochMetrics, images_per_s), ALL },
};
const size_t sc_n_metric_fields = G_N_ELEMENTS(sc_metric_fields);

static const char *const run_names[SC_N_RUNS] = { "baseline", "pretrain", "finetune" };

const char *
sc_run_name(ScRunKind run)
{
  g_return_val_if_fail(run >= 0 && run < SC_N_RUNS, "?");
  return run_names[run];
}

gboolean
sc_run_parse(const char *name, ScRunKind *run)
{
  for (int r = 0; r < SC_N_RUNS; r++)
    if (g_strcmp0(name, run_names[r]) == 0) {
      *run = r;
      return TRUE;
    }
  return FALSE;
}

double
sc_epoch_metrics_val_acc(ScRunKind run, const ScEpochMetrics *m)
{
  return run == SC_RUN_PRETRAIN ? m->val_p_acc : m->val_acc;
}

double
sc_epoch_metrics_val_loss(ScRunKind run, const ScEpochMetrics *m)
{
  return run == SC_RUN_PRETRAIN ? m->val_p_loss : m->val_loss;
}

double
sc_trainer_max_val_acc(const ScTrainer *trainer, ScRunKind run)
{
  int n;
  const ScEpochMetrics *h = sc_trainer_get_history(trainer, run, &n);
  double best = NAN;
  for (int i = 0; i < n; i++) {
    double v = sc_epoch_metrics_val_acc(run, &h[i]);
    if (isfinite(v) && (isnan(best) || v > best))
      best = v;
  }
  return best;
}

static gboolean
write_atomically(const char *path, const char *contents, gsize len, GError **error)
{
  return sc_file_write_atomic(path, contents, len, 0644, FALSE, SC_TRAINER_ERROR, error);
}

gboolean
sc_trainer_write_history_csv(const ScTrainer *trainer, const char *path, GError **error)
{
  g_autoptr(GString) csv = g_string_new("run,epoch");
  for (size_t f = 0; f < sc_n_metric_fields; f++)
    g_string_append_printf(csv, ",%s", sc_metric_fields[f].name);
  g_string_append_c(csv, '\n');
  for (int r = 0; r < SC_N_RUNS; r++) {
    int n;
    const ScEpochMetrics *h = sc_trainer_get_history(trainer, r, &n);
    for (int i = 0; i < n; i++) {
      g_string_append_printf(csv, "%s,%d", sc_run_name(r), h[i].epoch);
      for (size_t f = 0; f < sc_n_metric_fields; f++) {
        double v = *sc_metric_slot((ScEpochMetrics *)&h[i], &sc_metric_fields[f]);
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        /* An empty cell where a run has no such metric. */
        g_string_append_printf(csv, ",%s",
                               isfinite(v) ? g_ascii_formatd(buf, sizeof buf, "%.6g", v) : "");
      }
      g_string_append_c(csv, '\n');
    }
  }
  return write_atomically(path, csv->str, csv->len, error);
}

/* { "config": {...}, "runs": { "baseline": [ {epoch, metrics...}, ... ] } } */
void
sc_trainer_history_to_json(const ScTrainer *trainer, JsonBuilder *b)
{
  json_builder_begin_object(b);
  for (int r = 0; r < SC_N_RUNS; r++) {
    int n;
    const ScEpochMetrics *h = sc_trainer_get_history(trainer, r, &n);
    json_builder_set_member_name(b, sc_run_name(r));
    json_builder_begin_array(b);
    for (int i = 0; i < n; i++) {
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "epoch");
      json_builder_add_int_value(b, h[i].epoch);
      for (size_t f = 0; f < sc_n_metric_fields; f++) {
        double v = *sc_metric_slot((ScEpochMetrics *)&h[i], &sc_metric_fields[f]);
        if (!sc_metric_fields[f].runs[r] || !isfinite(v))
          continue;
        json_builder_set_member_name(b, sc_metric_fields[f].name);
        json_builder_add_double_value(b, v);
      }
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
  }
  json_builder_end_object(b);
}

/* One epoch's entry of a run's history; the error names run, entry and field. */
static gboolean
epoch_from_json(JsonNode *node, ScRunKind r, guint i, ScEpochMetrics *m, GError **error)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
  JsonNode *epoch = o != NULL ? json_object_get_member(o, "epoch") : NULL;
  if (o == NULL || epoch == NULL || !JSON_NODE_HOLDS_VALUE(epoch)
      || json_node_get_value_type(epoch) != G_TYPE_INT64) {
    g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
                "History of %s: entry %u is not an object with a whole number \"epoch\"",
                sc_run_name(r), i + 1);
    return FALSE;
  }
  /* Compared whole, so that 2^32 + 1 does not pass for 1. */
  gint64 number = json_node_get_int(epoch);
  if (number != (gint64)i + 1) {
    g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
                "History of %s: entry %u has epoch %" G_GINT64_FORMAT ", expected %u",
                sc_run_name(r), i + 1, number, i + 1);
    return FALSE;
  }
  sc_epoch_metrics_init(m, (int)number);
  for (size_t f = 0; f < sc_n_metric_fields; f++) {
    JsonNode *v = json_object_get_member(o, sc_metric_fields[f].name);
    if (v == NULL)
      continue;
    if (!sc_json_holds_number(v)) {
      g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
                  "History of %s: entry %u: \"%s\" is not a number", sc_run_name(r),
                  i + 1, sc_metric_fields[f].name);
      return FALSE;
    }
    double value = json_node_get_double(v);
    /* Accuracies are fractions; a percentage would draw a 6000% axis. */
    if (g_str_has_suffix(sc_metric_fields[f].name, "acc") && !(value >= 0.0 && value <= 1.0)
        && !isnan(value)) {
      g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
                  "History of %s: entry %u: \"%s\" is %g, expected a fraction from 0 to 1",
                  sc_run_name(r), i + 1, sc_metric_fields[f].name, value);
      return FALSE;
    }
    *sc_metric_slot(m, &sc_metric_fields[f]) = value;
  }
  return TRUE;
}

gboolean
sc_trainer_history_from_json(JsonObject *runs, GArray *history[SC_N_RUNS], GError **error)
{
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_array_set_size(history[r], 0);
    JsonNode *node = json_object_get_member(runs, sc_run_name(r));
    if (node == NULL || JSON_NODE_HOLDS_NULL(node))
      continue;
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
      g_set_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT,
                  "History of %s: expected an array of epochs", sc_run_name(r));
      return FALSE;
    }
    JsonArray *epochs = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(epochs); i++) {
      ScEpochMetrics m;
      if (!epoch_from_json(json_array_get_element(epochs, i), r, i, &m, error))
        return FALSE;
      g_array_append_val(history[r], m);
    }
  }
  return TRUE;
}

/* The object member NAME of TOP, or NULL with an error naming FILE. */
static JsonObject *
object_member(JsonObject *top, const char *name, const char *path, GError **error)
{
  JsonNode *node = json_object_get_member(top, name);
  if (node != NULL && JSON_NODE_HOLDS_OBJECT(node))
    return json_node_get_object(node);
  g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT,
              "%s: expected an object \"%s\" (%s)", path, name,
              node == NULL ? "it is missing" : "it is another kind of value");
  return NULL;
}

gboolean
sc_trainer_read_history_json(const char *path, ScTrainConfig *config,
                             GArray *history[SC_N_RUNS], GError **error)
{
  g_return_val_if_fail(path != NULL && config != NULL && history != NULL, FALSE);
  sc_train_config_init_default(config);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;
  if (!g_file_get_contents(path, &text, &length, &local)
      || !sc_json_load_bounded(parser, text, (gssize)length, &local)) {
    /* json-glib names text given as data "<data>": put the file there, so
     * that the message reads FILE:LINE:COLUMN: what is wrong. */
    const char *message = local->message;
    gboolean at_position = g_str_has_prefix(message, "<data>:");
    g_set_error(error, SC_TRAINER_ERROR,
                local->domain == G_FILE_ERROR ? SC_ERROR_IO : SC_ERROR_FORMAT, "%s%s%s", path,
                at_position ? ":" : ": ", at_position ? message + strlen("<data>:") : message);
    return FALSE;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT,
                "%s: expected a JSON object with \"config\" and \"history\"", path);
    return FALSE;
  }
  JsonObject *top = json_node_get_object(root);
  JsonObject *config_object = object_member(top, "config", path, error);
  JsonObject *runs = config_object != NULL ? object_member(top, "history", path, error)
                                           : NULL;
  if (runs == NULL)
    return FALSE;
  sc_train_config_clear(config);
  if (!sc_train_config_from_json(config_object, config, &local)) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT, "%s: \"config\": %s", path,
                local->message);
    return FALSE;
  }
  if (!sc_trainer_history_from_json(runs, history, &local)) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT, "%s: %s", path, local->message);
    return FALSE;
  }
  for (int r = 0; r < SC_N_RUNS; r++) {
    if ((gint64)history[r]->len > config->epochs) {
      g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT,
                  "%s: the history of %s has %u epochs, more than the %d of \"config\"", path,
                  sc_run_name(r), history[r]->len, config->epochs);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
sc_trainer_write_history_json(const ScTrainer *trainer, const char *path, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "config");
  sc_train_config_to_json(sc_trainer_get_config(trainer), b);
  json_builder_set_member_name(b, "history");
  sc_trainer_history_to_json(trainer, b);
  /* Whether each selected run is finished: a maximum over 2 of 4 epochs is
   * not the run's result. */
  const ScTrainConfig *c = sc_trainer_get_config(trainer);
  json_builder_set_member_name(b, "progress");
  json_builder_begin_object(b);
  for (int r = 0; r < SC_N_RUNS; r++) {
    if (!c->runs[r])
      continue;
    int done = sc_trainer_get_epochs_done(trainer, r);
    json_builder_set_member_name(b, sc_run_name(r));
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "epochs_done");
    json_builder_add_int_value(b, done);
    json_builder_set_member_name(b, "epochs");
    json_builder_add_int_value(b, c->epochs);
    json_builder_set_member_name(b, "complete");
    json_builder_add_boolean_value(b, done >= c->epochs);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  /* Over the epochs done so far; see "progress". */
  json_builder_set_member_name(b, "max_val_acc");
  json_builder_begin_object(b);
  for (int r = 0; r < SC_N_RUNS; r++) {
    double best = sc_trainer_max_val_acc(trainer, r);
    if (!isfinite(best))
      continue;
    json_builder_set_member_name(b, sc_run_name(r));
    json_builder_add_double_value(b, best);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);

  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  gsize len;
  g_autofree char *text = json_generator_to_data(gen, &len);
  return write_atomically(path, text, len, error);
}

void
sc_epoch_metrics_init(ScEpochMetrics *m, int epoch)
{
  for (size_t f = 0; f < sc_n_metric_fields; f++)
    *sc_metric_slot(m, &sc_metric_fields[f]) = NAN;
  m->epoch = epoch;
}
