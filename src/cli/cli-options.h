/* simclr-train's command line: flags to a training configuration. */
#pragma once

#include "trainer.h"

G_BEGIN_DECLS

/* Exit statuses, as --help documents them. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILED = 1,      /* training or writing failed; message on stderr */
  CLI_EXIT_USAGE = 2,       /* bad command line; the message names the flag */
  CLI_EXIT_INTERRUPTED = 130, /* Ctrl-C: stopped, the last checkpoint kept */
  CLI_EXIT_TERMINATED = 143,  /* SIGTERM: the same */
};

typedef struct {
  ScTrainConfig config;
  char *out_dir;      /* NULL: write no files */
  char *resume_dir;   /* NULL: start afresh */
  char *preview_path; /* non-NULL: write only the preview figure there */
  char *download_dir; /* non-NULL: only download STL-10 into it */
  /* --backend and --threads as given, for the resume command; NULL or 0 when
   * left at the default. */
  char *backend_flag;
  int threads_flag;
} CliOptions;

/* Parses argv into options (defaults first, flags on top) and checks every
 * value: on failure the message names the flag. *argc and *argv are those
 * of main. */
gboolean cli_options_parse(int *argc, char ***argv, CliOptions *options, GError **error);
void cli_options_clear(CliOptions *options);

/* The data folder the options read: --data, else the default data set. */
const char *cli_options_data_dir(const CliOptions *options);

/* The checkpoint file inside a --resume or --out folder. */
char *cli_checkpoint_path(const char *dir);

G_END_DECLS
