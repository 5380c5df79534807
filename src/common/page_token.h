// Page tokens for listings. A token is MLflow's form: base64 of {"offset": N}, so tokens
// made by MLflow's server and by mltrack are interchangeable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mltrack {

std::string EncodePageToken(int64_t offset);
// 0 for an empty token. Throws Error(kInvalidParameterValue, "Invalid page token ...") for a
// token that is not one EncodePageToken made.
int64_t DecodePageToken(std::string_view token);

std::string Base64Encode(std::string_view bytes);
// Throws Error(kInvalidParameterValue) on characters outside the base64 alphabet.
std::string Base64Decode(std::string_view text);

}  // namespace mltrack
