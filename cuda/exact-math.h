// Float arithmetic rounded operation by operation, for code that nvcc
// compiles for both the device and the host (tests).
//
// On the device each multiply, add and divide goes through the
// round-to-nearest intrinsics, which the compiler never fuses into an FMA:
// the CPU build rounds each operation on its own, and so must a kernel that
// is to give the CPU's bits. On the host the plain operators do the same
// (x86-64 without -mfma has no FMA to fuse into).
#pragma once

#include <math.h>

#define SC_HD_FN static inline __host__ __device__

#ifdef __CUDA_ARCH__
SC_HD_FN float sc_fmul(float a, float b) { return __fmul_rn(a, b); }
SC_HD_FN float sc_fadd(float a, float b) { return __fadd_rn(a, b); }
SC_HD_FN float sc_fsub(float a, float b) { return __fsub_rn(a, b); }
SC_HD_FN float sc_fdiv(float a, float b) { return __fdiv_rn(a, b); }
SC_HD_FN float sc_fsqrt(float a) { return __fsqrt_rn(a); }
#else
SC_HD_FN float sc_fmul(float a, float b) { return a * b; }
SC_HD_FN float sc_fadd(float a, float b) { return a + b; }
SC_HD_FN float sc_fsub(float a, float b) { return a - b; }
SC_HD_FN float sc_fdiv(float a, float b) { return a / b; }
SC_HD_FN float sc_fsqrt(float a) { return sqrtf(a); }
#endif
