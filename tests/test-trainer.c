/* The trainer on tiny generated data sets: the three runs in every data
 * format, bit-exact resume and replay, cancel, pause, damaged checkpoints,
 * the probe's isolation from the encoder, finetuning's start, NaN stops,
 * kNN and the exported encoder. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "safetensors.h"
#include "test-data-fixtures.h"
#include "test-util.h"
#include "trainer-private.h"

/* ---- Fixtures ---- */

typedef struct {
  char *tmp;  /* removed at the end */
  char *data; /* the data set's folder */
  char *ckpt; /* the checkpoint folder */
} Fixture;

static void
fixture_idx(Fixture *f, gconstpointer user_data)
{
  f->tmp = sc_test_mkdtemp();
  f->data = g_build_filename(f->tmp, "fashion", NULL);
  f->ckpt = g_build_filename(f->tmp, "ckpt", NULL);
  /* 40 train images (labels i % 10), 12 test: with one labeled image per
   * class and batches of 8: 5 steps of 6 unlabeled + 2 labeled, test 8 + 4. */
  fx_idx_folder(f->data, 40, 12, 28, 28, TRUE);
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
  sc_test_rmtree(f->tmp);
  g_free(f->tmp);
  g_free(f->data);
  g_free(f->ckpt);
}

static void
tiny_config(ScTrainConfig *c, const char *data, ScDataFormat format)
{
  sc_train_config_init_default(c);
  c->data_path = g_strdup(data);
  c->format = format;
  c->labeled_per_class = 1;
  c->unlabeled_cap = 0;
  c->input_size = 32;
  c->width = 8;
  c->epochs = 2;
  c->batch_size = 8;
  c->seed = 7;
  c->threads = 1; /* tiny nets: a second thread only waits */
}

/* Counts events and cancels or pauses where asked. */
typedef struct {
  ScTrainer *trainer;
  int started[SC_N_RUNS], done[SC_N_RUNS], steps[SC_N_RUNS], epochs[SC_N_RUNS];
  int checkpoints;
  gboolean bad_event; /* a value out of range */
  /* Cancel at this event (kind, run, epoch, step; step 0 = any). */
  gboolean cancel;
  ScEventKind cancel_kind;
  ScRunKind cancel_run;
  int cancel_epoch, cancel_step;
  gboolean pause_once; /* pause at the first step, resumed by a thread */
  GThread *unpauser;
  /* Time-left check: the estimate may use only unpaused time since the
   * run's first step. */
  int run_steps; /* steps since the last run start */
  gint64 first_step_us;
  double eta_excess_s; /* largest amount by which an estimate exceeded that */
} Recorder;

#define PAUSE_US 200000

static gpointer
unpause_later(gpointer data)
{
  g_usleep(PAUSE_US);
  sc_trainer_set_paused(data, FALSE);
  return NULL;
}

static void
record(const ScTrainerEvent *ev, gpointer data)
{
  Recorder *r = data;
  switch (ev->kind) {
  case SC_EVENT_RUN_STARTED:
    r->started[ev->run]++;
    r->run_steps = 0;
    break;
  case SC_EVENT_RUN_DONE: r->done[ev->run]++; break;
  case SC_EVENT_EPOCH_DONE: r->epochs[ev->run]++; break;
  case SC_EVENT_CHECKPOINT:
    r->checkpoints++;
    if (ev->path == NULL || !g_file_test(ev->path, G_FILE_TEST_EXISTS))
      r->bad_event = TRUE;
    break;
  case SC_EVENT_STEP: {
    gint64 now = g_get_monotonic_time();
    r->steps[ev->run]++;
    int n = ++r->run_steps;
    if (!(ev->step >= 1 && ev->step <= ev->steps && isfinite(ev->step_loss)
          && isfinite(ev->eta_s) && ev->images_per_s >= 0))
      r->bad_event = TRUE;
    /* Unknown (< 0) exactly until the run's second step. */
    if ((n == 1) != (ev->eta_s < 0))
      r->bad_event = TRUE;
    if (n == 1)
      r->first_step_us = now;
    if (n >= 2) {
      int left = (ev->epochs - ev->epoch) * ev->steps + ev->steps - ev->step;
      double paused = r->unpauser != NULL ? PAUSE_US : 0.0;
      double most = (now - r->first_step_us - paused + 2000.0) / 1e6 / (n - 1) * left;
      r->eta_excess_s = MAX(r->eta_excess_s, ev->eta_s - most);
    }
    break;
  }
  default: r->bad_event = TRUE;
  }
  if (r->pause_once && ev->kind == SC_EVENT_STEP) {
    r->pause_once = FALSE;
    sc_trainer_set_paused(r->trainer, TRUE);
    g_assert_true(sc_trainer_is_paused(r->trainer));
    r->unpauser = g_thread_new("unpause", unpause_later, r->trainer);
  }
  if (r->cancel && ev->kind == r->cancel_kind && ev->run == r->cancel_run
      && ev->epoch == r->cancel_epoch && (r->cancel_step == 0 || ev->step == r->cancel_step))
    sc_trainer_cancel(r->trainer);
}

static ScTrainer *
new_trainer(const ScTrainConfig *c, const char *resume, const char *ckpt, Recorder *rec)
{
  g_autoptr(GError) error = NULL;
  ScTrainer *t = sc_trainer_new(c, resume, &error);
  g_assert_no_error(error);
  g_assert_nonnull(t);
  if (ckpt != NULL)
    sc_trainer_set_checkpoint_dir(t, ckpt);
  if (rec != NULL) {
    rec->trainer = t;
    sc_trainer_set_callback(t, record, rec);
  }
  return t;
}

static void
run_ok(ScTrainer *t)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(sc_trainer_run(t, &error));
  g_assert_no_error(error);
}

