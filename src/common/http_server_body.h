// Internal to the HTTP server: reading a request body under a route's limit, and the texts of the
// answers about it. Free of <httplib.h>: the engine hands the body over as a BodyReader.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/http_server.h"

namespace mltrack::http::detail {

// A body over a route's limit is still read and discarded up to this many bytes beyond the limit,
// so that the connection stays usable and the client reads the error instead of a reset. Beyond
// it the connection is closed after the answer.
constexpr uint64_t kMaxDrainBytes = 64ULL << 20;

// Reads a whole body chunk by chunk into the sink; false when the sink stopped or the client went
// away (the body is then cut short).
using BodyReader = std::function<bool(const ChunkSink& sink)>;

// A Content-Length value: decimal digits only, at most 19 of them; nullopt otherwise.
std::optional<uint64_t> ParseContentLength(std::string_view text);

// "Request body of N bytes exceeds the limit of L bytes", or without the size when it is unknown.
std::string ExceedsLimitMessage(std::optional<uint64_t> size, uint64_t limit);

// One request's body: read at most once, either by the route (buffered, or through read_body) or
// discarded after it.
class Body {
 public:
  // An empty `reader` means a body that is never read (a GET's; see Engine::Prepare).
  Body(BodyReader reader, std::optional<uint64_t> content_length)
      : reader_(std::move(reader)), content_length_(content_length) {}

  std::optional<uint64_t> content_length() const { return content_length_; }
  bool over_limit() const { return over_limit_; }
  // The size of a body over the limit when it was read to its end.
  std::optional<uint64_t> size() const {
    if (state_ == State::kConsumed) return received_;
    return content_length_;
  }

  // Hands the body to `sink` up to `limit` bytes. Past the limit it discards up to kMaxDrainBytes
  // more (so the client still reads the answer) and returns false, as when the sink stops or the
  // client goes away.
  bool Read(uint64_t limit, const ChunkSink& sink);

  // After the route: discards a body it left unread. False when the connection cannot carry
  // another request (a body cut short, or too large to discard).
  bool Finish();

 private:
  enum class State { kUnread, kConsumed, kBroken };
  BodyReader reader_;
  std::optional<uint64_t> content_length_;
  State state_ = State::kUnread;
  uint64_t received_ = 0;
  bool over_limit_ = false;
};

}  // namespace mltrack::http::detail
