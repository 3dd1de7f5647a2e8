/* simclr-train --download-stl10 (see cli-download.h). */
#include "cli-download.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

typedef struct {
  const ScDownloadSource *source;
  const char *dest_dir;
  gboolean terminal;
  GCancellable *cancellable;
  GMainContext *context;
  gboolean done;          /* set on the main context when the worker ends */
  gboolean ok;
  char *dataset_path;
  GError *error;
  int last_stage;         /* for the plain output: a line per stage ... */
  int last_tenth;         /* ... and per tenth of it */
  gboolean line_open;     /* a redrawn line waits for its newline */
} DownloadRun;

static const char *
stage_name(ScDownloadStage stage)
{
  switch (stage) {
  case SC_DOWNLOAD_STAGE_RESUMING: return "Checking the part kept from before";
  case SC_DOWNLOAD_STAGE_DOWNLOADING: return "Downloading";
  case SC_DOWNLOAD_STAGE_VERIFYING: return "Checking";
  case SC_DOWNLOAD_STAGE_EXTRACTING: return "Unpacking";
  case SC_DOWNLOAD_STAGE_OPENING: return "Opening";
  }
  return "Working";
}

/* "1:02:03" or "2:03". */
static char *
format_eta(double seconds)
{
  long s = (long)(seconds + 0.5);
  if (s >= 3600)
    return g_strdup_printf("%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return g_strdup_printf("%ld:%02ld", s / 60, s % 60);
}

/* "Downloading 1.2 GB of 2.6 GB (45%), 10.3 MB/s, 2:15 left" */
static char *
progress_line(const ScDownloadProgress *p)
{
  GString *line = g_string_new(stage_name(p->stage));
  g_autofree char *done = g_format_size(p->done_bytes);
  if (p->total_bytes > 0) {
    g_autofree char *total = g_format_size(p->total_bytes);
    g_string_append_printf(line, " %s of %s (%.0f%%)", done, total,
                           100.0 * p->done_bytes / p->total_bytes);
  } else if (p->done_bytes > 0) {
    g_string_append_printf(line, " %s", done);
  }
  if (p->rate_bytes_per_s > 0) {
    g_autofree char *rate = g_format_size((guint64)p->rate_bytes_per_s);
    g_string_append_printf(line, ", %s/s", rate);
  }
  if (p->eta_s >= 0 && p->rate_bytes_per_s > 0) {
    g_autofree char *eta = format_eta(p->eta_s);
    g_string_append_printf(line, ", %s left", eta);
  }
  return g_string_free(line, FALSE);
}

/* On the worker thread: stderr only, nothing shared with the main thread. */
static void
progress_cb(const ScDownloadProgress *p, gpointer user_data)
{
  DownloadRun *run = user_data;
  g_autofree char *line = progress_line(p);
  int tenth = p->total_bytes > 0 ? (int)(10 * p->done_bytes / p->total_bytes) : 0;
  if (run->terminal) {
    if (run->line_open && (int)p->stage != run->last_stage)
      fputc('\n', stderr);
    fprintf(stderr, "\r\033[K%s", line);
    run->line_open = TRUE;
  } else if ((int)p->stage != run->last_stage || tenth > run->last_tenth) {
    fprintf(stderr, "%s\n", line);
  }
  fflush(stderr);
  run->last_stage = (int)p->stage;
  run->last_tenth = tenth;
}

static gboolean
worker_done_cb(gpointer user_data)
{
  DownloadRun *run = user_data;
  run->done = TRUE;
  return G_SOURCE_REMOVE;
}

static gpointer
worker(gpointer user_data)
{
  DownloadRun *run = user_data;
  ScDownloadOptions options = {
    .progress = progress_cb,
    .user_data = run,
    .cancellable = run->cancellable,
  };
  run->ok = sc_download_dataset(run->source, run->dest_dir, &options, &run->dataset_path,
                                &run->error);
  g_main_context_invoke(run->context, worker_done_cb, run);
  return NULL;
}

static gboolean
interrupt_cb(gpointer user_data)
{
  DownloadRun *run = user_data;
  g_cancellable_cancel(run->cancellable);
  return G_SOURCE_CONTINUE;
}

int
cli_download_dataset(const ScDownloadSource *source, const char *dest_dir, gboolean terminal)
{
  DownloadRun run = {
    .source = source != NULL ? source : sc_download_source_stl10(),
    .dest_dir = dest_dir,
    .terminal = terminal,
    .cancellable = g_cancellable_new(),
    .context = g_main_context_default(),
    .last_stage = -1,
  };
  guint sigint = g_unix_signal_add(SIGINT, interrupt_cb, &run);
  GThread *thread = g_thread_new("download", worker, &run);
  while (!run.done)
    g_main_context_iteration(run.context, TRUE);
  g_thread_join(thread);
  g_source_remove(sigint);
  if (run.line_open)
    fputc('\n', stderr);

  int status = 0;
  if (run.ok) {
    printf("%s\n", run.dataset_path);
    g_printerr("Ready: train on it with --data %s\n", run.dataset_path);
  } else {
    g_printerr("simclr-train: %s\n", run.error->message);
    status = g_error_matches(run.error, SC_DOWNLOAD_ERROR, SC_DOWNLOAD_ERROR_CANCELLED)
                 ? 130 : 1;
  }
  g_free(run.dataset_path);
  g_clear_error(&run.error);
  g_object_unref(run.cancellable);
  return status;
}