/* Runs t, which must stop with SC_TRAINER_ERROR code; returns the error. */
static GError *
run_fails(ScTrainer *t, int code)
{
  GError *error = NULL;
  g_assert_false(sc_trainer_run(t, &error));
  g_assert_error(error, SC_TRAINER_ERROR, code);
  return error;
}

/* ---- Comparisons ---- */

static gboolean
is_timing(const ScMetricField *f)
{
  return g_str_equal(f->name, "seconds") || g_str_equal(f->name, "images_per_s");
}

/* History equal bit for bit, but for the timings. */
static void
assert_same_history(ScTrainer *a, ScTrainer *b)
{
  for (int r = 0; r < SC_N_RUNS; r++) {
    int na, nb;
    const ScEpochMetrics *ha = sc_trainer_get_history(a, r, &na);
    const ScEpochMetrics *hb = sc_trainer_get_history(b, r, &nb);
    g_assert_cmpint(na, ==, nb);
    for (int e = 0; e < na; e++) {
      g_assert_cmpint(ha[e].epoch, ==, hb[e].epoch);
      for (size_t f = 0; f < sc_n_metric_fields; f++) {
        const ScMetricField *mf = &sc_metric_fields[f];
        if (is_timing(mf))
          continue;
        double va = *sc_metric_slot((ScEpochMetrics *)&ha[e], mf);
        double vb = *sc_metric_slot((ScEpochMetrics *)&hb[e], mf);
        if (memcmp(&va, &vb, sizeof va) != 0)
          g_error("%s epoch %d %s: %.17g vs %.17g", sc_run_name(r), e + 1, mf->name, va, vb);
      }
    }
  }
}

static ScTrainerModel *
model_of(ScTrainer *t, int i)
{
  return i < SC_N_RUNS ? &t->models[i] : &t->probe;
}

/* Weights, Adam moments and step counters equal bit for bit. */
static void
assert_same_state(ScTrainer *a, ScTrainer *b)
{
  for (int i = 0; i <= SC_N_RUNS; i++) {
    ScTrainerModel *ma = model_of(a, i), *mb = model_of(b, i);
    size_t bytes = ma->params->count * sizeof(float);
    g_assert_cmpuint(ma->params->count, ==, mb->params->count);
    if (memcmp(ma->params->params, mb->params->params, bytes) != 0)
      g_error("%s: weights differ", ma->name);
    g_assert_true(memcmp(ma->adam->m, mb->adam->m, bytes) == 0);
    g_assert_true(memcmp(ma->adam->v, mb->adam->v, bytes) == 0);
    g_assert_cmpint(ma->adam->iterations, ==, mb->adam->iterations);
  }
}

static float *
copy_params(const ScTrainerModel *m, size_t first, size_t count)
{
  return g_memdup2(m->params->params + first, count * sizeof(float));
}

/* Every value finite, accuracies in [0, 1], losses >= 0. */
static void
assert_history_sane(ScTrainer *t, const ScTrainConfig *c)
{
  for (int r = 0; r < SC_N_RUNS; r++) {
    int n;
    const ScEpochMetrics *h = sc_trainer_get_history(t, r, &n);
    g_assert_cmpint(n, ==, c->runs[r] ? c->epochs : 0);
    for (int e = 0; e < n; e++) {
      for (size_t f = 0; f < sc_n_metric_fields; f++) {
        const ScMetricField *mf = &sc_metric_fields[f];
        double v = *sc_metric_slot((ScEpochMetrics *)&h[e], mf);
        if (g_str_equal(mf->name, "knn_acc") && !c->knn) {
          g_assert_true(isnan(v));
          continue;
        }
        if (!mf->runs[r]) {
          g_assert_true(isnan(v));
          continue;
        }
        if (!isfinite(v) || v < 0)
          g_error("%s epoch %d: %s = %g", sc_run_name(r), e + 1, mf->name, v);
        if (strstr(mf->name, "acc") != NULL)
          g_assert_cmpfloat(v, <=, 1.0);
      }
      double best = sc_trainer_max_val_acc(t, r);
      g_assert_cmpfloat(sc_epoch_metrics_val_acc(r, &h[e]), <=, best);
    }
  }
}

/* ---- Tests ---- */

/* All three runs, 2 epochs, in one data format; events, history, files. */
static void
check_end_to_end(const char *data, ScDataFormat format, int labeled, int batch, int input,
                 gboolean knn, const char *tmp)
{
  ScTrainConfig c;
  tiny_config(&c, data, format);
  c.labeled_per_class = labeled;
  c.batch_size = batch;
  c.input_size = input;
  c.knn = knn;
  g_autofree char *ckpt = g_build_filename(tmp, "ckpt", NULL);
  Recorder rec = { 0 };
  ScTrainer *t = new_trainer(&c, NULL, ckpt, &rec);
  int steps = sc_trainer_get_steps_per_epoch(t);
  g_assert_cmpint(steps, >=, 1);
  run_ok(t);

  g_assert_false(rec.bad_event);
  for (int r = 0; r < SC_N_RUNS; r++) {
    g_assert_cmpint(rec.started[r], ==, 1);
    g_assert_cmpint(rec.done[r], ==, 1);
    g_assert_cmpint(rec.epochs[r], ==, 2);
    g_assert_cmpint(rec.steps[r], ==, 2 * steps);
    g_assert_cmpint(sc_trainer_get_epochs_done(t, r), ==, 2);
  }
  g_assert_cmpint(rec.checkpoints, ==, 6);
  assert_history_sane(t, &c);

  g_autoptr(GError) error = NULL;
  g_autofree char *csv = g_build_filename(tmp, "history.csv", NULL);
  g_autofree char *json = g_build_filename(tmp, "history.json", NULL);
  g_assert_true(sc_trainer_write_history_csv(t, csv, &error));
  g_assert_true(sc_trainer_write_history_json(t, json, &error));
  g_assert_no_error(error);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(csv, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 1 + 6 + 1); /* header, 6 rows, "" */
  sc_trainer_free(t);
  sc_train_config_clear(&c);
}

