/* The trainer's configuration: defaults, checks, copies and JSON. */
#include "trainer-private.h"

#include <math.h>

#include "sc-json.h"

void
sc_train_config_init_default(ScTrainConfig *c)
{
  /* The reference's hyperparameters where they carry over; the sizes are
   * the default data's (Fashion-MNIST on a 2-core machine, see README).
   * Three values differ from the reference so that the three runs finish in
   * well under 15 minutes on 2 shared cores and pretraining pays off, as
   * measured with simclr-train (README, "Main job"): 5 labels per class (at
   * 10 finetuning gained only 1-2 points over the baseline), width 64 (half the
   * encoder's compute of 128 at 32 px) and a contrastive learning rate of
   * 0.003 (at 0.001 the 760 contrastive steps leave c_acc near 0.2). */
  *c = (ScTrainConfig){
    .data_path = NULL,
    .format = SC_FORMAT_AUTO,
    .labeled_per_class = 5,
    .unlabeled_cap = 20000,
    .subset = 0,
    .input_size = 32,
    .width = 64,
    .epochs = 20,
    .batch_size = 525,
    .temperature = 0.1f,
    .ntxent = SC_NTXENT_CROSS_VIEW,
    .learning_rate = 0.001f,
    .contrastive_learning_rate = 0.003f,
    .cosine_schedule = FALSE,
    .strong = SC_AUGMENT_STRONG,
    .weak = SC_AUGMENT_WEAK,
    .knn = FALSE,
    .runs = { TRUE, TRUE, TRUE },
    .backend = g_strdup("cpu"),
    .threads = 0,
    .seed = 42,
  };
}

void
sc_train_config_clear(ScTrainConfig *c)
{
  g_clear_pointer(&c->data_path, g_free);
  g_clear_pointer(&c->backend, g_free);
}

void
sc_train_config_copy(ScTrainConfig *dst, const ScTrainConfig *src)
{
  *dst = *src;
  dst->data_path = g_strdup(src->data_path);
  dst->backend = g_strdup(src->backend);
}

static gboolean
invalid(GError **error, const char *flag, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
invalid(GError **error, const char *flag, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, args);
  va_end(args);
  g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: %s", flag, what);
  return FALSE;
}

gboolean
sc_train_config_validate(const ScTrainConfig *c, GError **error)
{
  if (c->epochs < 1 || c->epochs > SC_MAX_EPOCHS)
    return invalid(error, "--epochs", "must be from 1 to %d, got %d", SC_MAX_EPOCHS, c->epochs);
  if (c->batch_size < 2)
    return invalid(error, "--batch-size", "must be at least 2 (the contrastive loss "
                   "compares images within a batch), got %d", c->batch_size);
  if (c->width < 1)
    return invalid(error, "--width", "must be at least 1, got %d", c->width);
  if (c->input_size < 31)
    return invalid(error, "--input-size", "must be at least 31 pixels (four 3x3 "
                   "stride-2 convolutions), got %d", c->input_size);
  if (c->input_size > SC_MAX_INPUT_SIZE)
    return invalid(error, "--input-size", "must be at most %d pixels (a batch of larger "
                   "views needs many GiB of memory), got %d", SC_MAX_INPUT_SIZE,
                   c->input_size);
  /* Below about 1e-4 the similarities over the temperature overflow float. */
  if (!(c->temperature >= SC_MIN_TEMPERATURE) || !isfinite(c->temperature))
    return invalid(error, "--temperature", "must be a finite number >= %g, got %g",
                   SC_MIN_TEMPERATURE, c->temperature);
  if (!(c->learning_rate >= 0.0f) || !isfinite(c->learning_rate))
    return invalid(error, "--lr", "must be a finite number >= 0, got %g",
                   c->learning_rate);
  if (!(c->contrastive_learning_rate >= 0.0f) || !isfinite(c->contrastive_learning_rate))
    return invalid(error, "--contrastive-lr", "must be a finite number >= 0, got %g",
                   c->contrastive_learning_rate);
  if (c->labeled_per_class < 1)
    return invalid(error, "--labeled", "must be at least 1 image per class, got %d",
                   c->labeled_per_class);
  if (c->threads < 0 || c->threads > SC_MAX_THREADS)
    return invalid(error, "--threads", "must be between 0 (the library's choice) and %d, "
                   "got %d", SC_MAX_THREADS, c->threads);
  if (!sc_augment_strength_validate(&c->strong, "--strong", error)
      || !sc_augment_strength_validate(&c->weak, "--weak", error))
    return FALSE;
  if (!c->runs[SC_RUN_BASELINE] && !c->runs[SC_RUN_PRETRAIN] && !c->runs[SC_RUN_FINETUNE])
    return invalid(error, "--runs", "no run selected");
  /* Finetuning a random encoder would only repeat the baseline. */
  if (c->runs[SC_RUN_FINETUNE] && !c->runs[SC_RUN_PRETRAIN])
    return invalid(error, "--runs", "finetune starts from the pretrained encoder, so it "
                   "needs pretrain too (e.g. pretrain,finetune)");
  return TRUE;
}

