#include "models/als/als_options.h"

#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "common/option_check.h"
#include "mltrack/client.h"
#include "mltrack/error.h"

namespace mltrack::als {
namespace {

const char* Bool(bool value) { return value ? "true" : "false"; }

}  // namespace

const char* ColdStartName(ColdStart strategy) {
  return strategy == ColdStart::kDrop ? "drop" : "nan";
}

ColdStart ParseColdStart(const std::string& name) {
  if (name == "nan") return ColdStart::kNan;
  if (name == "drop") return ColdStart::kDrop;
  InvalidOption("cold_start", name, "must be nan or drop");
}

void AlsOptions::Validate() const {
  CheckOptionRange("rank", rank, 1, 1000);
  if (!(reg >= 0) || !std::isfinite(reg)) {
    InvalidOption("reg", FormatParamValue(reg), "must be a number >= 0");
  }
  if (max_iter < 1) InvalidOption("max_iter", std::to_string(max_iter), "must be at least 1");
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    InvalidOption("alpha", FormatParamValue(alpha), "must be a number >= 0");
  }
  if (biases && implicit) {
    InvalidOption("biases", "true", "biases apply to explicit feedback only");
  }
  if (solver != "cholesky" && solver != "cg") {
    InvalidOption("solver", solver, "must be cholesky or cg");
  }
  if (solver == "cg" && !implicit) {
    InvalidOption("solver", solver, "cg applies to implicit feedback only");
  }
  if (solver == "cg" && nonnegative) {
    InvalidOption("solver", solver, "nonnegative factors need the cholesky solver");
  }
  CheckOptionRange("cg_steps", cg_steps, 1, 100);
  if (threads < 0) {
    InvalidOption("threads", std::to_string(threads), "must be >= 0 (0: every core)");
  }
}

std::map<std::string, std::string> AlsOptions::AsParams() const {
  return {
      {"rank", std::to_string(rank)},
      {"reg", FormatParamValue(reg)},
      {"max_iter", std::to_string(max_iter)},
      {"implicit", Bool(implicit)},
      {"alpha", FormatParamValue(alpha)},
      {"nonnegative", Bool(nonnegative)},
      {"biases", Bool(biases)},
      {"solver", solver},
      {"cg_steps", std::to_string(cg_steps)},
      {"cold_start", ColdStartName(cold_start)},
      {"seed", std::to_string(seed)},
  };
}

}  // namespace mltrack::als