static void
test_format_idx(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *data = g_build_filename(tmp, "fashion", NULL);
  fx_idx_folder(data, 40, 12, 28, 28, TRUE);
  /* Batches of 7 give 5 steps of 6 unlabeled + 2 labeled: a contrastive
   * batch larger than the batch size. */
  check_end_to_end(data, SC_FORMAT_IDX, 1, 7, 32, TRUE, tmp);
  sc_test_rmtree(tmp);
}

static void
test_format_cifar10(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *data = g_build_filename(tmp, "cifar-10-batches-bin", NULL);
  /* 15 train images, 4 test; a labeled image per class, batch 4: 3 steps of
   * 1 unlabeled + 3 labeled. */
  fx_cifar10_folder(data);
  check_end_to_end(data, SC_FORMAT_CIFAR10, 1, 4, 31, FALSE, tmp);
  sc_test_rmtree(tmp);
}

static void
test_format_stl10(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *data = g_build_filename(tmp, "stl10_binary", NULL);
  /* 96 px images resized to 32; its own unlabeled split. */
  fx_stl10_folder(data, 20, 10, 16);
  check_end_to_end(data, SC_FORMAT_STL10, 1, 8, 32, TRUE, tmp);
  sc_test_rmtree(tmp);
}

/* classes x per_class one-colour PNGs of class-specific colours under dir. */
static void
write_colour_classes(const char *dir, int classes, int per_class)
{
  static const guint8 colours[3][3] = { { 230, 20, 20 }, { 20, 200, 40 }, { 30, 40, 220 } };
  for (int k = 0; k < classes; k++) {
    g_autofree char *name = g_strdup_printf("class%d", k);
    g_autofree char *sub = g_build_filename(dir, name, NULL);
    g_assert_cmpint(g_mkdir_with_parents(sub, 0755), ==, 0);
    for (int i = 0; i < per_class; i++) {
      g_autofree char *file = g_strdup_printf("%s/img%d.png", sub, i);
      fx_write_image(file, 34, 34, colours[k], i % 2 == 1);
    }
  }
}

static void
test_format_folder_knn(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *data = g_build_filename(tmp, "shapes", NULL);
  g_autofree char *test = g_build_filename(data, "test", NULL);
  write_colour_classes(data, 3, 6);
  write_colour_classes(test, 3, 2);
  check_end_to_end(data, SC_FORMAT_FOLDER, 2, 6, 32, TRUE, tmp);

  /* Images of a class are identical and the classes' colours differ, so
   * each test image's nearest labeled images are its own class's. */
  ScTrainConfig c;
  tiny_config(&c, data, SC_FORMAT_FOLDER);
  c.labeled_per_class = 2;
  c.batch_size = 6;
  c.knn = TRUE;
  c.runs[SC_RUN_BASELINE] = c.runs[SC_RUN_FINETUNE] = FALSE;
  c.epochs = 1;
  ScTrainer *t = new_trainer(&c, NULL, NULL, NULL);
  run_ok(t);
  int n;
  const ScEpochMetrics *h = sc_trainer_get_history(t, SC_RUN_PRETRAIN, &n);
  g_assert_cmpint(n, ==, 1);
  g_assert_cmpfloat(h[0].knn_acc, ==, 1.0);
  sc_trainer_free(t);
  sc_train_config_clear(&c);
  sc_test_rmtree(tmp);
}

/* Every training image labeled, none left unlabeled: 40 images in batches
 * of 16 make 2 steps of 20 labeled images, more than the batch size. */
static void
test_all_labeled(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  c.labeled_per_class = 4;
  c.batch_size = 16;
  c.epochs = 1;
  Recorder rec = { 0 };
  ScTrainer *t = new_trainer(&c, NULL, NULL, &rec);
  g_assert_cmpint(sc_trainer_get_steps_per_epoch(t), ==, 2);
  run_ok(t);
  g_assert_false(rec.bad_event);
  assert_history_sane(t, &c);
  sc_trainer_free(t);
  sc_train_config_clear(&c);
}

/* Mean loss and accuracy of encoder + head over the whole test split in
 * one batch. */
static void
evaluate_whole_test(ScTrainer *t, ScNet *encoder, ScNet *head, double *loss, double *acc)
{
  const ScSplitView *test = &t->plan->test;
  int n = (int)test->count;
  g_assert_true(sc_net_prepare(encoder, n, NULL) && sc_net_prepare(head, n, NULL));
  const int32_t *labels = sc_split_labels(test->split);
  for (int i = 0; i < n; i++)
    t->host_labels[i] = labels[test->indices[i]];
  const float *h = sc_trainer_encode_plain(t, encoder, test->split, test->indices, n);
  const float *logits = sc_net_forward(head, h, n);
  int64_t correct = 0;
  g_assert_true(sc_softmax_xent_mean(t->be, n, t->n_classes, logits, t->host_labels,
                                     t->host_labels, t->loss, NULL, &correct, NULL));
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += t->loss[i];
  *loss = sum / n;
  *acc = (double)correct / n;
}

/* Validation means are per sample: 12 test images in batches of 7 and 5
 * give the numbers of one batch of 12 (batch means averaged would not). */
