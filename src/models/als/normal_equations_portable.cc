// AccumulateNormalEquations on the build's baseline instruction set (any CPU).
#define MLT_KERNEL_NAME AccumulateNormalEquationsPortable
#define MLT_SOLVE_NAME SolveNormalEquationsPortable
#define MLT_KERNEL_REGISTERS 5
#include "models/als/normal_equations_kernel.inc"
