/* The loopback test server and in-memory archives (test-http-server.h). */
#include "test-http-server.h"

#include <archive.h>
#include <archive_entry.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static la_ssize_t
append_cb(struct archive *a, void *user_data, const void *buf, size_t len)
{
  g_byte_array_append(user_data, buf, len);
  return (la_ssize_t)len;
}

GBytes *
sc_test_targz(const ScTestEntry *entries)
{
  GByteArray *out = g_byte_array_new();
  struct archive *a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  g_assert_cmpint(archive_write_open(a, out, NULL, append_cb, NULL), ==, ARCHIVE_OK);
  for (const ScTestEntry *e = entries; e->name != NULL; e++) {
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, e->name);
    archive_entry_set_filetype(ae, e->data != NULL ? AE_IFREG : AE_IFDIR);
    archive_entry_set_perm(ae, e->data != NULL ? 0644 : 0755);
    archive_entry_set_size(ae, e->data != NULL ? (la_int64_t)g_bytes_get_size(e->data) : 0);
    g_assert_cmpint(archive_write_header(a, ae), ==, ARCHIVE_OK);
    if (e->data != NULL) {
      gsize len;
      const void *data = g_bytes_get_data(e->data, &len);
      g_assert_cmpint(archive_write_data(a, data, len), ==, (la_ssize_t)len);
    }
    archive_entry_free(ae);
  }
  g_assert_cmpint(archive_write_close(a), ==, ARCHIVE_OK);
  archive_write_free(a);
  return g_byte_array_free_to_bytes(out);
}

typedef struct {
  GMutex lock;
  GCond cond;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  guint port;
  char *path;         /* where body is served */
  GBytes *body;
  ScServeMode mode;   /* under lock, as the fields below */
  guint status;
  gsize cut_bytes;
  guint n_requests;
  char *last_range;
  gboolean hung_up;
} TestServer;

static TestServer server;

/* Writes a raw 200 announcing the whole body and sends its first cut_bytes. */
static GIOStream *
send_head_and_part(SoupServerMessage *msg, GBytes *body, gsize cut_bytes)
{
  GIOStream *io = soup_server_message_steal_connection(msg);
  gsize len;
  const guint8 *data = g_bytes_get_data(body, &len);
  g_autofree char *head = g_strdup_printf("HTTP/1.1 200 OK\r\nContent-Type: application/gzip"
                                          "\r\nContent-Length: %zu\r\n\r\n", len);
  GOutputStream *out = g_io_stream_get_output_stream(io);
  g_output_stream_write_all(out, head, strlen(head), NULL, NULL, NULL);
  g_output_stream_write_all(out, data, MIN(cut_bytes, len), NULL, NULL, NULL);
  g_output_stream_flush(out, NULL, NULL);
  return io;
}

static void
serve_cut(SoupServerMessage *msg, GBytes *body, gsize cut_bytes)
{
  g_autoptr(GIOStream) io = send_head_and_part(msg, body, cut_bytes);
  g_io_stream_close(io, NULL, NULL);
}

/* Blocks the server thread until the client hangs up (10 s at most). */
static void
serve_stall(SoupServerMessage *msg, GBytes *body, gsize cut_bytes, gboolean interrupt)
{
  g_autoptr(GIOStream) io = send_head_and_part(msg, body, cut_bytes);
  if (G_IS_SOCKET_CONNECTION(io))
    g_socket_set_timeout(g_socket_connection_get_socket(G_SOCKET_CONNECTION(io)), 10);
  if (interrupt)
    kill(getpid(), SIGINT);
  guint8 sink[256];
  while (g_input_stream_read(g_io_stream_get_input_stream(io), sink, sizeof sink, NULL,
                             NULL) > 0)
    ;
  g_io_stream_close(io, NULL, NULL);
  g_mutex_lock(&server.lock);
  server.hung_up = TRUE;
  g_mutex_unlock(&server.lock);
}

static void
serve_range(SoupServerMessage *msg, GBytes *body)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
  gsize len;
  const char *data = g_bytes_get_data(body, &len);
  SoupRange *ranges;
  int n_ranges;
  if (!soup_message_headers_get_ranges(request, (goffset)len, &ranges, &n_ranges)) {
    soup_server_message_set_status(msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, NULL);
    return;
  }
  goffset start = ranges[0].start, end = ranges[0].end;
  soup_message_headers_free_ranges(request, ranges);
  soup_server_message_set_status(msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
  soup_server_message_set_response(msg, "application/gzip", SOUP_MEMORY_COPY, data + start,
                                   (gsize)(end - start + 1));
  soup_message_headers_set_content_range(response, start, end, (goffset)len);
}