static void
test_validation_weighting(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  c.batch_size = 7;
  c.epochs = 1;
  ScTrainer *t = new_trainer(&c, NULL, NULL, NULL);
  g_assert_cmpuint(t->plan->test.count, ==, 12);
  run_ok(t);
  double loss, acc;
  int n;
  const ScEpochMetrics *b = sc_trainer_get_history(t, SC_RUN_BASELINE, &n);
  ScTrainerModel *m = &t->models[SC_RUN_BASELINE];
  evaluate_whole_test(t, m->encoder, m->head, &loss, &acc);
  g_assert_cmpfloat_with_epsilon(b[0].val_loss, loss, 1e-6 * loss);
  g_assert_cmpfloat(b[0].val_acc, ==, acc);
  const ScEpochMetrics *p = sc_trainer_get_history(t, SC_RUN_PRETRAIN, &n);
  evaluate_whole_test(t, t->models[SC_RUN_PRETRAIN].encoder, t->probe.head, &loss, &acc);
  g_assert_cmpfloat_with_epsilon(p[0].val_p_loss, loss, 1e-6 * loss);
  g_assert_cmpfloat(p[0].val_p_acc, ==, acc);
  sc_trainer_free(t);
  sc_train_config_clear(&c);
}

/* Interrupted after epoch 1 of `run` and resumed == uninterrupted, bit for
 * bit: history, weights, moments, counters. */
static void
test_resume_exact(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  c.knn = TRUE;
  ScTrainer *whole = new_trainer(&c, NULL, NULL, NULL);
  run_ok(whole);

  for (int run = 0; run < SC_N_RUNS; run++) {
    g_autofree char *dir = g_strdup_printf("%s-%d", f->ckpt, run);
    Recorder rec = { .cancel = TRUE, .cancel_kind = SC_EVENT_CHECKPOINT,
                     .cancel_run = run, .cancel_epoch = 1 };
    ScTrainer *first = new_trainer(&c, NULL, dir, &rec);
    g_autoptr(GError) error = run_fails(first, SC_ERROR_CANCELLED);
    g_assert_cmpint(sc_trainer_get_epochs_done(first, run), ==, 1);
    sc_trainer_free(first);

    /* The folder's checkpoint; the configuration comes from it. */
    ScTrainConfig other;
    tiny_config(&other, "/nonexistent", SC_FORMAT_AUTO);
    other.epochs = 9;
    Recorder rec2 = { 0 };
    ScTrainer *resumed = new_trainer(&other, dir, dir, &rec2);
    g_assert_cmpint(sc_trainer_get_config(resumed)->epochs, ==, 2);
    g_assert_cmpint(sc_trainer_get_epochs_done(resumed, run), ==, 1);
    run_ok(resumed);
    g_assert_cmpint(rec2.started[run], ==, 1);
    for (int r = 0; r < run; r++)
      g_assert_cmpint(rec2.started[r], ==, 0); /* done runs are not repeated */
    assert_same_history(whole, resumed);
    assert_same_state(whole, resumed);
    sc_trainer_free(resumed);
    sc_train_config_clear(&other);
  }
  sc_trainer_free(whole);
  sc_train_config_clear(&c);
}

static void
test_same_seed_replays(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  ScTrainer *a = new_trainer(&c, NULL, NULL, NULL);
  ScTrainer *b = new_trainer(&c, NULL, NULL, NULL);
  run_ok(a);
  run_ok(b);
  assert_same_history(a, b);
  assert_same_state(a, b);

  /* Another seed changes the numbers (so the comparison can fail). */
  c.seed = 8;
  ScTrainer *d = new_trainer(&c, NULL, NULL, NULL);
  run_ok(d);
  int n;
  const ScEpochMetrics *ha = sc_trainer_get_history(a, SC_RUN_PRETRAIN, &n);
  const ScEpochMetrics *hd = sc_trainer_get_history(d, SC_RUN_PRETRAIN, &n);
  g_assert_cmpfloat(ha[0].c_loss, !=, hd[0].c_loss);
  sc_trainer_free(a);
  sc_trainer_free(b);
  sc_trainer_free(d);
  sc_train_config_clear(&c);
}

/* Cancelled in the middle of epoch 2 of pretraining from the callback. */
static void
test_cancel_mid_epoch(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  Recorder rec = { .cancel = TRUE, .cancel_kind = SC_EVENT_STEP,
                   .cancel_run = SC_RUN_PRETRAIN, .cancel_epoch = 2, .cancel_step = 2 };
  ScTrainer *t = new_trainer(&c, NULL, f->ckpt, &rec);
  g_autoptr(GError) error = run_fails(t, SC_ERROR_CANCELLED);
  g_assert_nonnull(strstr(error->message, "Pretraining cancelled at epoch 2, step 3"));
  g_assert_cmpint(rec.steps[SC_RUN_PRETRAIN], ==, sc_trainer_get_steps_per_epoch(t) + 2);
  g_assert_cmpint(rec.started[SC_RUN_FINETUNE], ==, 0);
  /* history.json tells the finished baseline from the cut pretraining. */
  g_autofree char *json = g_build_filename(f->tmp, "history.json", NULL);
  g_assert_true(sc_trainer_write_history_json(t, json, &error));
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_file(parser, json, NULL));
  JsonObject *progress = json_object_get_object_member(
    json_node_get_object(json_parser_get_root(parser)), "progress");
  g_assert_nonnull(progress);
  const struct { ScRunKind run; int done; gboolean complete; } want[] = {
    { SC_RUN_BASELINE, 2, TRUE }, { SC_RUN_PRETRAIN, 1, FALSE }, { SC_RUN_FINETUNE, 0, FALSE },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
    JsonObject *o = json_object_get_object_member(progress, sc_run_name(want[i].run));
    g_assert_cmpint(json_object_get_int_member(o, "epochs_done"), ==, want[i].done);
    g_assert_cmpint(json_object_get_int_member(o, "epochs"), ==, 2);
    g_assert_cmpint(json_object_get_boolean_member(o, "complete"), ==, want[i].complete);
  }
  sc_trainer_free(t);

  /* The checkpoint after epoch 1 reads and restores. */
  ScTrainer *back = new_trainer(&c, f->ckpt, NULL, NULL);
  g_assert_cmpint(sc_trainer_get_epochs_done(back, SC_RUN_BASELINE), ==, 2);
  g_assert_cmpint(sc_trainer_get_epochs_done(back, SC_RUN_PRETRAIN), ==, 1);
  g_assert_cmpint(sc_trainer_get_epochs_done(back, SC_RUN_FINETUNE), ==, 0);
  int n;
  sc_trainer_get_history(back, SC_RUN_PRETRAIN, &n);
  g_assert_cmpint(n, ==, 1);
  sc_trainer_free(back);
  sc_train_config_clear(&c);
}