/* JSON round trip, for checkpoints and history files. Doubles are printed
 * with 17 digits by json-glib, so values come back bit-identical. */
void
sc_train_config_to_json(const ScTrainConfig *c, JsonBuilder *b)
{
  json_builder_begin_object(b);
#define STR(name, value)                                                                  \
  json_builder_set_member_name(b, name);                                                 \
  json_builder_add_string_value(b, value)
#define INT(name, value)                                                                  \
  json_builder_set_member_name(b, name);                                                 \
  json_builder_add_int_value(b, value)
#define DBL(name, value)                                                                  \
  json_builder_set_member_name(b, name);                                                 \
  json_builder_add_double_value(b, value)
  STR("data", c->data_path != NULL ? c->data_path : "");
  STR("format", sc_data_format_name(c->format));
  INT("labeled_per_class", c->labeled_per_class);
  INT("unlabeled_cap", (gint64)c->unlabeled_cap);
  INT("subset", (gint64)c->subset);
  INT("input_size", c->input_size);
  INT("width", c->width);
  INT("epochs", c->epochs);
  INT("batch_size", c->batch_size);
  DBL("temperature", c->temperature);
  STR("ntxent", c->ntxent == SC_NTXENT_FULL ? "full" : "cross-view");
  DBL("lr", c->learning_rate);
  DBL("contrastive_lr", c->contrastive_learning_rate);
  STR("schedule", c->cosine_schedule ? "cosine" : "constant");
  DBL("strong_min_area", c->strong.min_area);
  DBL("strong_brightness", c->strong.brightness);
  DBL("strong_jitter", c->strong.jitter);
  DBL("weak_min_area", c->weak.min_area);
  DBL("weak_brightness", c->weak.brightness);
  DBL("weak_jitter", c->weak.jitter);
  json_builder_set_member_name(b, "knn");
  json_builder_add_boolean_value(b, c->knn);
  json_builder_set_member_name(b, "runs");
  json_builder_begin_array(b);
  for (int r = 0; r < SC_N_RUNS; r++)
    if (c->runs[r])
      json_builder_add_string_value(b, sc_run_name(r));
  json_builder_end_array(b);
  /* The seed as a string: JSON numbers lose 64-bit integers in some readers. */
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, c->seed);
  STR("seed", seed);
#undef STR
#undef INT
#undef DBL
  json_builder_end_object(b);
}

/* Typed reads of a configuration object as to_json writes it: a member
 * that is missing or of the wrong type (a hand-edited file) is noted, its
 * default used, and the first such member named in the error. */
typedef struct {
  JsonObject *o;
  const char *bad;      /* first member missing or of the wrong type */
  const char *expected; /* what it should have been; NULL: it is missing */
} ConfigReader;

static JsonNode *
member_value(ConfigReader *r, const char *name)
{
  JsonNode *node = json_object_get_member(r->o, name);
  return node != NULL && JSON_NODE_HOLDS_VALUE(node) ? node : NULL;
}

static void
note_bad(ConfigReader *r, const char *name, const char *expected)
{
  if (r->bad == NULL) {
    r->bad = name;
    r->expected = json_object_has_member(r->o, name) ? expected : NULL;
  }
}

static const char *
read_string(ConfigReader *r, const char *name, const char *fallback)
{
  JsonNode *v = member_value(r, name);
  if (v != NULL && json_node_get_value_type(v) == G_TYPE_STRING)
    return json_node_get_string(v);
  note_bad(r, name, "a string");
  return fallback;
}

/* A whole number from 0 to max. */
static gint64
read_count(ConfigReader *r, const char *name, gint64 max)
{
  JsonNode *v = member_value(r, name);
  if (v != NULL && json_node_get_value_type(v) == G_TYPE_INT64) {
    gint64 n = json_node_get_int(v);
    if (n >= 0 && n <= max)
      return n;
  }
  note_bad(r, name, max == G_MAXINT ? "a whole number from 0 to 2147483647"
                                    : "a whole number from 0");
  return 0;
}

static double
read_number(ConfigReader *r, const char *name, double fallback)
{
  JsonNode *v = json_object_get_member(r->o, name);
  if (v != NULL && sc_json_holds_number(v))
    return json_node_get_double(v);
  note_bad(r, name, "a number");
  return fallback;
}

