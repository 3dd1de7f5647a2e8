/* Test helpers for downloads: a tar.gz made in memory with libarchive, and
 * a libsoup server on 127.0.0.1 (a free port, its own thread) that serves
 * one body at one path in the ways a real server succeeds and fails. One
 * server per process. Nothing here reaches beyond the loopback address. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;  /* path inside the archive; ends in '/' for a folder */
  GBytes *data;      /* NULL for a folder */
} ScTestEntry;

/* A tar.gz in memory holding entries (ended by { NULL }). */
GBytes *sc_test_targz(const ScTestEntry *entries);

typedef enum {
  SC_SERVE_WHOLE,        /* 200, or 206 for a Range request */
  SC_SERVE_IGNORE_RANGE, /* always 200 with the whole body */
  SC_SERVE_CUT,          /* a 200 whose connection closes after cut_bytes */
  SC_SERVE_STATUS,       /* an empty response with `status` */
  SC_SERVE_STALL,        /* a 200 that sends cut_bytes, then waits (10 s at most)
                          * for the client to hang up */
  SC_SERVE_INTERRUPT,    /* like SC_SERVE_STALL, with SIGINT to this process
                          * once the bytes are sent */
} ScServeMode;

/* Serves body at path (e.g. "/stl10_binary.tar.gz"; other paths get 404) in
 * SC_SERVE_WHOLE mode; returns the port. */
guint sc_test_server_start(const char *path, GBytes *body);
void sc_test_server_stop(void);
/* How the next requests are answered. */
void sc_test_server_set(ScServeMode mode, guint status, gsize cut_bytes);
/* Requests received since the start. */
guint sc_test_server_requests(void);
/* The Range header of the last request, or NULL when it had none. */
char *sc_test_server_last_range(void);
/* TRUE once a client hung up on a stalled or interrupted response. */
gboolean sc_test_server_hung_up(void);

G_END_DECLS
