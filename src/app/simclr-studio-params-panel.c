/* SimclrStudioParamsPanel: settings bindings and the GPU probe. */
#include "simclr-studio-params-panel.h"

#include <string.h>

#include "backend.h"
#include "simclr-studio-settings.h"

struct _SimclrStudioParamsPanel {
  AdwBin parent_instance;

  GtkSpinButton *epochs_spin, *batch_spin, *lr_spin, *clr_spin, *temperature_spin;
  GtkSpinButton *width_spin, *input_spin, *seed_spin;
  GtkSpinButton *labeled_spin, *unlabeled_spin, *subset_spin;
  GtkSwitch *cosine_switch;
  AdwActionRow *cuda_row;
  AdwActionRow *batch_row;
  GtkWidget *batch_suggestion_button;
  GtkCheckButton *cpu_check, *cuda_check;

  GSettings *settings;
  char *cuda_problem;
  gboolean cuda_usable;
  int batch_suggestion; /* 0: none */
};

G_DEFINE_FINAL_TYPE(SimclrStudioParamsPanel, simclr_studio_params_panel, ADW_TYPE_BIN)

/* Keys that "Reset" restores: every training setting but the data set,
 * the augmentation strengths of the preview page included. */
static const char *const hyperparameter_keys[] = {
  SC_KEY_EPOCHS, SC_KEY_BATCH_SIZE, SC_KEY_LEARNING_RATE, SC_KEY_CONTRASTIVE_LEARNING_RATE,
  SC_KEY_TEMPERATURE, SC_KEY_WIDTH, SC_KEY_INPUT_SIZE, SC_KEY_SEED, SC_KEY_COSINE_SCHEDULE,
  SC_KEY_LABELED_PER_CLASS, SC_KEY_UNLABELED_CAP, SC_KEY_SUBSET, SC_KEY_BACKEND,
  SC_KEY_WEAK_MIN_AREA, SC_KEY_WEAK_BRIGHTNESS, SC_KEY_WEAK_JITTER,
  SC_KEY_STRONG_MIN_AREA, SC_KEY_STRONG_BRIGHTNESS, SC_KEY_STRONG_JITTER,
};

void
simclr_studio_params_panel_reset(SimclrStudioParamsPanel *self)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PARAMS_PANEL(self));
  for (size_t i = 0; i < G_N_ELEMENTS(hyperparameter_keys); i++)
    g_settings_reset(self->settings, hyperparameter_keys[i]);
}

static void
reset_clicked_cb(SimclrStudioParamsPanel *self)
{
  simclr_studio_params_panel_reset(self);
}

void
simclr_studio_params_panel_commit(SimclrStudioParamsPanel *self)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PARAMS_PANEL(self));
  GtkSpinButton *spins[] = {
    self->epochs_spin, self->batch_spin, self->lr_spin, self->clr_spin,
    self->temperature_spin, self->width_spin, self->input_spin, self->seed_spin,
    self->labeled_spin, self->unlabeled_spin, self->subset_spin,
  };
  /* Parses the text and sets the value, which the binding writes. */
  for (size_t i = 0; i < G_N_ELEMENTS(spins); i++)
    gtk_spin_button_update(spins[i]);
}

static void
batch_suggestion_clicked_cb(SimclrStudioParamsPanel *self)
{
  if (self->batch_suggestion > 0)
    g_settings_set_int(self->settings, SC_KEY_BATCH_SIZE, self->batch_suggestion);
}

void
simclr_studio_params_panel_set_batch_suggestion(SimclrStudioParamsPanel *self, int size,
                                                const char *why)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PARAMS_PANEL(self));
  self->batch_suggestion = size;
  gtk_widget_set_visible(self->batch_suggestion_button, size > 0);
  if (size > 0) {
    g_autofree char *label = g_strdup_printf("Use %d", size);
    gtk_button_set_label(GTK_BUTTON(self->batch_suggestion_button), label);
    gtk_widget_set_tooltip_text(self->batch_suggestion_button, why);
  }
  g_autofree char *subtitle =
    size > 0 ? g_strdup_printf("Gives no step with these images; %d is the nearest that does",
                               size)
             : NULL;
  adw_action_row_set_subtitle(self->batch_row,
                              subtitle != NULL ? subtitle
                                               : "Images per contrastive step (unlabeled and "
                                                 "labeled)");
}

int
simclr_studio_params_panel_get_batch_suggestion(SimclrStudioParamsPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_PARAMS_PANEL(self), 0);
  return self->batch_suggestion;
}

static void
show_backend(SimclrStudioParamsPanel *self)
{
  g_autofree char *backend = g_settings_get_string(self->settings, SC_KEY_BACKEND);
  gboolean cuda = g_str_equal(backend, "cuda") && self->cuda_usable;
  gtk_check_button_set_active(cuda ? self->cuda_check : self->cpu_check, TRUE);
}

static void
backend_toggled_cb(SimclrStudioParamsPanel *self, GtkCheckButton *check)
{
  if (self->settings == NULL || !gtk_check_button_get_active(check))
    return;
  g_settings_set_string(self->settings, SC_KEY_BACKEND,
                        check == self->cuda_check ? "cuda" : "cpu");
}

static void
probe_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  ScBackend *be = sc_backend_new("cuda", 0, &error);
  if (be == NULL) {
    g_task_return_error(task, error);
    return;
  }
  sc_backend_free(be);
  g_task_return_boolean(task, TRUE);
}