static gboolean
read_boolean(ConfigReader *r, const char *name)
{
  JsonNode *v = member_value(r, name);
  if (v != NULL && json_node_get_value_type(v) == G_TYPE_BOOLEAN)
    return json_node_get_boolean(v);
  note_bad(r, name, "true or false");
  return FALSE;
}

gboolean
sc_train_config_from_json(JsonObject *o, ScTrainConfig *c, GError **error)
{
  sc_train_config_init_default(c);
  ConfigReader r = { o, NULL, NULL };
  const char *data = read_string(&r, "data", "");
  c->data_path = *data != '\0' ? g_strdup(data) : NULL;
  const char *format = read_string(&r, "format", "auto");
  c->labeled_per_class = (int)read_count(&r, "labeled_per_class", G_MAXINT);
  c->unlabeled_cap = (size_t)read_count(&r, "unlabeled_cap", G_MAXINT64);
  c->subset = (size_t)read_count(&r, "subset", G_MAXINT64);
  c->input_size = (int)read_count(&r, "input_size", G_MAXINT);
  c->width = (int)read_count(&r, "width", G_MAXINT);
  c->epochs = (int)read_count(&r, "epochs", G_MAXINT);
  c->batch_size = (int)read_count(&r, "batch_size", G_MAXINT);
  c->temperature = (float)read_number(&r, "temperature", 0);
  c->ntxent = g_strcmp0(read_string(&r, "ntxent", ""), "full") == 0 ? SC_NTXENT_FULL
                                                                      : SC_NTXENT_CROSS_VIEW;
  c->learning_rate = (float)read_number(&r, "lr", -1);
  c->contrastive_learning_rate = (float)read_number(&r, "contrastive_lr", -1);
  c->cosine_schedule = g_strcmp0(read_string(&r, "schedule", ""), "cosine") == 0;
  c->strong.min_area = (float)read_number(&r, "strong_min_area", 0);
  c->strong.brightness = (float)read_number(&r, "strong_brightness", 0);
  c->strong.jitter = (float)read_number(&r, "strong_jitter", 0);
  c->weak.min_area = (float)read_number(&r, "weak_min_area", 0);
  c->weak.brightness = (float)read_number(&r, "weak_brightness", 0);
  c->weak.jitter = (float)read_number(&r, "weak_jitter", 0);
  c->knn = read_boolean(&r, "knn");
  for (int run = 0; run < SC_N_RUNS; run++)
    c->runs[run] = FALSE;
  /* A list of run names, each one known. */
  JsonNode *runs_node = json_object_get_member(o, "runs");
  JsonArray *runs = runs_node != NULL && JSON_NODE_HOLDS_ARRAY(runs_node)
                      ? json_node_get_array(runs_node) : NULL;
  if (runs == NULL)
    note_bad(&r, "runs", "a list of run names (baseline, pretrain, finetune)");
  for (guint i = 0; runs != NULL && i < json_array_get_length(runs); i++) {
    JsonNode *name = json_array_get_element(runs, i);
    ScRunKind run;
    if (JSON_NODE_HOLDS_VALUE(name) && json_node_get_value_type(name) == G_TYPE_STRING
        && sc_run_parse(json_node_get_string(name), &run))
      c->runs[run] = TRUE;
    else
      note_bad(&r, "runs", "a list of run names (baseline, pretrain, finetune)");
  }
  /* Written as a string (JSON numbers lose 64-bit integers in some
   * readers); a whole number typed by hand is taken too. Digits only: no
   * sign, no spaces, no overflow. */
  JsonNode *seed = member_value(&r, "seed");
  gboolean seed_ok = FALSE;
  if (seed != NULL && json_node_get_value_type(seed) == G_TYPE_INT64) {
    seed_ok = json_node_get_int(seed) >= 0;
    c->seed = seed_ok ? (guint64)json_node_get_int(seed) : 0;
  } else if (seed != NULL && json_node_get_value_type(seed) == G_TYPE_STRING) {
    const char *digits = json_node_get_string(seed);
    seed_ok = g_ascii_isdigit(*digits)
              && g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT64, &c->seed, NULL);
  }
  if (!seed_ok)
    note_bad(&r, "seed", "a whole number from 0, such as \"42\"");
  if (r.bad != NULL && r.expected == NULL) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT, "\"%s\" is missing", r.bad);
    return FALSE;
  }
  if (r.bad != NULL) {
    g_set_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT, "\"%s\" must be %s", r.bad,
                r.expected);
    return FALSE;
  }
  if (!sc_data_format_parse(format, &c->format, error))
    return FALSE;
  return sc_train_config_validate(c, error);
}
