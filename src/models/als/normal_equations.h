// The hot loop of ALS: one entity's normal equations accumulated from its ratings.
//
// An entity's ratings reference rows of the other side's received factors. Each row has
// `stride` doubles (a multiple of 4): the k factors, then, for the biased model, 1 and the other
// entity's bias, then zeros. With d the solved dimension (k, or k + 1 with biases: the 1 is the
// bias coordinate) and z the first d values of a row, the accumulation adds, for every rating r,
//   explicit:  g += z zᵀ,          b += r z,               tt += r²
//   biased:    g += z zᵀ,          b += t z, t = r − mean − bias_o,   tt += t²
//   implicit:  g += α|r| z zᵀ,     b += (1 + α|r|)[r > 0] z           (tt untouched)
// g is stride × stride, column-major; for a column j < d the rows 0 .. 4⌈(j + 1)/4⌉ − 1 are
// written, of which rows 0..j (the upper triangle) are the sums; the rest of g is left alone.
// b has stride entries, of which the first d are the sums.
//
// Every sum adds the ratings in their given order, one at a time, so the result depends only on
// the ratings and the rows' values, never on where rows live, how many entities a thread takes
// or how many ranks there are. The kernel is chosen once per process by the CPU's instruction
// sets (AVX-512, AVX2 with FMA, or a portable one); all follow the same order, the first two
// with fused multiply-adds.
#pragma once

#include <cstdint>
#include <vector>

namespace mltrack::als {

enum class RatingTerm { kExplicit, kBiased, kImplicit };

struct EntityRatings {
  const double* rows = nullptr;     // the other side's row o starts at rows + o * stride
  int stride = 0;                   // a multiple of 4, >= d (>= d + 1 when biased)
  const int32_t* index = nullptr;   // n row numbers
  const float* rating = nullptr;    // n ratings
  int64_t n = 0;
};

struct RatingTerms {
  RatingTerm term = RatingTerm::kExplicit;
  int d = 0;           // solved dimension, 1 .. stride
  double mean = 0;     // biased: the global mean
  double alpha = 0;    // implicit: the confidence scale
};

// Adds one entity's terms to g, b and *tt as above.
void AccumulateNormalEquations(const EntityRatings& entity, const RatingTerms& terms, double* g,
                               double* b, double* tt);

// Solves (A) x = b for the d × d symmetric positive definite A whose upper triangle g holds as
// above (leading dimension ld), by Cholesky: g becomes the factor U (A = UᵀU). inverse and row
// are d values of scratch. False, with g partly overwritten, when A is not positive definite.
// Specialised for d <= 16 and chosen with the kernel below.
bool SolveNormalEquations(double* g, int ld, int d, const double* b, double* x, double* inverse,
                          double* row);

// The kernels, best first: "avx512" (AVX-512 VL: 32 vector registers), "avx2-fma", "portable"
// (the build's baseline instruction set). AccumulateNormalEquations calls the first one the CPU
// supports; the tests hold every supported one to the same sums.
using NormalEquationsFn = void (*)(const EntityRatings&, const RatingTerms&, double* g,
                                   double* b, double* tt);
using NormalEquationsSolveFn = bool (*)(double* g, int ld, int d, const double* b, double* x,
                                        double* inverse, double* row);
struct NormalEquationsKernel {
  const char* name;
  NormalEquationsFn accumulate;
  NormalEquationsSolveFn solve;
  bool supported;  // by this CPU
};
std::vector<NormalEquationsKernel> NormalEquationsKernels();
const char* ChosenNormalEquationsKernel();

void AccumulateNormalEquationsPortable(const EntityRatings&, const RatingTerms&, double*, double*,
                                       double*);
bool SolveNormalEquationsPortable(double*, int, int, const double*, double*, double*, double*);
bool SolveNormalEquationsAvx2(double*, int, int, const double*, double*, double*, double*);
bool SolveNormalEquationsAvx512(double*, int, int, const double*, double*, double*, double*);
void AccumulateNormalEquationsAvx2(const EntityRatings&, const RatingTerms&, double*, double*,
                                   double*);
void AccumulateNormalEquationsAvx512(const EntityRatings&, const RatingTerms&, double*, double*,
                                     double*);

// The row stride for rank k: room for the factors (and, biased, the 1 and the bias), rounded up
// to a multiple of 4 doubles.
constexpr int NormalEquationsStride(int k, bool biased) { return (k + (biased ? 2 : 0) + 3) / 4 * 4; }

}  // namespace mltrack::als
