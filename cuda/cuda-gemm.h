/* Row-major products through column-major cuBLAS.
 *
 * A row-major (rows, cols) matrix with leading dimension ld is, read by
 * cuBLAS, the column-major (cols, rows) transpose with the same ld. So
 * row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS
 * gets the operands swapped, each with its own transpose flag, and m and n
 * exchanged; nothing moves in memory. Plain C, shared by the backend and
 * a host test that checks the mapping against a row-major product. */
#pragma once

#include <cublas_api.h>
#include <stdbool.h>

typedef struct {
  cublasOperation_t op_a, op_b; /* cuBLAS's first and second operand */
  int m, n, k;                  /* cuBLAS's (column-major) sizes */
  const float *a, *b;
  int lda, ldb;
} ScCublasGemm;

/* The cuBLAS call that computes row-major C (m, n) = op(a) op(b), op(a)
 * (m, k), op(b) (k, n); C keeps its pointer and leading dimension. */
static inline ScCublasGemm
sc_cublas_gemm_rowmajor(bool trans_a, bool trans_b, int m, int n, int k, const float *a,
                        int lda, const float *b, int ldb)
{
  ScCublasGemm g = {
    trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
    n, m, k, b, a, ldb, lda,
  };
  return g;
}
