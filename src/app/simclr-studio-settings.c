/* Settings: schema lookup and the settings <-> configuration mapping. */
#include "config.h"

#include "simclr-studio-settings.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

static GSettingsSchema *
lookup_schema(GError **error)
{
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default();
  GSettingsSchema *schema =
    installed != NULL ? g_settings_schema_source_lookup(installed, SC_APP_ID, TRUE) : NULL;
  if (schema != NULL)
    return schema;

  /* Not installed: the schema compiled in the build folder. */
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GSettingsSchemaSource) uninstalled =
    g_settings_schema_source_new_from_directory(SC_SCHEMA_DIR_UNINSTALLED, installed, FALSE,
                                                &local_error);
  if (uninstalled != NULL)
    schema = g_settings_schema_source_lookup(uninstalled, SC_APP_ID, FALSE);
  if (schema == NULL)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "The settings schema %s is not installed and not in %s (%s); run "
                "\"meson install\" or start the program from its build folder",
                SC_APP_ID, SC_SCHEMA_DIR_UNINSTALLED,
                local_error != NULL ? local_error->message : "no such schema there");
  return schema;
}

/* dconf writes through the D-Bus session bus. Without one (a plain
 * xvfb-run, a bare ssh session) every write fails after the fact and each
 * changed value springs back, so keep the settings in memory instead and
 * say so once. */
static gboolean
default_backend_can_write(void)
{
  GSettingsBackend *backend = g_settings_backend_get_default();
  gboolean dconf = g_str_equal(G_OBJECT_TYPE_NAME(backend), "DConfSettingsBackend");
  g_object_unref(backend);
  if (!dconf)
    return TRUE;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
  if (bus != NULL)
    return TRUE;
  g_message("No D-Bus session bus (%s): the settings work in this session but will not "
            "be kept after it ends", error->message);
  return FALSE;
}

GSettings *
simclr_studio_settings_new(gboolean in_memory, GError **error)
{
  g_autoptr(GSettingsSchema) schema = lookup_schema(error);
  if (schema == NULL)
    return NULL;
  g_autoptr(GSettingsBackend) backend =
    in_memory || !default_backend_can_write() ? g_memory_settings_backend_new() : NULL;
  return g_settings_new_full(schema, backend, NULL);
}

static ScAugmentStrength
get_strength(GSettings *s, const char *min_area, const char *brightness, const char *jitter)
{
  return (ScAugmentStrength){ .min_area = (float)g_settings_get_double(s, min_area),
                              .brightness = (float)g_settings_get_double(s, brightness),
                              .jitter = (float)g_settings_get_double(s, jitter) };
}

void
simclr_studio_settings_get_strengths(GSettings *s, ScAugmentStrength *weak,
                                     ScAugmentStrength *strong)
{
  *weak = get_strength(s, SC_KEY_WEAK_MIN_AREA, SC_KEY_WEAK_BRIGHTNESS, SC_KEY_WEAK_JITTER);
  *strong = get_strength(s, SC_KEY_STRONG_MIN_AREA, SC_KEY_STRONG_BRIGHTNESS,
                         SC_KEY_STRONG_JITTER);
}

void
simclr_studio_settings_get_config(GSettings *s, ScTrainConfig *c)
{
  sc_train_config_init_default(c);
  g_autofree char *folder = g_settings_get_string(s, SC_KEY_DATA_FOLDER);
  c->data_path = *folder != '\0' ? g_steal_pointer(&folder) : NULL;
  c->epochs = g_settings_get_int(s, SC_KEY_EPOCHS);
  c->batch_size = g_settings_get_int(s, SC_KEY_BATCH_SIZE);
  c->width = g_settings_get_int(s, SC_KEY_WIDTH);
  c->input_size = g_settings_get_int(s, SC_KEY_INPUT_SIZE);
  c->temperature = (float)g_settings_get_double(s, SC_KEY_TEMPERATURE);
  c->learning_rate = (float)g_settings_get_double(s, SC_KEY_LEARNING_RATE);
  c->contrastive_learning_rate =
    (float)g_settings_get_double(s, SC_KEY_CONTRASTIVE_LEARNING_RATE);
  c->cosine_schedule = g_settings_get_boolean(s, SC_KEY_COSINE_SCHEDULE);
  c->labeled_per_class = g_settings_get_int(s, SC_KEY_LABELED_PER_CLASS);
  c->unlabeled_cap = (size_t)g_settings_get_int(s, SC_KEY_UNLABELED_CAP);
  c->subset = (size_t)g_settings_get_int(s, SC_KEY_SUBSET);
  c->seed = (uint64_t)g_settings_get_int(s, SC_KEY_SEED);
  simclr_studio_settings_get_strengths(s, &c->weak, &c->strong);

  SimclrStudioRuns runs = g_settings_get_enum(s, SC_KEY_RUNS);
  c->runs[SC_RUN_BASELINE] = runs == SIMCLR_STUDIO_RUNS_ALL
                             || runs == SIMCLR_STUDIO_RUNS_BASELINE;
  /* Finetuning starts from the pretrained encoder, so it brings pretraining. */
  c->runs[SC_RUN_PRETRAIN] = runs == SIMCLR_STUDIO_RUNS_ALL
                             || runs == SIMCLR_STUDIO_RUNS_PRETRAIN
                             || runs == SIMCLR_STUDIO_RUNS_FINETUNE;
  c->runs[SC_RUN_FINETUNE] = runs == SIMCLR_STUDIO_RUNS_ALL
                             || runs == SIMCLR_STUDIO_RUNS_FINETUNE;
  g_free(c->backend);
  c->backend = g_settings_get_string(s, SC_KEY_BACKEND);
}

void
simclr_studio_settings_apply_quick(GSettings *s)
{
  /* 1000 images per split, a small model: a few seconds in all on 2 cores. */
  g_settings_set_int(s, SC_KEY_EPOCHS, 5);
  g_settings_set_int(s, SC_KEY_SUBSET, 1000);
  g_settings_set_int(s, SC_KEY_BATCH_SIZE, 64);
  g_settings_set_int(s, SC_KEY_WIDTH, 32);
  g_settings_set_int(s, SC_KEY_LABELED_PER_CLASS, 10);
  g_settings_set_int(s, SC_KEY_UNLABELED_CAP, 0);
  g_settings_set_enum(s, SC_KEY_RUNS, SIMCLR_STUDIO_RUNS_ALL);
  g_settings_set_string(s, SC_KEY_BACKEND, "cpu");
}
