#include "mltrack/error.h"

#include <array>
#include <utility>

namespace mltrack {
namespace {

struct CodeRow {
  ErrorCode code;
  std::string_view name;
  int http_status;
};

// One table maps each code to MLflow's wire name and the status MLflow's server answers with.
constexpr std::array kCodes = {
    CodeRow{ErrorCode::kInternalError, "INTERNAL_ERROR", 500},
    CodeRow{ErrorCode::kInvalidParameterValue, "INVALID_PARAMETER_VALUE", 400},
    CodeRow{ErrorCode::kResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", 404},
    CodeRow{ErrorCode::kResourceAlreadyExists, "RESOURCE_ALREADY_EXISTS", 400},
    CodeRow{ErrorCode::kInvalidState, "INVALID_STATE", 400},
    CodeRow{ErrorCode::kBadRequest, "BAD_REQUEST", 400},
    CodeRow{ErrorCode::kResourceLimitExceeded, "RESOURCE_LIMIT_EXCEEDED", 400},
    CodeRow{ErrorCode::kTemporarilyUnavailable, "TEMPORARILY_UNAVAILABLE", 503},
    CodeRow{ErrorCode::kPermissionDenied, "PERMISSION_DENIED", 403},
    CodeRow{ErrorCode::kEndpointNotFound, "ENDPOINT_NOT_FOUND", 404},
    CodeRow{ErrorCode::kIoError, "IO_ERROR", 500},
};

const CodeRow& Row(ErrorCode code) {
  for (const auto& row : kCodes) {
    if (row.code == code) return row;
  }
  return kCodes[0];
}

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) { return Row(code).name; }

std::optional<ErrorCode> ErrorCodeFromName(std::string_view name) {
  for (const auto& row : kCodes) {
    if (row.name == name) return row.code;
  }
  return std::nullopt;
}

int HttpStatusFor(ErrorCode code) { return Row(code).http_status; }

}  // namespace mltrack
