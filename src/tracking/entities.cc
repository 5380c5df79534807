#include "mltrack/entities.h"

#include <array>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack {
namespace {

constexpr std::array<std::pair<RunStatus, std::string_view>, 5> kStatuses = {{
    {RunStatus::kRunning, "RUNNING"},
    {RunStatus::kScheduled, "SCHEDULED"},
    {RunStatus::kFinished, "FINISHED"},
    {RunStatus::kFailed, "FAILED"},
    {RunStatus::kKilled, "KILLED"},
}};

constexpr std::array<std::pair<ViewType, std::string_view>, 3> kViews = {{
    {ViewType::kActiveOnly, "ACTIVE_ONLY"},
    {ViewType::kDeletedOnly, "DELETED_ONLY"},
    {ViewType::kAll, "ALL"},
}};

}  // namespace

std::string_view RunStatusName(RunStatus status) {
  for (const auto& [s, name] : kStatuses) {
    if (s == status) return name;
  }
  return "RUNNING";
}

RunStatus ParseRunStatus(std::string_view name) {
  for (const auto& [s, n] : kStatuses) {
    if (n == name) return s;
  }
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid run status '{}': expected one of RUNNING, SCHEDULED, "
                          "FINISHED, FAILED, KILLED",
                          name));
}

bool IsTerminal(RunStatus status) {
  return status == RunStatus::kFinished || status == RunStatus::kFailed ||
         status == RunStatus::kKilled;
}

std::string_view LifecycleStageName(LifecycleStage stage) {
  return stage == LifecycleStage::kActive ? "active" : "deleted";
}

std::string_view ViewTypeName(ViewType view) {
  for (const auto& [v, name] : kViews) {
    if (v == view) return name;
  }
  return "ACTIVE_ONLY";
}

ViewType ParseViewType(std::string_view name) {
  for (const auto& [v, n] : kViews) {
    if (n == name) return v;
  }
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid view type '{}': expected one of ACTIVE_ONLY, DELETED_ONLY, ALL",
                          name));
}

}  // namespace mltrack