static void
probe_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  SimclrStudioParamsPanel *self = SIMCLR_STUDIO_PARAMS_PANEL(source);
  g_autoptr(GError) error = NULL;
  self->cuda_usable = g_task_propagate_boolean(G_TASK(result), &error);
  if (self->cuda_row == NULL)
    return; /* disposed while probing */
  g_clear_pointer(&self->cuda_problem, g_free);
  if (!self->cuda_usable) {
    /* The engine's advice names a command-line flag; the choice is here. */
    self->cuda_problem = g_strdup(error->message);
    char *advice = strstr(self->cuda_problem, "; use --backend");
    if (advice != NULL)
      *advice = '\0';
  }
  adw_action_row_set_subtitle(self->cuda_row, self->cuda_usable
                                                ? "cuDNN convolutions, cuBLAS products"
                                                : self->cuda_problem);
  gtk_widget_set_sensitive(GTK_WIDGET(self->cuda_row), self->cuda_usable);
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->cuda_row), self->cuda_problem);
  if (self->settings != NULL)
    show_backend(self);
}

static void
bind_spin(SimclrStudioParamsPanel *self, const char *key, GtkSpinButton *spin)
{
  g_settings_bind(self->settings, key, gtk_spin_button_get_adjustment(spin), "value",
                  G_SETTINGS_BIND_DEFAULT);
}

static void
simclr_studio_params_panel_dispose(GObject *object)
{
  SimclrStudioParamsPanel *self = SIMCLR_STUDIO_PARAMS_PANEL(object);
  g_clear_object(&self->settings);
  gtk_widget_dispose_template(GTK_WIDGET(self), SIMCLR_STUDIO_TYPE_PARAMS_PANEL);
  G_OBJECT_CLASS(simclr_studio_params_panel_parent_class)->dispose(object);
}

static void
simclr_studio_params_panel_finalize(GObject *object)
{
  SimclrStudioParamsPanel *self = SIMCLR_STUDIO_PARAMS_PANEL(object);
  g_free(self->cuda_problem);
  G_OBJECT_CLASS(simclr_studio_params_panel_parent_class)->finalize(object);
}

static void
simclr_studio_params_panel_class_init(SimclrStudioParamsPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = simclr_studio_params_panel_dispose;
  object_class->finalize = simclr_studio_params_panel_finalize;

  gtk_widget_class_set_template_from_resource(
    widget_class, SC_RESOURCE_PATH "/simclr-studio-params-panel.ui");
#define BIND(name) \
  gtk_widget_class_bind_template_child(widget_class, SimclrStudioParamsPanel, name)
  BIND(epochs_spin);
  BIND(batch_spin);
  BIND(lr_spin);
  BIND(clr_spin);
  BIND(temperature_spin);
  BIND(width_spin);
  BIND(input_spin);
  BIND(seed_spin);
  BIND(labeled_spin);
  BIND(unlabeled_spin);
  BIND(subset_spin);
  BIND(cosine_switch);
  BIND(cuda_row);
  BIND(batch_row);
  BIND(batch_suggestion_button);
  BIND(cpu_check);
  BIND(cuda_check);
#undef BIND
  gtk_widget_class_bind_template_callback(widget_class, reset_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, backend_toggled_cb);
  gtk_widget_class_bind_template_callback(widget_class, batch_suggestion_clicked_cb);
}

static void
simclr_studio_params_panel_init(SimclrStudioParamsPanel *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  /* Looking for a GPU can take a while with a driver: off the main thread. */
  g_autoptr(GTask) task = g_task_new(self, NULL, probe_done, NULL);
  g_task_set_name(task, "[simclr-studio] probe CUDA");
  g_task_run_in_thread(task, probe_thread);
}

void
simclr_studio_params_panel_set_settings(SimclrStudioParamsPanel *self, GSettings *settings)
{
  g_return_if_fail(SIMCLR_STUDIO_IS_PARAMS_PANEL(self));
  g_return_if_fail(self->settings == NULL);
  self->settings = g_object_ref(settings);
  bind_spin(self, SC_KEY_EPOCHS, self->epochs_spin);
  bind_spin(self, SC_KEY_BATCH_SIZE, self->batch_spin);
  bind_spin(self, SC_KEY_LEARNING_RATE, self->lr_spin);
  bind_spin(self, SC_KEY_CONTRASTIVE_LEARNING_RATE, self->clr_spin);
  bind_spin(self, SC_KEY_TEMPERATURE, self->temperature_spin);
  bind_spin(self, SC_KEY_WIDTH, self->width_spin);
  bind_spin(self, SC_KEY_INPUT_SIZE, self->input_spin);
  bind_spin(self, SC_KEY_SEED, self->seed_spin);
  bind_spin(self, SC_KEY_LABELED_PER_CLASS, self->labeled_spin);
  bind_spin(self, SC_KEY_UNLABELED_CAP, self->unlabeled_spin);
  bind_spin(self, SC_KEY_SUBSET, self->subset_spin);
  g_settings_bind(settings, SC_KEY_COSINE_SCHEDULE, self->cosine_switch, "active",
                  G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_object(settings, "changed::" SC_KEY_BACKEND, G_CALLBACK(show_backend),
                          self, G_CONNECT_SWAPPED);
  show_backend(self);
}

const char *
simclr_studio_params_panel_get_cuda_problem(SimclrStudioParamsPanel *self)
{
  g_return_val_if_fail(SIMCLR_STUDIO_IS_PARAMS_PANEL(self), NULL);
  return self->cuda_problem;
}
