#include "models/logistic/logistic_options.h"

#include <cmath>

#include <fmt/format.h>

#include "common/option_check.h"
#include "mltrack/client.h"
#include "mltrack/error.h"

namespace mltrack::logistic {
namespace {

std::string Number(double value) { return FormatParamValue(value); }

}  // namespace

const char* FamilyName(Family family) {
  switch (family) {
    case Family::kAuto: return "auto";
    case Family::kBinomial: return "binomial";
    case Family::kMultinomial: return "multinomial";
  }
  return "auto";
}

void LogisticOptions::Validate() const {
  if (!(reg >= 0) || !std::isfinite(reg)) {
    InvalidOption("reg", Number(reg), "must be a number >= 0");
  }
  if (!(l1_ratio >= 0 && l1_ratio <= 1)) {
    InvalidOption("l1_ratio", Number(l1_ratio), "must be between 0 and 1");
  }
  if (max_iter < 1) InvalidOption("max_iter", std::to_string(max_iter), "must be at least 1");
  if (!(tol > 0) || !std::isfinite(tol)) InvalidOption("tol", Number(tol), "must be a number > 0");
  if (history < 1) InvalidOption("history", std::to_string(history), "must be at least 1");
  if (threads < 0) {
    InvalidOption("threads", std::to_string(threads), "must be >= 0 (0: every core)");
  }
  for (const auto& [label, weight] : class_weights) {
    if (!(weight >= 0) || !std::isfinite(weight)) {
      InvalidOption("class_weight", fmt::format("{}:{}", label, Number(weight)),
                    "weights must be numbers >= 0");
    }
  }
}

std::map<std::string, std::string> LogisticOptions::AsParams() const {
  std::map<std::string, std::string> params{
      {"reg", Number(reg)},
      {"l1_ratio", Number(l1_ratio)},
      {"fit_intercept", fit_intercept ? "true" : "false"},
      {"standardize", standardize ? "true" : "false"},
      {"family", FamilyName(family)},
      {"max_iter", std::to_string(max_iter)},
      {"tol", Number(tol)},
      {"history", std::to_string(history)},
  };
  switch (class_weighting) {
    case ClassWeighting::kNone: params["class_weight"] = "none"; break;
    case ClassWeighting::kBalanced: params["class_weight"] = "balanced"; break;
    case ClassWeighting::kGiven: {
      std::string text;
      for (const auto& [label, weight] : class_weights) {
        text += fmt::format("{}{}:{}", text.empty() ? "" : ",", label, Number(weight));
      }
      params["class_weight"] = text;
      break;
    }
  }
  return params;
}

}  // namespace mltrack::logistic
