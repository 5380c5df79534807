#include "models/als/als_options.h"

#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "mltrack/client.h"
#include "mltrack/error.h"

namespace mltrack::als {
namespace {

[[noreturn]] void Invalid(std::string_view option, std::string_view value,
                          std::string_view requirement) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid option {}={}: {}", option, value, requirement));
}

void CheckRange(std::string_view option, int value, int low, int high) {
  if (value < low || value > high) {
    Invalid(option, std::to_string(value), fmt::format("must be between {} and {}", low, high));
  }
}

const char* Bool(bool value) { return value ? "true" : "false"; }

}  // namespace

const char* ColdStartName(ColdStart strategy) {
  return strategy == ColdStart::kDrop ? "drop" : "nan";
}

ColdStart ParseColdStart(const std::string& name) {
  if (name == "nan") return ColdStart::kNan;
  if (name == "drop") return ColdStart::kDrop;
  Invalid("cold_start", name, "must be nan or drop");
}

void AlsOptions::Validate() const {
  CheckRange("rank", rank, 1, 1000);
  if (!(reg >= 0) || !std::isfinite(reg)) {
    Invalid("reg", FormatParamValue(reg), "must be a number >= 0");
  }
  if (max_iter < 1) Invalid("max_iter", std::to_string(max_iter), "must be at least 1");
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    Invalid("alpha", FormatParamValue(alpha), "must be a number >= 0");
  }
  if (biases && implicit) {
    Invalid("biases", "true", "biases apply to explicit feedback only");
  }
  if (solver != "cholesky" && solver != "cg") {
    Invalid("solver", solver, "must be cholesky or cg");
  }
  if (solver == "cg" && !implicit) {
    Invalid("solver", solver, "cg applies to implicit feedback only");
  }
  if (solver == "cg" && nonnegative) {
    Invalid("solver", solver, "nonnegative factors need the cholesky solver");
  }
  CheckRange("cg_steps", cg_steps, 1, 100);
  if (threads < 0) Invalid("threads", std::to_string(threads), "must be >= 0 (0: every core)");
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