static void
test_pause(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  c.epochs = 2;
  c.runs[SC_RUN_PRETRAIN] = c.runs[SC_RUN_FINETUNE] = FALSE;
  Recorder rec = { .pause_once = TRUE };
  ScTrainer *t = new_trainer(&c, NULL, NULL, &rec);
  gint64 start = g_get_monotonic_time();
  run_ok(t);
  /* The run waited for the other thread's resume. */
  g_assert_cmpint(g_get_monotonic_time() - start, >=, PAUSE_US);
  g_assert_nonnull(rec.unpauser);
  g_thread_join(rec.unpauser);
  g_assert_false(sc_trainer_is_paused(t));
  g_assert_false(rec.bad_event);
  g_assert_cmpint(rec.steps[SC_RUN_BASELINE], ==, 2 * sc_trainer_get_steps_per_epoch(t));
  /* The time left never counts the pause, also in the epoch after it. */
  g_assert_cmpfloat(rec.eta_excess_s, <=, 0.0);
  sc_trainer_free(t);
  sc_train_config_clear(&c);
}

static void
assert_refused(const char *path, const char *what)
{
  ScTrainConfig c;
  tiny_config(&c, "/nonexistent", SC_FORMAT_AUTO);
  g_autoptr(GError) error = NULL;
  ScTrainer *t = sc_trainer_new(&c, path, &error);
  g_assert_null(t);
  g_assert_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT);
  if (strstr(error->message, path) == NULL || strstr(error->message, what) == NULL)
    g_error("message \"%s\" lacks \"%s\" or \"%s\"", error->message, path, what);
  sc_train_config_clear(&c);
}

static void
test_damaged_checkpoint(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  c.epochs = 1;
  ScTrainer *t = new_trainer(&c, NULL, f->ckpt, NULL);
  run_ok(t);
  sc_trainer_free(t);
  g_autofree char *good = g_build_filename(f->ckpt, SC_CHECKPOINT_FILE, NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(good, &bytes, &len, NULL));

  /* One bit flipped in the tensor data, near the end. */
  g_autofree char *flipped = g_build_filename(f->tmp, "flipped.safetensors", NULL);
  bytes[len - 9] ^= 0x10;
  g_assert_true(g_file_set_contents(flipped, bytes, len, NULL));
  assert_refused(flipped, "damaged");
  bytes[len - 9] ^= 0x10;

  /* Cut short, in the data and in the header. */
  g_autofree char *cut = g_build_filename(f->tmp, "cut.safetensors", NULL);
  g_assert_true(g_file_set_contents(cut, bytes, len - 100, NULL));
  assert_refused(cut, "damaged");
  g_assert_true(g_file_set_contents(cut, bytes, 200, NULL));
  assert_refused(cut, "cut short");

  /* The intact file still resumes. */
  ScTrainer *back = new_trainer(&c, good, NULL, NULL);
  g_assert_cmpint(sc_trainer_get_epochs_done(back, SC_RUN_FINETUNE), ==, 1);
  sc_trainer_free(back);
  sc_train_config_clear(&c);
}

/* Resume names the data absolutely and refuses data that changed since the
 * checkpoint, saying what changed. */
