/* Helpers shared by the tests: reference numbers and tolerant comparison. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The parsed reference_values.json (from $SC_REFERENCE_DIR, else
 * tests/reference below the working folder). Aborts the test when missing. */
JsonNode *sc_test_reference(void);

/* The node at a slash-separated path below the reference root,
 * e.g. "ntxent/by_temperature/0.1/S_logits". Aborts when absent. */
JsonNode *sc_test_reference_node(const char *path);
double sc_test_reference_double(const char *path);

/* Flattens a nested array of numbers (row-major) into a new array; *n gets
 * the count. */
double *sc_test_reference_array(const char *path, size_t *n);

/* Asserts |got[i] - want[i]| <= abs_tol + rel_tol * |want[i]| for all i,
 * naming the first element that is off. */
void sc_test_assert_close_f(const char *what, const float *got, const double *want,
                            size_t n, double abs_tol, double rel_tol);
void sc_test_assert_close_d(const char *what, const double *got, const double *want,
                            size_t n, double abs_tol, double rel_tol);

/* A fresh temporary folder, removed with its contents by sc_test_rmtree. */
char *sc_test_mkdtemp(void);
void sc_test_rmtree(const char *path);

G_END_DECLS
