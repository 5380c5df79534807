// AccumulateNormalEquations with AVX2 and fused multiply-adds (16 vector registers). On x86-64
// this file alone is compiled with -mavx2 -mfma (see CMakeLists.txt), and normal_equations.cc
// calls it only on CPUs that have them; elsewhere it forwards to the portable kernel and is
// never chosen.
#define MLT_KERNEL_NAME AccumulateNormalEquationsAvx2
#define MLT_SOLVE_NAME SolveNormalEquationsAvx2
#define MLT_KERNEL_REGISTERS 12
#if !(defined(__AVX2__) && defined(__FMA__))
#define MLT_KERNEL_FORWARD
#endif
#include "models/als/normal_equations_kernel.inc"
