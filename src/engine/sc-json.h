/* JSON text parsed with a bound on its nesting: json-glib's parser recurses
 * once per level, so a hand-made file of a hundred thousand '[' would
 * overflow the stack. Our files nest a few levels deep. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SC_JSON_MAX_DEPTH 64

/* Like json_parser_load_from_data (length -1: up to the NUL), but text
 * nested deeper than SC_JSON_MAX_DEPTH is refused first with a
 * G_IO_ERROR_INVALID_DATA that says so. */
gboolean sc_json_load_bounded(JsonParser *parser, const char *text, gssize length,
                              GError **error);

/* Whether NODE is a JSON number, whole or not (json-glib reads other
 * values as 0). */
gboolean sc_json_holds_number(JsonNode *node);

G_END_DECLS