static void
test_resume_data_changed(Fixture *f, gconstpointer user_data)
{
  g_autofree char *cwd = g_get_current_dir();
  g_assert_cmpint(g_chdir(f->tmp), ==, 0);
  ScTrainConfig c;
  tiny_config(&c, "fashion", SC_FORMAT_AUTO);
  c.epochs = 1;
  c.runs[SC_RUN_PRETRAIN] = c.runs[SC_RUN_FINETUNE] = FALSE;
  ScTrainer *t = new_trainer(&c, NULL, f->ckpt, NULL);
  g_assert_cmpstr(sc_trainer_get_config(t)->data_path, ==, f->data);
  run_ok(t);
  sc_trainer_free(t);
  g_assert_cmpint(g_chdir(cwd), ==, 0);

  /* Same data: resumes from anywhere. */
  ScTrainConfig other;
  tiny_config(&other, "/nonexistent", SC_FORMAT_AUTO);
  t = new_trainer(&other, f->ckpt, NULL, NULL);
  g_assert_cmpint(sc_trainer_get_epochs_done(t, SC_RUN_BASELINE), ==, 1);
  sc_trainer_free(t);

  const struct {
    size_t n_train;
    int change_pixel;
    const char *what;
  } cases[] = {
    { 30, 0, "train images 40 then, 30 now" },
    { 40, 1, "the first or last images or labels of a split changed" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    sc_test_rmtree(f->data);
    fx_idx_folder(f->data, cases[i].n_train, 12, 28, 28, FALSE);
    if (cases[i].change_pixel) {
      g_autoptr(GByteArray) images = fx_idx_images(40, 28, 28);
      images->data[images->len - 1] ^= 1; /* the last pixel of the last image */
      fx_write(f->data, "train-images-idx3-ubyte", images->data, images->len);
    }
    g_autoptr(GError) error = NULL;
    g_assert_null(sc_trainer_new(&other, f->ckpt, &error));
    g_assert_error(error, SC_CHECKPOINT_ERROR, SC_ERROR_FORMAT);
    if (strstr(error->message, cases[i].what) == NULL
        || strstr(error->message, f->data) == NULL)
      g_error("message \"%s\" lacks \"%s\" or the folder", error->message, cases[i].what);
  }

  /* Data moved away: the message names the checkpoint's folder and says
   * to put the data back. */
  sc_test_rmtree(f->data);
  g_autoptr(GError) error = NULL;
  g_assert_null(sc_trainer_new(&other, f->ckpt, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "put that data back there"));
  g_assert_nonnull(strstr(error->message, f->data));
  sc_train_config_clear(&other);
  sc_train_config_clear(&c);
}

/* Contrastive lr 0: encoder and projection head stay bit-identical, the
 * probe learns. */
static void
test_contrastive_lr_zero(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  c.contrastive_learning_rate = 0.0f;
  c.runs[SC_RUN_BASELINE] = c.runs[SC_RUN_FINETUNE] = FALSE;
  ScTrainer *t = new_trainer(&c, NULL, NULL, NULL);
  ScTrainerModel *pt = &t->models[SC_RUN_PRETRAIN];
  size_t n = pt->params->count, np = t->probe.params->count;
  g_autofree float *before = copy_params(pt, 0, n);
  g_autofree float *probe_before = copy_params(&t->probe, 0, np);
  run_ok(t);
  g_assert_true(memcmp(before, pt->params->params, n * sizeof(float)) == 0);
  g_assert_false(memcmp(probe_before, t->probe.params->params, np * sizeof(float)) == 0);
  g_assert_cmpint(pt->adam->iterations, ==, 2 * sc_trainer_get_steps_per_epoch(t));
  sc_trainer_free(t);
  sc_train_config_clear(&c);
}

/* Finetuning starts from the pretrained encoder (lr 0 keeps it exactly)
 * and then changes it (lr > 0). */
static void
test_finetune_encoder(Fixture *f, gconstpointer user_data)
{
  for (int changes = 0; changes <= 1; changes++) {
    ScTrainConfig c;
    tiny_config(&c, f->data, SC_FORMAT_IDX);
    c.runs[SC_RUN_BASELINE] = FALSE;
    c.learning_rate = changes ? 0.01f : 0.0f;
    ScTrainer *t = new_trainer(&c, NULL, NULL, NULL);
    ScTrainerModel *pt = &t->models[SC_RUN_PRETRAIN], *ft = &t->models[SC_RUN_FINETUNE];
    size_t n = ft->encoder->param_count;
    g_autofree float *initial = copy_params(pt, 0, n);
    run_ok(t);
    /* Pretraining moved its encoder away from the shared initial draw. */
    g_assert_false(memcmp(initial, pt->params->params, n * sizeof(float)) == 0);
    gboolean same = memcmp(pt->params->params, ft->params->params, n * sizeof(float)) == 0;
    g_assert_cmpint(same, ==, !changes);
    sc_trainer_free(t);
    sc_train_config_clear(&c);
  }
}

static void
assert_numeric_stop(Fixture *f, gboolean contrastive, const char *run_title)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  if (contrastive)
    c.contrastive_learning_rate = 1e30f;
  else
    c.learning_rate = 1e30f;
  ScTrainer *t = new_trainer(&c, NULL, f->ckpt, NULL);
  g_autoptr(GError) error = run_fails(t, SC_ERROR_NUMERIC);
  g_test_message("%s", error->message);
  g_autofree char *prefix = g_strdup_printf("%s stopped at epoch ", run_title);
  g_assert_true(g_str_has_prefix(error->message, prefix));
  g_assert_nonnull(strstr(error->message, ", step "));
  g_assert_nonnull(strstr(error->message, contrastive ? "--contrastive-lr" : "--lr"));
  sc_trainer_free(t);
  if (contrastive) {
    /* The checkpoint before the divergence stays usable, its weights finite. */
    ScTrainer *back = new_trainer(&c, f->ckpt, NULL, NULL);
    g_assert_cmpint(sc_trainer_get_epochs_done(back, SC_RUN_BASELINE), ==, 2);
    g_assert_cmpint(sc_trainer_get_epochs_done(back, SC_RUN_PRETRAIN), ==, 0);
    const ScParams *p = back->models[SC_RUN_PRETRAIN].params;
    for (size_t i = 0; i < p->count; i++)
      g_assert_true(isfinite(p->params[i]));
    sc_trainer_free(back);
  }
  sc_train_config_clear(&c);
}

/* With a temperature far below the reference's, the message points at it. */
static void
test_nan_hint_temperature(Fixture *f, gconstpointer user_data)
{
  const float temperatures[] = { 0.1f, 1e-3f };
  for (size_t i = 0; i < G_N_ELEMENTS(temperatures); i++) {
    ScTrainConfig c;
    tiny_config(&c, f->data, SC_FORMAT_IDX);
    c.runs[SC_RUN_BASELINE] = c.runs[SC_RUN_FINETUNE] = FALSE;
    c.temperature = temperatures[i];
    c.contrastive_learning_rate = 1e30f;
    ScTrainer *t = new_trainer(&c, NULL, NULL, NULL);
    g_autoptr(GError) error = run_fails(t, SC_ERROR_NUMERIC);
    g_assert_nonnull(strstr(error->message, "--contrastive-lr"));
    g_assert_true((strstr(error->message, "--temperature") != NULL) == (i == 1));
    sc_trainer_free(t);
    sc_train_config_clear(&c);
  }
}

static void
test_nan_stops(Fixture *f, gconstpointer user_data)
{
  assert_numeric_stop(f, FALSE, "Baseline");
  assert_numeric_stop(f, TRUE, "Pretraining");
}

/* A failed write names the file asked for and why, never the temporary
 * file beside it, and leaves nothing in its folder. */
static void
assert_write_error(const GError *error, GQuark domain, const char *path, const char *why)
{
  g_assert_error(error, domain, SC_ERROR_IO);
  g_autofree char *start = g_strdup_printf("Cannot write %s: ", path);
  if (!g_str_has_prefix(error->message, start) || strstr(error->message, why) == NULL)
    g_error("\"%s\" does not start with \"%s\" and say \"%s\"", error->message, start,
            why);
  g_autofree char *dir = g_path_get_dirname(path);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  g_autofree char *base = g_path_get_basename(path);
  g_autofree char *tmp_prefix = g_strconcat(base, ".", NULL);
  while (d != NULL && (name = g_dir_read_name(d)) != NULL)
    g_assert_false(g_str_has_prefix(name, tmp_prefix));
}

