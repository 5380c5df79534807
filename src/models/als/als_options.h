// Options of the ALS recommender, with Spark MLlib's names and meanings (ALS: rank, regParam,
// maxIter, implicitPrefs, alpha, nonnegative, coldStartStrategy, seed).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace mltrack::als {

// What a prediction for an unknown user or item is: NaN (kNan), or, in evaluation, the pair is
// left out (kDrop), as Spark's coldStartStrategy.
enum class ColdStart { kNan, kDrop };

struct AlsOptions {
  int rank = 10;              // 1 .. 1000
  // Explicit: lambda, scaled by each user's (item's) rating count (weighted-lambda, as Spark);
  // implicit: lambda, scaled likewise by the count of observed pairs.
  double reg = 0.1;           // >= 0
  int max_iter = 10;          // >= 1; each iteration solves users, then items
  bool implicit = false;      // Hu, Koren & Volinsky: confidence 1 + alpha * r, preference r > 0
  double alpha = 1.0;         // >= 0, implicit only
  bool nonnegative = false;   // factors constrained to >= 0 (projected solves)
  bool biases = false;        // explicit only: a global mean, user and item biases
  // Implicit solves: "cholesky" (exact), or "cg" (conjugate gradient warm-started from the
  // previous factors, cg_steps steps, as implicit's solver).
  std::string solver = "cholesky";
  int cg_steps = 3;           // 1 .. 100
  ColdStart cold_start = ColdStart::kNan;
  uint64_t seed = 42;
  int threads = 0;            // per rank; 0: every core

  // Throws Error(kInvalidParameterValue) naming the option and its accepted range, e.g.
  //   "Invalid option rank=0: must be between 1 and 1000"
  //   "Invalid option biases=true: biases apply to explicit feedback only"
  void Validate() const;
  std::map<std::string, std::string> AsParams() const;
};

const char* ColdStartName(ColdStart strategy);      // "nan", "drop"
ColdStart ParseColdStart(const std::string& name);  // Error naming the value otherwise

}  // namespace mltrack::als
