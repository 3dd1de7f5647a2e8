#include "test-util.h"

#include <glib/gstdio.h>
#include <math.h>

static JsonParser *reference_parser;

JsonNode *
sc_test_reference(void)
{
  if (reference_parser != NULL)
    return json_parser_get_root(reference_parser);

  const char *dir = g_getenv("SC_REFERENCE_DIR");
  g_autofree char *path = g_build_filename(dir != NULL ? dir : "tests/reference",
                                           "reference_values.json", NULL);
  g_autoptr(GError) error = NULL;
  reference_parser = json_parser_new();
  if (!json_parser_load_from_file(reference_parser, path, &error))
    g_error("Cannot read the reference numbers %s: %s", path, error->message);
  return json_parser_get_root(reference_parser);
}

JsonNode *
sc_test_reference_node(const char *path)
{
  JsonNode *node = sc_test_reference();
  g_auto(GStrv) parts = g_strsplit(path, "/", -1);
  for (int i = 0; parts[i] != NULL; i++) {
    if (!JSON_NODE_HOLDS_OBJECT(node))
      g_error("Reference path %s: '%s' is not inside an object", path, parts[i]);
    JsonObject *obj = json_node_get_object(node);
    if (!json_object_has_member(obj, parts[i]))
      g_error("Reference path %s: no member '%s'", path, parts[i]);
    node = json_object_get_member(obj, parts[i]);
  }
  return node;
}

double
sc_test_reference_double(const char *path)
{
  return json_node_get_double(sc_test_reference_node(path));
}

static void
flatten(JsonNode *node, GArray *out)
{
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *arr = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(arr); i++)
      flatten(json_array_get_element(arr, i), out);
  } else {
    double v = json_node_get_double(node);
    g_array_append_val(out, v);
  }
}

double *
sc_test_reference_array(const char *path, size_t *n)
{
  GArray *values = g_array_new(FALSE, FALSE, sizeof(double));
  flatten(sc_test_reference_node(path), values);
  *n = values->len;
  return (double *)g_array_free(values, FALSE);
}

static void
assert_close(const char *what, size_t i, double got, double want, double abs_tol,
             double rel_tol)
{
  double err = fabs(got - want);
  if (!(err <= abs_tol + rel_tol * fabs(want))) {
    g_autofree char *msg = g_strdup_printf(
      "%s[%zu]: got %.9g, expected %.9g (difference %.3g, tolerance %.3g + %.3g relative)",
      what, i, got, want, err, abs_tol, rel_tol);
    g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
  }
}

void
sc_test_assert_close_f(const char *what, const float *got, const double *want, size_t n,
                       double abs_tol, double rel_tol)
{
  for (size_t i = 0; i < n; i++)
    assert_close(what, i, got[i], want[i], abs_tol, rel_tol);
}

void
sc_test_assert_close_d(const char *what, const double *got, const double *want, size_t n,
                       double abs_tol, double rel_tol)
{
  for (size_t i = 0; i < n; i++)
    assert_close(what, i, got[i], want[i], abs_tol, rel_tol);
}

char *
sc_test_mkdtemp(void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("simclr-test-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

void
sc_test_rmtree(const char *path)
{
  GDir *dir = g_dir_open(path, 0, NULL);
  if (dir != NULL) {
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
        sc_test_rmtree(child);
      else
        g_unlink(child);
    }
    g_dir_close(dir);
  }
  g_rmdir(path);
}
