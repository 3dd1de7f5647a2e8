/* Bounded JSON parsing (see the header). */
#include "sc-json.h"

#include <string.h>

/* The deepest nesting of arrays and objects in text, brackets inside
 * strings not counted. It stops counting once past limit. */
static int
nesting_depth(const char *text, gsize length, int limit)
{
  int depth = 0, deepest = 0;
  gboolean in_string = FALSE, escaped = FALSE;
  for (gsize i = 0; i < length && deepest <= limit; i++) {
    char ch = text[i];
    if (in_string) {
      if (escaped)
        escaped = FALSE;
      else if (ch == '\\')
        escaped = TRUE;
      else if (ch == '"')
        in_string = FALSE;
    } else if (ch == '"') {
      in_string = TRUE;
    } else if (ch == '[' || ch == '{') {
      depth++;
      deepest = MAX(deepest, depth);
    } else if (ch == ']' || ch == '}') {
      depth--;
    }
  }
  return deepest;
}

gboolean
sc_json_load_bounded(JsonParser *parser, const char *text, gssize length, GError **error)
{
  gsize n = length < 0 ? strlen(text) : (gsize)length;
  if (nesting_depth(text, n, SC_JSON_MAX_DEPTH) > SC_JSON_MAX_DEPTH) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "nested more than %d levels deep (arrays or objects within each other)",
                SC_JSON_MAX_DEPTH);
    return FALSE;
  }
  return json_parser_load_from_data(parser, text, (gssize)n, error);
}

gboolean
sc_json_holds_number(JsonNode *node)
{
  GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}