/* History, checkpoint and encoder writers on paths they cannot write. */
static void
test_write_errors(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  c.epochs = 1;
  c.runs[SC_RUN_BASELINE] = c.runs[SC_RUN_FINETUNE] = FALSE;
  /* The checkpoint's name taken by a folder: the rename fails. */
  g_autofree char *ckpt = g_build_filename(f->ckpt, SC_CHECKPOINT_FILE, NULL);
  g_assert_cmpint(g_mkdir_with_parents(ckpt, 0755), ==, 0);
  ScTrainer *t = new_trainer(&c, NULL, f->ckpt, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_trainer_run(t, &error));
  assert_write_error(error, SC_CHECKPOINT_ERROR, ckpt, "is a folder");
  g_clear_error(&error);

  g_autofree char *missing = g_build_filename(f->tmp, "no-such-folder", NULL);
  g_autofree char *csv = g_build_filename(missing, "history.csv", NULL);
  g_autofree char *json = g_build_filename(missing, "history.json", NULL);
  g_autofree char *encoder = g_build_filename(missing, "encoder.safetensors", NULL);
  g_autofree char *why = g_strdup_printf("its folder %s does not exist", missing);
  g_assert_false(sc_trainer_write_history_csv(t, csv, &error));
  assert_write_error(error, SC_TRAINER_ERROR, csv, why);
  g_clear_error(&error);
  g_assert_false(sc_trainer_write_history_json(t, json, &error));
  assert_write_error(error, SC_TRAINER_ERROR, json, why);
  g_clear_error(&error);
  sc_trainer_free(t);

  t = new_trainer(&c, NULL, NULL, NULL);
  run_ok(t);
  g_assert_false(sc_trainer_export_encoder(t, encoder, &error));
  assert_write_error(error, SC_CHECKPOINT_ERROR, encoder, why);
  g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
  sc_trainer_free(t);
  sc_train_config_clear(&c);
}

