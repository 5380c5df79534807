// AccumulateNormalEquations with AVX-512 VL: 4-double vectors in 32 registers, fused
// multiply-adds. On x86-64 this file alone is compiled with -mavx512f -mavx512vl -mavx2 -mfma
// (see CMakeLists.txt), and normal_equations.cc calls it only on CPUs that have them; elsewhere
// it forwards to the portable kernel and is never chosen.
#define MLT_KERNEL_NAME AccumulateNormalEquationsAvx512
#define MLT_SOLVE_NAME SolveNormalEquationsAvx512
#define MLT_KERNEL_REGISTERS 26
#if !(defined(__AVX512VL__) && defined(__FMA__))
#define MLT_KERNEL_FORWARD
#endif
#include "models/als/normal_equations_kernel.inc"
