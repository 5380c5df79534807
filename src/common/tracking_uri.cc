#include "common/tracking_uri.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "common/text.h"
#include "mltrack/error.h"

namespace mltrack {
namespace {

constexpr std::string_view kAcceptedForms =
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, http://host[:port] or "
    "https://host[:port]";

[[noreturn]] void RefuseTrackingUri(std::string_view uri, std::string_view reason) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid tracking URI '{}': {}; accepted forms are {}", uri, reason,
                          kAcceptedForms));
}

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// `digits` is 1 to 5 ASCII digits.
bool InPortRange(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value >= 1 && value <= 65535;
}

// Checks the authority of an http(s) URI: [userinfo@]host[:port], host possibly "[v6]".
void CheckHttpAuthority(std::string_view uri, std::string_view authority) {
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) RefuseTrackingUri(uri, "its IPv6 host has no ']'");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') RefuseTrackingUri(uri, "unexpected text after its IPv6 host");
      has_port = true;
      port = after.substr(1);
    }
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    has_port = true;
    port = authority.substr(colon + 1);
  }
  if (host.empty()) RefuseTrackingUri(uri, "it names no host");
  if (has_port) {
    bool digits = !port.empty() && port.size() <= 5;
    for (char c : port) digits = digits && IsAsciiDigit(c);
    if (!digits || !InPortRange(port)) {
      RefuseTrackingUri(uri, fmt::format("its port '{}' is not a number from 1 to 65535", port));
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%XX" -> the byte; a '%' not followed by two hex digits is kept as it is (as Python's unquote).
std::string PercentDecode(std::string_view uri, std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      char c = static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      if (c == '\0') {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("Invalid file URI '{}': it contains an encoded NUL byte", uri));
      }
      out += c;
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

TrackingUri ParseTrackingUri(std::string_view uri) {
  TrackingUri parsed;
  parsed.uri = std::string(uri);
  std::string scheme = UriScheme(uri);
  if (scheme.empty()) RefuseTrackingUri(uri, "it has no scheme");
  std::string_view rest = uri.substr(scheme.size() + 1);
  if (scheme == "sqlite") {
    if (rest.substr(0, 2) != "//") RefuseTrackingUri(uri, "a sqlite URI starts with 'sqlite://'");
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty()) {
      RefuseTrackingUri(uri, fmt::format("a sqlite URI cannot name a host ('{}')", host));
    }
    if (slash == std::string_view::npos || slash + 1 == rest.size()) {
      RefuseTrackingUri(uri, "it names no database file");
    }
    parsed.scheme = TrackingUri::Scheme::kSqlite;
    parsed.sqlite_path = std::string(rest.substr(slash + 1));
    return parsed;
  }
  if (scheme == "http" || scheme == "https") {
    if (rest.substr(0, 2) != "//") RefuseTrackingUri(uri, "it names no host");
    rest.remove_prefix(2);
    CheckHttpAuthority(uri, rest.substr(0, rest.find_first_of("/?#")));
    parsed.scheme = TrackingUri::Scheme::kHttp;
    return parsed;
  }
  RefuseTrackingUri(uri, fmt::format("the scheme '{}' is not supported", scheme));
}

std::string TrackingUriFromEnvironment() {
  for (const char* name : {"MLT_TRACKING_URI", "MLFLOW_TRACKING_URI"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return std::string(kDefaultTrackingUri);
}

std::string UriScheme(std::string_view uri) {
  if (uri.empty() || !IsAsciiAlpha(uri.front())) return "";
  size_t i = 1;
  while (i < uri.size() && (IsAsciiAlpha(uri[i]) || IsAsciiDigit(uri[i]) || uri[i] == '+' ||
                            uri[i] == '-' || uri[i] == '.')) {
    ++i;
  }
  if (i == uri.size() || uri[i] != ':' || i < 2) return "";
  return AsciiLower(uri.substr(0, i));
}

std::string LocalPathFromUri(std::string_view uri) {
  std::string scheme = UriScheme(uri);
  if (scheme.empty()) return std::string(uri);
  if (scheme != "file") {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("'{}' is not a local path: only file: URIs and plain paths are", uri));
  }
  std::string_view rest = uri.substr(scheme.size() + 1);
  rest = rest.substr(0, rest.find_first_of("?#"));
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Invalid file URI '{}': it names the host '{}', not this machine",
                              uri, host));
    }
    if (slash == std::string_view::npos) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Invalid file URI '{}': it names no path", uri));
    }
    rest.remove_prefix(slash);
  }
  return PercentDecode(uri, rest);
}

std::string FileUriFromPath(std::string_view absolute_path) {
  std::string path = std::filesystem::absolute(std::filesystem::path(absolute_path)).string();
  std::string out = "file://";
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    if (IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '/' || c == '_' || c == '.' || c == '-' ||
        c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

std::string HttpBaseUrl(const TrackingUri& uri) {
  std::string base_url = uri.uri;
  size_t colon = base_url.find(':');
  for (size_t i = 0; i < colon && i < base_url.size(); ++i) {
    base_url[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(base_url[i])));
  }
  while (base_url.ends_with('/')) base_url.pop_back();
  return base_url;
}

}  // namespace mltrack
