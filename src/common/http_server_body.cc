#include "common/http_server_body.h"

#include <fmt/format.h>

namespace mltrack::http::detail {

std::optional<uint64_t> ParseContentLength(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

std::string ExceedsLimitMessage(std::optional<uint64_t> size, uint64_t limit) {
  if (size) {
    return fmt::format("Request body of {} bytes exceeds the limit of {} bytes", *size, limit);
  }
  return fmt::format("Request body exceeds the limit of {} bytes", limit);
}

bool Body::Read(uint64_t limit, const ChunkSink& sink) {
  if (state_ != State::kUnread) return false;
  if (!reader_) {
    state_ = State::kConsumed;  // a GET's body is never read; see Engine::Prepare
    return true;
  }
  state_ = State::kBroken;
  bool sink_stopped = false;
  bool ok = reader_([&](const char* data, size_t size) {
    received_ += size;
    if (!over_limit_ && received_ <= limit) {
      if (sink(data, size)) return true;
      sink_stopped = true;
      return false;
    }
    over_limit_ = true;
    return received_ <= limit + kMaxDrainBytes;
  });
  if (ok) state_ = State::kConsumed;
  return ok && !over_limit_ && !sink_stopped;
}

bool Body::Finish() {
  if (state_ == State::kUnread) {
    if (content_length_ && *content_length_ > kMaxDrainBytes) return false;
    Read(0, [](const char*, size_t) { return true; });
  }
  return state_ == State::kConsumed;
}

}  // namespace mltrack::http::detail