static void
test_export_encoder(Fixture *f, gconstpointer user_data)
{
  ScTrainConfig c;
  tiny_config(&c, f->data, SC_FORMAT_IDX);
  c.epochs = 1;
  c.runs[SC_RUN_BASELINE] = c.runs[SC_RUN_FINETUNE] = FALSE;
  ScTrainer *t = new_trainer(&c, NULL, NULL, NULL);
  g_autofree char *path = g_build_filename(f->tmp, "encoder.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_trainer_export_encoder(t, path, &error));
  g_assert_error(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  run_ok(t);
  g_assert_true(sc_trainer_export_encoder(t, path, &error));
  g_assert_no_error(error);

  g_autoptr(ScSafetensors) st = sc_safetensors_read(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(sc_safetensors_metadata(st, "run"), ==, "pretrain");
  g_assert_false(sc_safetensors_has(st, "head.dense0.kernel"));
  /* The first convolution's kernel, 3x3x3x8 HWIO, as trained. */
  const ScNet *enc = t->models[SC_RUN_PRETRAIN].encoder;
  float kernel[3 * 3 * 3 * 8];
  g_assert_true(sc_safetensors_get(st, "encoder.conv0.kernel", kernel, G_N_ELEMENTS(kernel),
                                   &error));
  g_assert_no_error(error);
  g_assert_true(memcmp(kernel, enc->params, sizeof kernel) == 0);
  size_t total = 0;
  for (int i = 0; i < enc->n_layers; i++)
    if (enc->layers[i].weight_count > 0)
      total += enc->layers[i].weight_count + enc->layers[i].bias_count;
  g_assert_cmpuint(total, ==, enc->param_count);
  sc_trainer_free(t);
  sc_train_config_clear(&c);
}

static void
test_finetune_needs_pretrain(void)
{
  ScTrainConfig c;
  tiny_config(&c, "/nonexistent", SC_FORMAT_AUTO);
  c.runs[SC_RUN_PRETRAIN] = FALSE;
  g_autoptr(GError) error = NULL;
  g_assert_false(sc_train_config_validate(&c, &error));
  g_assert_error(error, SC_TRAINER_ERROR, SC_ERROR_INVALID_ARGUMENT);
  g_assert_true(g_str_has_prefix(error->message, "--runs: "));
  sc_train_config_clear(&c);
}

/* A history.json edited by hand: a member of the wrong type is named in
 * the error (not read as a NULL string or a truncated number). */
static void
write_history_with(const char *path, const char *member, JsonNode *value)
{
  ScTrainConfig c;
  sc_train_config_init_default(&c);
  c.data_path = g_strdup("/data/fashion");
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "config");
  sc_train_config_to_json(&c, b);
  json_builder_set_member_name(b, "history");
  json_builder_begin_object(b);
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  if (member != NULL) {
    JsonObject *config = json_object_get_object_member(json_node_get_object(root), "config");
    if (value != NULL)
      json_object_set_member(config, member, value);
    else
      json_object_remove_member(config, member);
  }
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  g_autoptr(GError) error = NULL;
  g_assert_true(json_generator_to_file(gen, path, &error));
  g_assert_no_error(error);
  sc_train_config_clear(&c);
}

static void
test_history_json_types(void)
{
  g_autofree char *tmp = sc_test_mkdtemp();
  g_autofree char *path = g_build_filename(tmp, "history.json", NULL);
  GArray *history[SC_N_RUNS];
  for (int r = 0; r < SC_N_RUNS; r++)
    history[r] = g_array_new(FALSE, FALSE, sizeof(ScEpochMetrics));
  ScTrainConfig c;
  sc_train_config_init_default(&c);
  g_autoptr(GError) error = NULL;
  write_history_with(path, NULL, NULL);
  g_assert_true(sc_trainer_read_history_json(path, &c, history, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(c.data_path, ==, "/data/fashion");
  /* A seed typed as a number is taken as well. */
  write_history_with(path, "seed", json_node_init_int(json_node_alloc(), 5));
  g_assert_true(sc_trainer_read_history_json(path, &c, history, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(c.seed, ==, 5);

  struct {
    const char *member;
    JsonNode *value;
    const char *said;
  } cases[] = {
    { "data", json_node_init_int(json_node_alloc(), 5), "\"data\" must be a string" },
    { "seed", json_node_init_int(json_node_alloc(), -5), "\"seed\" must be a whole" },
    { "seed", json_node_init_string(json_node_alloc(), "4x"), "\"seed\" must be a whole" },
    { "seed", json_node_init_string(json_node_alloc(), "-1"), "\"seed\" must be a whole" },
    { "seed", json_node_init_string(json_node_alloc(), " 42"), "\"seed\" must be a whole" },
    { "seed", json_node_init_string(json_node_alloc(), "18446744073709551616"),
      "\"seed\" must be a whole" },
    { "epochs", json_node_init_double(json_node_alloc(), 1.7), "\"epochs\" must be a whole" },
    { "epochs", json_node_init_int(json_node_alloc(), G_GINT64_CONSTANT(4294967297)),
      "\"epochs\" must be a whole number from 0 to 2147483647" },
    { "lr", json_node_init_string(json_node_alloc(), "fast"), "\"lr\" must be a number" },
    { "knn", json_node_init_int(json_node_alloc(), 1), "\"knn\" must be true or false" },
    { "runs", json_node_init_string(json_node_alloc(), "baseline"),
      "\"runs\" must be a list of run names" },
    { "lr", NULL, "\"lr\" is missing" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    write_history_with(path, cases[i].member, cases[i].value);
    g_clear_error(&error);
    g_assert_false(sc_trainer_read_history_json(path, &c, history, &error));
    g_assert_error(error, SC_TRAINER_ERROR, SC_ERROR_FORMAT);
    g_test_message("%s", error->message);
    g_assert_true(g_str_has_prefix(error->message, path));
    g_assert_nonnull(strstr(error->message, cases[i].said));
  }
  /* Histories that cannot be of this configuration: an accuracy in percent,
   * more epochs than configured (2 here). */
  const char *const histories[][2] = {
    { "{\"baseline\": [{\"epoch\": 1, \"val_acc\": 55.0}]}",
      "\"val_acc\" is 55, expected a fraction from 0 to 1" },
    { "{\"baseline\": [{\"epoch\": 1}, {\"epoch\": 2}, {\"epoch\": 3}]}",
      "the history of baseline has 3 epochs, more than the 2 of \"config\"" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(histories); i++) {
    write_history_with(path, "epochs", json_node_init_int(json_node_alloc(), 2));
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    char *at = strstr(text, "\"history\":{}");
    g_assert_nonnull(at);
    *at = '\0';
    g_autofree char *edited = g_strdup_printf("%s\"history\":%s%s", text, histories[i][0],
                                              at + strlen("\"history\":{}"));
    g_assert_true(g_file_set_contents(path, edited, -1, NULL));
    g_clear_error(&error);
    g_assert_false(sc_trainer_read_history_json(path, &c, history, &error));
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, histories[i][1]));
  }

  /* Nested a hundred thousand levels deep: refused before json-glib's
   * parser, which recurses per level, could overflow the stack. */
  GString *deep = g_string_new(NULL);
  for (int i = 0; i < 100000; i++)
    g_string_append_c(deep, '[');
  for (int i = 0; i < 100000; i++)
    g_string_append_c(deep, ']');
  g_assert_true(g_file_set_contents(path, deep->str, (gssize)deep->len, NULL));
  g_string_free(deep, TRUE);
  g_clear_error(&error);
  g_assert_false(sc_trainer_read_history_json(path, &c, history, &error));
  g_assert_true(g_str_has_prefix(error->message, path));
  g_assert_nonnull(strstr(error->message, "nested more than 64 levels deep"));
  sc_train_config_clear(&c);
  for (int r = 0; r < SC_N_RUNS; r++)
    g_array_unref(history[r]);
  sc_test_rmtree(tmp);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/trainer/format/idx", test_format_idx);
  g_test_add_func("/trainer/format/cifar10", test_format_cifar10);
  g_test_add_func("/trainer/format/stl10", test_format_stl10);
  g_test_add_func("/trainer/format/folder-knn", test_format_folder_knn);
  g_test_add_func("/trainer/config/finetune-needs-pretrain", test_finetune_needs_pretrain);
  g_test_add_func("/trainer/history-json/types", test_history_json_types);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_idx, fn, fixture_teardown)
  ADD("/trainer/resume-data-changed", test_resume_data_changed);
  ADD("/trainer/all-labeled", test_all_labeled);
  ADD("/trainer/validation-weighting", test_validation_weighting);
  ADD("/trainer/resume-exact", test_resume_exact);
  ADD("/trainer/same-seed-replays", test_same_seed_replays);
  ADD("/trainer/cancel-mid-epoch", test_cancel_mid_epoch);
  ADD("/trainer/pause", test_pause);
  ADD("/trainer/checkpoint/damaged", test_damaged_checkpoint);
  ADD("/trainer/pretrain/contrastive-lr-zero", test_contrastive_lr_zero);
  ADD("/trainer/finetune/encoder", test_finetune_encoder);
  ADD("/trainer/nan-stops", test_nan_stops);
  ADD("/trainer/write-errors", test_write_errors);
  ADD("/trainer/nan-hint-temperature", test_nan_hint_temperature);
  ADD("/trainer/export-encoder", test_export_encoder);
#undef ADD
  return g_test_run();
}