static void
handle_request(SoupServer *soup_server, SoupServerMessage *msg, const char *path,
               GHashTable *query, gpointer user_data)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
  g_mutex_lock(&server.lock);
  server.n_requests++;
  g_free(server.last_range);
  server.last_range = g_strdup(soup_message_headers_get_one(request, "Range"));
  ScServeMode mode = server.mode;
  guint status = server.status;
  gsize cut_bytes = server.cut_bytes;
  g_mutex_unlock(&server.lock);

  if (strcmp(path, server.path) != 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (mode == SC_SERVE_STATUS) {
    soup_server_message_set_status(msg, status, NULL);
  } else if (mode == SC_SERVE_CUT) {
    serve_cut(msg, server.body, cut_bytes);
  } else if (mode == SC_SERVE_STALL || mode == SC_SERVE_INTERRUPT) {
    serve_stall(msg, server.body, cut_bytes, mode == SC_SERVE_INTERRUPT);
  } else if (mode == SC_SERVE_WHOLE && soup_message_headers_get_one(request, "Range") != NULL) {
    serve_range(msg, server.body);
  } else {
    /* Without the header SoupServer does not answer the range by itself. */
    soup_message_headers_remove(request, "Range");
    gsize len;
    const void *data = g_bytes_get_data(server.body, &len);
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response(msg, "application/gzip", SOUP_MEMORY_COPY, data, len);
  }
}

static gpointer
server_thread(gpointer data)
{
  g_main_context_push_thread_default(server.context);
  SoupServer *soup_server = soup_server_new(NULL, NULL);
  soup_server_add_handler(soup_server, NULL, handle_request, NULL, NULL);
  g_autoptr(GError) error = NULL;
  soup_server_listen_local(soup_server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error(error);
  GSList *uris = soup_server_get_uris(soup_server);
  g_mutex_lock(&server.lock);
  server.port = (guint)g_uri_get_port(uris->data);
  g_cond_signal(&server.cond);
  g_mutex_unlock(&server.lock);
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);

  g_main_loop_run(server.loop);
  soup_server_disconnect(soup_server);
  g_object_unref(soup_server);
  g_main_context_pop_thread_default(server.context);
  return NULL;
}

guint
sc_test_server_start(const char *path, GBytes *body)
{
  g_assert_null(server.thread);
  server.path = g_strdup(path);
  server.body = g_bytes_ref(body);
  server.mode = SC_SERVE_WHOLE;
  server.port = 0;
  server.n_requests = 0;
  server.hung_up = FALSE;
  server.context = g_main_context_new();
  server.loop = g_main_loop_new(server.context, FALSE);
  g_mutex_lock(&server.lock);
  server.thread = g_thread_new("test-server", server_thread, NULL);
  while (server.port == 0)
    g_cond_wait(&server.cond, &server.lock);
  g_mutex_unlock(&server.lock);
  return server.port;
}

void
sc_test_server_stop(void)
{
  g_main_loop_quit(server.loop);
  g_thread_join(g_steal_pointer(&server.thread));
  g_clear_pointer(&server.loop, g_main_loop_unref);
  g_clear_pointer(&server.context, g_main_context_unref);
  g_clear_pointer(&server.body, g_bytes_unref);
  g_clear_pointer(&server.path, g_free);
  g_clear_pointer(&server.last_range, g_free);
}

void
sc_test_server_set(ScServeMode mode, guint status, gsize cut_bytes)
{
  g_mutex_lock(&server.lock);
  server.mode = mode;
  server.status = status;
  server.cut_bytes = cut_bytes;
  g_mutex_unlock(&server.lock);
}

guint
sc_test_server_requests(void)
{
  g_mutex_lock(&server.lock);
  guint n = server.n_requests;
  g_mutex_unlock(&server.lock);
  return n;
}

char *
sc_test_server_last_range(void)
{
  g_mutex_lock(&server.lock);
  char *range = g_strdup(server.last_range);
  g_mutex_unlock(&server.lock);
  return range;
}

gboolean
sc_test_server_hung_up(void)
{
  g_mutex_lock(&server.lock);
  gboolean hung_up = server.hung_up;
  g_mutex_unlock(&server.lock);
  return hung_up;
}
