// The one exception type of mltrack, and the error codes it carries.
//
// Codes mirror MLflow's `databricks_pb2.ErrorCode` names so that a REST error body
// (`{"error_code": "RESOURCE_DOES_NOT_EXIST", ...}`) and a local store failure are the same
// Error. An Error is thrown where the failure is found, with a message a user can act on, and
// caught only at boundaries: the HTTP route wrapper, the CLI's main, and background threads.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mltrack {

enum class ErrorCode {
  kInternalError,
  kInvalidParameterValue,
  kResourceDoesNotExist,
  kResourceAlreadyExists,
  kInvalidState,
  kBadRequest,
  kResourceLimitExceeded,
  kTemporarilyUnavailable,
  kPermissionDenied,
  kEndpointNotFound,
  kIoError,
};

// MLflow's wire name, e.g. "INVALID_PARAMETER_VALUE".
std::string_view ErrorCodeName(ErrorCode code);
// The inverse of ErrorCodeName; nullopt for a name mltrack does not know.
std::optional<ErrorCode> ErrorCodeFromName(std::string_view name);
// The HTTP status MLflow's server answers with for this code (RESOURCE_ALREADY_EXISTS is 400).
int HttpStatusFor(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message)
      : std::runtime_error(std::move(message)), code_(code) {}

  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace mltrack
