// Chooses the normal-equation kernel once, by what the CPU supports.
#include "models/als/normal_equations.h"

namespace mltrack::als {
namespace {

std::vector<NormalEquationsKernel> Detect() {
  bool avx2 = false, avx512 = false;
#if defined(__x86_64__)
  __builtin_cpu_init();
  avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#endif
  return {{"avx512", AccumulateNormalEquationsAvx512, SolveNormalEquationsAvx512, avx512},
          {"avx2-fma", AccumulateNormalEquationsAvx2, SolveNormalEquationsAvx2, avx2},
          {"portable", AccumulateNormalEquationsPortable, SolveNormalEquationsPortable, true}};
}

const NormalEquationsKernel& Chosen() {
  static const NormalEquationsKernel chosen = [] {
    for (const NormalEquationsKernel& kernel : Detect()) {
      if (kernel.supported) return kernel;
    }
    return Detect().back();  // unreachable: the portable kernel is always supported
  }();
  return chosen;
}

}  // namespace

std::vector<NormalEquationsKernel> NormalEquationsKernels() { return Detect(); }

const char* ChosenNormalEquationsKernel() { return Chosen().name; }

void AccumulateNormalEquations(const EntityRatings& entity, const RatingTerms& terms, double* g,
                               double* b, double* tt) {
  static const NormalEquationsFn accumulate = Chosen().accumulate;
  accumulate(entity, terms, g, b, tt);
}

bool SolveNormalEquations(double* g, int ld, int d, const double* b, double* x, double* inverse,
                          double* row) {
  static const NormalEquationsSolveFn solve = Chosen().solve;
  return solve(g, ld, d, b, x, inverse, row);
}

}  // namespace mltrack::als
