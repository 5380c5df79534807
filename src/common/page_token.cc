#include "common/page_token.h"

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mltrack/error.h"

namespace mltrack {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string Base64Decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    int v = DecodeChar(c);
    if (v < 0) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("invalid base64 character '{}'", c));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string EncodePageToken(int64_t offset) {
  // Byte-identical to MLflow's tokens: json.dumps({"offset": N}) puts a space after the colon.
  return Base64Encode(fmt::format("{{\"offset\": {}}}", offset));
}

int64_t DecodePageToken(std::string_view token) {
  if (token.empty()) return 0;
  try {
    auto json = nlohmann::json::parse(Base64Decode(token));
    const auto& value = json.at("offset");
    if (!value.is_number_integer()) throw std::invalid_argument("offset is not an integer");
    int64_t offset = value.get<int64_t>();
    if (offset < 0) throw std::out_of_range("negative offset");
    return offset;
  } catch (const std::exception&) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid page token '{}': it was not issued by this server", token));
  }
}

}  // namespace mltrack
