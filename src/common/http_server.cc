#include "common/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "mltrack/error.h"

namespace mltrack::http {
namespace {

// The decoded query parameters, every repeat kept: httplib's own parser drops a name=value pair
// identical to an earlier one, but MLflow (Flask) keeps them, e.g. `order_by=x&order_by=x` is
// refused as a duplicate ordering.
std::multimap<std::string, std::string> QueryParams(const httplib::Request& raw) {
  std::multimap<std::string, std::string> params;
  size_t question = raw.target.find('?');
  if (question == std::string::npos) return params;
  std::string_view query(raw.target);
  query.remove_prefix(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    params.emplace(httplib::detail::decode_url(name, true),
                   httplib::detail::decode_url(value, true));
  }
  return params;
}

using Clock = std::chrono::steady_clock;

// A body over a route's limit is still read and discarded up to this many bytes beyond the limit,
// so that the connection stays usable and the client reads the error instead of a reset. Beyond
// it the connection is closed after the answer.
constexpr uint64_t kMaxDrainBytes = 64ULL << 20;
// How long an idle keep-alive connection sleeps between checks for connections that wait for a
// worker (see Engine::WaitForRequest).
constexpr std::chrono::milliseconds kIdleSlice{50};
constexpr std::chrono::milliseconds kFreshYieldAfter{1000};
constexpr std::chrono::milliseconds kBusyYieldAfter{100};
constexpr size_t kKeepAliveMaxCount = 1'000'000;
constexpr size_t kReadBufferBytes = 16 << 10;
constexpr int kListenBacklog = 1024;
// httplib routes by regex; it only ever sees this path (the real one is kept in the Exchange), so
// its matching costs nothing and never recurses over a long path.
constexpr char kRoutedPath[] = "/";

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool MayHaveBody(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// poll() on one descriptor, retried on EINTR; >0 ready, 0 timed out, <0 failed.
int PollOne(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd entry{fd, events, 0};
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    int result = ::poll(&entry, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (result >= 0 || errno != EINTR) return result;
  }
}

void AddressOf(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  if (rc != 0) return;
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> service{};
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host.data(), host.size(),
                    service.data(), service.size(), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host.data();
    port = std::atoi(service.data());
  }
}

// A connection's byte stream for httplib's request parser. Unlike httplib's own it never raises
// SIGPIPE (MSG_NOSIGNAL), writes all it is given or fails, and lets the connection loop see
// whether a pipelined request is already buffered.
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int fd, std::chrono::milliseconds read_timeout,
               std::chrono::milliseconds write_timeout)
      : fd_(fd), read_timeout_(read_timeout), write_timeout_(write_timeout) {
    AddressOf(fd, /*peer=*/true, remote_ip_, remote_port_);
    AddressOf(fd, /*peer=*/false, local_ip_, local_port_);
  }

  bool is_readable() const override {
    return buffered() > 0 || PollOne(fd_, POLLIN, read_timeout_) > 0;
  }
  bool is_writable() const override { return PollOne(fd_, POLLOUT, write_timeout_) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (buffered() == 0) {
      if (PollOne(fd_, POLLIN, read_timeout_) <= 0) return -1;
      if (size >= buffer_.size()) return Receive(ptr, size);
      ssize_t received = Receive(buffer_.data(), buffer_.size());
      if (received <= 0) return received;
      begin_ = 0;
      end_ = static_cast<size_t>(received);
    }
    size_t n = std::min(size, buffered());
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    size_t sent = 0;
    while (sent < size) {
      if (PollOne(fd_, POLLOUT, write_timeout_) <= 0) return -1;
      ssize_t n = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return -1;
      }
      sent += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }
  socket_t socket() const override { return fd_; }

  size_t buffered() const { return end_ - begin_; }

 private:
  ssize_t Receive(char* ptr, size_t size) {
    for (;;) {
      ssize_t n = ::recv(fd_, ptr, size, 0);
      if (n >= 0 || errno != EINTR) return n;
    }
  }

  int fd_;
  std::chrono::milliseconds read_timeout_;
  std::chrono::milliseconds write_timeout_;
  std::string remote_ip_, local_ip_;
  int remote_port_ = -1, local_port_ = -1;
  std::array<char, kReadBufferBytes> buffer_{};
  size_t begin_ = 0, end_ = 0;
};

// What the connection loop, the setup hook and the route handler share about one request.
struct Exchange {
  std::string path;                                 // decoded, as the client sent it
  std::multimap<std::string, std::string> headers;  // lower-cased names
  std::string malformed;    // non-empty: answer 400 BAD_REQUEST with this, without routing
  bool must_close = false;  // the connection cannot carry another request after this one
  bool prepared = false;    // false: httplib could not parse the request and answered it
};

// One worker serves one connection at a time, so the request a worker is serving is a
// thread-local fact.
thread_local Exchange* t_exchange = nullptr;

// httplib's worker pool, counting connections that wait for a worker.
class WorkerPool final : public httplib::TaskQueue {
 public:
  WorkerPool(size_t threads, std::atomic<int>& waiting, std::atomic<int>& yielding)
      : pool_(threads), waiting_(waiting), yielding_(yielding) {}

  void enqueue(std::function<void()> fn) override {
    waiting_.fetch_add(1);
    pool_.enqueue([this, fn = std::move(fn)] {
      waiting_.fetch_sub(1);
      // One idle connection made room for this one (if any did): it no longer needs to.
      int yielding = yielding_.load();
      while (yielding > 0 && !yielding_.compare_exchange_weak(yielding, yielding - 1)) {
      }
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  std::atomic<int>& waiting_;
  std::atomic<int>& yielding_;
};

std::string ErrorBody(std::string_view error_code, std::string_view message) {
  nlohmann::json body = {{"error_code", error_code}, {"message", message}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

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

// One request's body: read at most once, either by the route (buffered, or through read_body) or
// discarded after it.
class Body {
 public:
  Body(const httplib::ContentReader* reader, std::optional<uint64_t> content_length)
      : reader_(reader), content_length_(content_length) {}

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
  bool Read(uint64_t limit, const ChunkSink& sink) {
    if (state_ != State::kUnread) return false;
    if (reader_ == nullptr) {
      state_ = State::kConsumed;  // a GET's body is never read; see Engine::Prepare
      return true;
    }
    state_ = State::kBroken;
    bool sink_stopped = false;
    bool ok = (*reader_)([&](const char* data, size_t size) {
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

  // After the route: discards a body it left unread. False when the connection cannot carry
  // another request (a body cut short, or too large to discard).
  bool Finish() {
    if (state_ == State::kUnread) {
      if (content_length_ && *content_length_ > kMaxDrainBytes) return false;
      Read(0, [](const char*, size_t) { return true; });
    }
    return state_ == State::kConsumed;
  }

 private:
  enum class State { kUnread, kConsumed, kBroken };
  const httplib::ContentReader* reader_;
  std::optional<uint64_t> content_length_;
  State state_ = State::kUnread;
  uint64_t received_ = 0;
  bool over_limit_ = false;
};

// Inside Engine (an httplib::Server) `Handler` names httplib's handler type.
using RouteHandler = Handler;

struct Route {
  Handler handler;
  RouteOptions options;
};

// Exact routes win over prefixes, longer prefixes over shorter ones; HEAD falls back to GET.
class Router {
 public:
  void AddExact(const std::string& method, const std::string& path, Route route) {
    exact_[method][path] = std::move(route);
  }
  void AddPrefix(const std::string& method, const std::string& prefix, Route route) {
    auto& list = prefixes_[method];
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const auto& entry) { return entry.first == prefix; });
    if (it != list.end()) {
      it->second = std::move(route);
      return;
    }
    list.emplace_back(prefix, std::move(route));
    std::stable_sort(list.begin(), list.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }

  const Route* Find(const std::string& method, const std::string& path) const {
    if (const Route* route = FindFor(method, path)) return route;
    if (method == "HEAD") return FindFor("GET", path);
    return nullptr;
  }

  // The methods some route answers `path` with, for a 405's Allow header.
  std::vector<std::string> MethodsFor(const std::string& path) const {
    std::set<std::string> methods;
    for (const auto& [method, routes] : exact_) {
      if (routes.count(path)) methods.insert(method);
    }
    for (const auto& [method, list] : prefixes_) {
      for (const auto& entry : list) {
        if (path.compare(0, entry.first.size(), entry.first) == 0) methods.insert(method);
      }
    }
    if (methods.count("GET")) methods.insert("HEAD");
    return {methods.begin(), methods.end()};
  }

 private:
  const Route* FindFor(const std::string& method, const std::string& path) const {
    if (auto by_method = exact_.find(method); by_method != exact_.end()) {
      if (auto it = by_method->second.find(path); it != by_method->second.end()) {
        return &it->second;
      }
    }
    if (auto by_method = prefixes_.find(method); by_method != prefixes_.end()) {
      for (const auto& [prefix, route] : by_method->second) {
        if (path.compare(0, prefix.size(), prefix) == 0) return &route;
      }
    }
    return nullptr;
  }

  std::map<std::string, std::map<std::string, Route>> exact_;
  std::map<std::string, std::vector<std::pair<std::string, Route>>> prefixes_;  // longest first
};

// Runs a handler behind the error wrapper: whatever it throws becomes MLflow's error body.
void RunHandler(const Handler& handler, const Request& request, Response& response) {
  try {
    handler(request, response);
  } catch (const Error& e) {
    response = Response{};
    SetErrorResponse(response, HttpStatusFor(e.code()), ErrorCodeName(e.code()), e.what());
  } catch (const std::exception& e) {
    response = Response{};
    SetErrorResponse(response, 500, ErrorCodeName(ErrorCode::kInternalError), e.what());
  } catch (...) {
    response = Response{};
    SetErrorResponse(response, 500, ErrorCodeName(ErrorCode::kInternalError),
                     "Internal error: the handler threw an unknown exception");
  }
}

// Calls a response stream; false when it fails or throws (the response is then cut short).
bool CallStream(const std::function<bool(const ChunkSink&)>& stream, const ChunkSink& sink) {
  try {
    return stream(sink);
  } catch (...) {
    return false;
  }
}

void ToHttplib(Response& response, bool must_close, httplib::Response& out) {
  out.status = response.status;
  for (const auto& [name, value] : response.headers) out.set_header(name, value);
  if (must_close) out.set_header("Connection", "close");
  std::string content_type = response.content_type.empty() && response.stream
                                 ? "application/octet-stream"
                                 : response.content_type;
  if (!response.stream || (response.stream_length && *response.stream_length == 0)) {
    if (!response.body.empty() || !content_type.empty()) {
      // What set_content does, without copying a body that may be megabytes.
      out.body = std::move(response.body);
      out.set_header("Content-Type", content_type);
    }
    return;
  }
  auto stream = std::make_shared<std::function<bool(const ChunkSink&)>>(std::move(response.stream));
  if (response.stream_length) {
    uint64_t length = *response.stream_length;
    // httplib calls the provider again while less than `length` was written; a stream writes
    // everything in one call, so a second call means it fell short.
    out.set_content_provider(
        static_cast<size_t>(length), content_type,
        [stream, length, called = false](size_t, size_t, httplib::DataSink& sink) mutable {
          if (called) return false;
          called = true;
          uint64_t written = 0;
          bool ok = CallStream(*stream, [&](const char* data, size_t size) {
            if (written + size > length) return false;
            written += size;
            return sink.write(data, size);
          });
          return ok && written == length;
        });
  } else {
    out.set_chunked_content_provider(content_type, [stream](size_t, httplib::DataSink& sink) {
      bool ok = CallStream(*stream,
                           [&](const char* data, size_t size) { return sink.write(data, size); });
      if (ok) sink.done();
      return ok;
    });
  }
}

// The JSON body of an error httplib answered itself (a request it could not parse, ...).
std::pair<ErrorCode, std::string> ProtocolError(int status) {
  switch (status) {
    case 400:
      return {ErrorCode::kBadRequest, "Malformed HTTP request"};
    case 413:
      return {ErrorCode::kResourceLimitExceeded, "Request body is too large"};
    case 414:
      return {ErrorCode::kBadRequest, fmt::format("Request line is longer than {} bytes",
                                                  CPPHTTPLIB_REQUEST_URI_MAX_LENGTH)};
    case 415:
      return {ErrorCode::kBadRequest, "Unsupported Content-Encoding"};
    case 416:
      return {ErrorCode::kBadRequest, "Invalid Range header"};
    default:
      return {status >= 500 ? ErrorCode::kInternalError : ErrorCode::kBadRequest,
              fmt::format("HTTP status {}", status)};
  }
}

}  // namespace

std::optional<std::string> Request::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Request::QueryAll(std::string_view name) const {
  std::vector<std::string> values;
  auto [begin, end] = query.equal_range(std::string(name));
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

std::string Request::Header(std::string_view name) const {
  auto it = headers.find(ToLower(name));
  return it == headers.end() ? std::string() : it->second;
}

void SetErrorResponse(Response& response, int http_status, std::string_view error_code,
                      std::string_view message) {
  response.status = http_status;
  response.content_type = "application/json";
  response.body = ErrorBody(error_code, message);
  response.stream = nullptr;
  response.stream_length.reset();
}

// httplib's server with mltrack's connection loop: process_and_close_socket is httplib's
// per-connection hook (SSLServer overrides it too). Owning the loop lets Stop() wake idle
// keep-alive connections at once instead of after their timeout, lets an idle connection make
// room when others wait for a worker, and keeps the SIGPIPE-free stream above.
class Engine final : public httplib::Server {
 public:
  Engine(const ServerOptions& options, const Router& router, const RouteHandler& not_found)
      : options_(options), router_(router), not_found_(not_found) {
    auto plain = [this](const httplib::Request& request, httplib::Response& response) {
      Serve(request, response, nullptr);
    };
    auto with_body = [this](const httplib::Request& request, httplib::Response& response,
                            const httplib::ContentReader& reader) {
      Serve(request, response, &reader);
    };
    Get(kRoutedPath, httplib::Server::Handler(plain));
    Options(kRoutedPath, httplib::Server::Handler(plain));
    Post(kRoutedPath, HandlerWithContentReader(with_body));
    Put(kRoutedPath, HandlerWithContentReader(with_body));
    Patch(kRoutedPath, HandlerWithContentReader(with_body));
    Delete(kRoutedPath, HandlerWithContentReader(with_body));

    set_error_handler(HandlerWithResponse([](const httplib::Request&, httplib::Response& response) {
      if (!response.body.empty() || response.content_provider_) {
        return HandlerResponse::Unhandled;  // an answer of a route: already a JSON error
      }
      auto [code, message] = ProtocolError(response.status);
      response.set_content(ErrorBody(ErrorCodeName(code), message), "application/json");
      return HandlerResponse::Handled;
    }));
    set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
          std::string message = "Internal error: unknown exception";
          try {
            if (error) std::rethrow_exception(error);
          } catch (const std::exception& e) {
            message = e.what();
          } catch (...) {
          }
          if (t_exchange != nullptr) t_exchange->must_close = true;
          response.status = 500;
          response.set_content(ErrorBody(ErrorCodeName(ErrorCode::kInternalError), message),
                               "application/json");
        });

    set_tcp_nodelay(true);
    // httplib's default sets SO_REUSEPORT, which would let a second server bind a port in use
    // and silently share it. SO_REUSEADDR only allows rebinding over TIME_WAIT.
    set_socket_options([](socket_t fd) {
      int yes = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    set_read_timeout(options.read_timeout);
    set_write_timeout(options.write_timeout);
    set_keep_alive_timeout(static_cast<time_t>(options.keep_alive_timeout.count()));
    set_keep_alive_max_count(kKeepAliveMaxCount);
    // Limits are per route (Body::Read); httplib must not refuse large streamed uploads.
    set_payload_max_length(std::numeric_limits<size_t>::max());
    size_t threads = static_cast<size_t>(std::max(1, options.threads));
    new_task_queue = [this, threads] { return new WorkerPool(threads, waiting_, yielding_); };

    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }

  ~Engine() override {
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  // httplib listens with a backlog of 5: a burst of new connections (16 client threads starting
  // at once) would overflow it, and each dropped SYN costs its client a 1 s retransmission.
  // listen() again on the bound socket only raises the backlog.
  void WidenBacklog() {
    socket_t listening = svr_sock_;
    if (listening != INVALID_SOCKET) ::listen(listening, kListenBacklog);
  }

  // Stops accepting and wakes idle connections; requests in flight finish. Closing the listening
  // socket through shutdown() (not httplib's stop()) keeps httplib from cutting short responses
  // it is streaming: it checks its listening socket for "shutting down" while writing them.
  void BeginStop() {
    stopping_ = true;
    if (wake_fd_ >= 0) {
      uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
    }
    socket_t listening = svr_sock_;
    if (listening != INVALID_SOCKET && is_running()) ::shutdown(listening, SHUT_RDWR);
  }

  // After the listening thread returned: it closed the listening socket, but httplib keeps its
  // number; forget it so that nothing can act on a descriptor reused since.
  void ForgetListeningSocket() { svr_sock_ = INVALID_SOCKET; }

 private:
  bool process_and_close_socket(socket_t fd) override {
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    {
      SocketStream stream(fd, options_.read_timeout, options_.write_timeout);
      size_t served = 0;
      auto taken = Clock::now();
      while (WaitForRequest(stream, fd, /*fresh=*/served == 0)) {
        Exchange exchange;
        t_exchange = &exchange;
        // A busy connection never idles: after holding its worker a while it makes room too,
        // closing after this answer (which says so, so the client reconnects without a race).
        bool close_after = ++served >= kKeepAliveMaxCount || stopping_ ||
                           (Clock::now() - taken >= kBusyYieldAfter && YieldToWaitingConnection());
        bool client_closes = false;
        bool ok = false;
        try {
          ok = process_request(stream, close_after, client_closes,
                               [&](httplib::Request& request) { Prepare(request, exchange); });
        } catch (...) {
          ok = false;  // a response stream threw past CallStream, or memory ran out
        }
        t_exchange = nullptr;
        // After a request httplib could not parse, where the next one starts is unknown.
        if (!ok || close_after || client_closes || exchange.must_close || !exchange.prepared) {
          break;
        }
      }
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    return true;
  }

  // Waits until the next request on the connection starts to arrive. False when the connection
  // should close instead: the keep-alive timeout passed, the server is stopping, or another
  // connection waits for a worker while this one idles (each worker serves one connection at a
  // time, so an idle one would hold its worker until its timeout). A connection yields only after
  // idling a while, so a client sending requests back to back keeps it, and a new connection
  // longer still: a client would take its closing before the first answer for a failure.
  bool WaitForRequest(const SocketStream& stream, int fd, bool fresh) {
    if (stream.buffered() > 0) return true;
    auto start = Clock::now();
    auto deadline = start + options_.keep_alive_timeout;
    auto may_yield_at = start + (fresh ? kFreshYieldAfter : kIdleSlice);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() < 0) left = std::chrono::milliseconds(0);
      std::array<pollfd, 2> fds = {pollfd{fd, POLLIN, 0}, pollfd{wake_fd_, POLLIN, 0}};
      int ready = ::poll(fds.data(), wake_fd_ >= 0 ? 2 : 1,
                         static_cast<int>(std::min(left, kIdleSlice).count()));
      if (ready < 0 && errno != EINTR) return false;
      if (ready > 0 && fds[0].revents != 0) return true;  // a request, or EOF for the parser
      if (stopping_) return false;
      auto now = Clock::now();
      if (now >= deadline) return false;
      if (now >= may_yield_at && YieldToWaitingConnection()) return false;
    }
  }

  bool YieldToWaitingConnection() {
    int yielding = yielding_.load();
    while (yielding < waiting_.load()) {
      if (yielding_.compare_exchange_weak(yielding, yielding + 1)) return true;
    }
    return false;
  }

  // httplib's setup hook, called after the request line and headers are parsed and before
  // routing: keeps what the route handler needs and hides from httplib what it should not act on.
  void Prepare(httplib::Request& request, Exchange& exchange) {
    exchange.prepared = true;
    exchange.path = request.path;
    request.path = kRoutedPath;
    for (const auto& [name, value] : request.headers) {
      // httplib adds these itself; they are not the client's.
      if (IEquals(name, "REMOTE_ADDR") || IEquals(name, "REMOTE_PORT") ||
          IEquals(name, "LOCAL_ADDR") || IEquals(name, "LOCAL_PORT")) {
        continue;
      }
      exchange.headers.emplace(ToLower(name), value);
    }

    std::optional<uint64_t> content_length;
    auto [first, last] = request.headers.equal_range("Content-Length");
    for (auto it = first; it != last; ++it) {
      auto value = ParseContentLength(it->second);
      if (!value || (content_length && *content_length != *value)) {
        exchange.malformed = fmt::format("Invalid Content-Length header '{}'", it->second);
        break;
      }
      content_length = value;
    }
    std::string transfer_encoding = request.get_header_value("Transfer-Encoding");
    bool chunked = IEquals(transfer_encoding, "chunked");
    if (!transfer_encoding.empty() && !chunked) {
      exchange.malformed = fmt::format("Unsupported Transfer-Encoding '{}'", transfer_encoding);
    }
    if (!exchange.malformed.empty()) {
      exchange.must_close = true;  // where this request ends is unknown
      request.headers.erase("Transfer-Encoding");
      request.headers.erase("Content-Length");
      request.set_header("Content-Length", "0");
    } else if (MayHaveBody(request.method)) {
      // HTTP/1.1: a request with neither header has no body; httplib would read until EOF.
      if (!content_length && !chunked) request.set_header("Content-Length", "0");
    } else if ((content_length && *content_length > 0) || chunked) {
      exchange.must_close = true;  // httplib does not read a GET's body: don't parse it next
    }
    // The route handler sees the request's ranges and content type, and answers them itself:
    // httplib would otherwise cut every body to the Range, parse multipart bodies, and compress
    // answers (CPU the two cores of this machine kind need for requests).
    request.ranges.clear();
    request.headers.erase("Content-Type");
    request.headers.erase("Accept-Encoding");
  }

  void Serve(const httplib::Request& raw, httplib::Response& out,
             const httplib::ContentReader* reader) {
    Exchange fallback;
    Exchange& exchange = t_exchange != nullptr ? *t_exchange : fallback;
    if (t_exchange == nullptr) fallback.path = raw.path;

    Request request;
    request.method = raw.method;
    request.path = exchange.path;
    request.query = QueryParams(raw);
    request.headers = exchange.headers;
    request.remote_addr = raw.remote_addr;
    Response response;

    std::optional<uint64_t> content_length;
    if (raw.has_header("Content-Length")) {
      content_length = ParseContentLength(raw.get_header_value("Content-Length"));
    }
    Body body(reader, content_length);

    if (!exchange.malformed.empty()) {
      SetErrorResponse(response, 400, ErrorCodeName(ErrorCode::kBadRequest), exchange.malformed);
    } else if (const Route* route = router_.Find(request.method, request.path)) {
      ServeRoute(*route, request, body, response);
    } else if (auto methods = router_.MethodsFor(request.path); !methods.empty()) {
      std::string allowed = fmt::format("{}", fmt::join(methods, ", "));
      SetErrorResponse(response, 405, ErrorCodeName(ErrorCode::kBadRequest),
                       fmt::format("Method {} is not allowed for {}; allowed: {}", request.method,
                                   request.path, allowed));
      response.headers.emplace_back("Allow", allowed);
    } else if (not_found_) {
      RunHandler(not_found_, request, response);
    } else {
      SetErrorResponse(response, 404, ErrorCodeName(ErrorCode::kEndpointNotFound),
                       fmt::format("No endpoint for {} {}", request.method, request.path));
    }

    if (!exchange.malformed.empty() || !body.Finish()) exchange.must_close = true;
    ToHttplib(response, exchange.must_close, out);
  }

  void ServeRoute(const Route& route, Request& request, Body& body, Response& response) {
    uint64_t limit =
        route.options.max_body_bytes != 0 ? route.options.max_body_bytes : options_.max_body_bytes;
    if (!route.options.stream_body) {
      if (body.content_length() && *body.content_length() > limit) {
        SetErrorResponse(response, 400, ErrorCodeName(ErrorCode::kInvalidParameterValue),
                         ExceedsLimitMessage(body.content_length(), limit));
        return;
      }
      bool ok = body.Read(limit, [&](const char* data, size_t size) {
        request.body.append(data, size);
        return true;
      });
      if (body.over_limit()) {
        SetErrorResponse(response, 400, ErrorCodeName(ErrorCode::kInvalidParameterValue),
                         ExceedsLimitMessage(body.size(), limit));
        return;
      }
      if (!ok) {
        SetErrorResponse(response, 400, ErrorCodeName(ErrorCode::kBadRequest),
                         "Could not read the request body");
        return;
      }
      RunHandler(route.handler, request, response);
      return;
    }

    if (body.content_length() && *body.content_length() > limit) {
      SetErrorResponse(response, 413, ErrorCodeName(ErrorCode::kResourceLimitExceeded),
                       ExceedsLimitMessage(body.content_length(), limit));
      return;
    }
    request.read_body = [&body, limit](const ChunkSink& sink) { return body.Read(limit, sink); };
    RunHandler(route.handler, request, response);
    request.read_body = nullptr;
    if (body.over_limit()) {
      response = Response{};
      SetErrorResponse(response, 413, ErrorCodeName(ErrorCode::kResourceLimitExceeded),
                       ExceedsLimitMessage(body.size(), limit));
    }
  }

  const ServerOptions& options_;
  const Router& router_;
  const RouteHandler& not_found_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> waiting_{0};   // accepted connections no worker has taken yet
  std::atomic<int> yielding_{0};  // idle connections closing to make room for them
  int wake_fd_ = -1;              // readable once stopping
};

struct Server::Impl {
  explicit Impl(ServerOptions options_in) : options(std::move(options_in)) {}

  ServerOptions options;
  Router router;
  Handler not_found;
  std::unique_ptr<Engine> engine;
  std::thread listener;
  int port = 0;

  std::mutex stop_mutex;  // serializes Start() and Stop()
  std::mutex mutex;       // guards the flags below
  std::condition_variable changed;
  bool started = false;
  bool stopped = false;
  bool listener_done = false;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { Stop(); }

void Server::Route(const std::string& method, const std::string& path, Handler handler,
                   RouteOptions options) {
  assert(!impl_->started && "routes are added before Start()");
  impl_->router.AddExact(method, path, {std::move(handler), options});
}

void Server::RoutePrefix(const std::string& method, const std::string& prefix, Handler handler,
                         RouteOptions options) {
  assert(!impl_->started && "routes are added before Start()");
  impl_->router.AddPrefix(method, prefix, {std::move(handler), options});
}

void Server::SetNotFound(Handler handler) {
  assert(!impl_->started && "the not-found handler is set before Start()");
  impl_->not_found = std::move(handler);
}

int Server::Start() {
  Impl& impl = *impl_;
  std::lock_guard start_lock(impl.stop_mutex);
  {
    std::lock_guard lock(impl.mutex);
    if (impl.started) return impl.port;
    if (impl.stopped) throw Error(ErrorCode::kInvalidState, "cannot start a stopped server");
  }
  auto engine = std::make_unique<Engine>(impl.options, impl.router, impl.not_found);
  const std::string& host = impl.options.host;
  errno = 0;
  int port = impl.options.port == 0
                 ? engine->bind_to_any_port(host)
                 : (engine->bind_to_port(host, impl.options.port) ? impl.options.port : -1);
  if (port <= 0) {
    int error = errno;
    std::string address = host.find(':') != std::string::npos
                              ? fmt::format("[{}]:{}", host, impl.options.port)
                              : fmt::format("{}:{}", host, impl.options.port);
    throw Error(ErrorCode::kIoError,
                fmt::format("cannot listen on {}: {}", address,
                            error != 0 ? std::strerror(error) : "the address cannot be bound"));
  }

  engine->WidenBacklog();
  impl.engine = std::move(engine);
  impl.port = port;
  {
    std::lock_guard lock(impl.mutex);
    impl.started = true;
  }
  impl.listener = std::thread([&impl] {
    impl.engine->listen_after_bind();
    std::lock_guard lock(impl.mutex);
    impl.listener_done = true;
    impl.changed.notify_all();
  });
  // httplib's stop() and ours only act once it runs; don't return before it does.
  for (;;) {
    if (impl.engine->is_running()) break;
    std::unique_lock lock(impl.mutex);
    if (impl.listener_done) break;
    impl.changed.wait_for(lock, std::chrono::milliseconds(1));
  }
  return port;
}

void Server::Stop() {
  Impl& impl = *impl_;
  std::lock_guard stop_lock(impl.stop_mutex);
  {
    std::lock_guard lock(impl.mutex);
    if (impl.stopped) return;
  }
  if (impl.listener.joinable()) {
    impl.engine->BeginStop();
    impl.listener.join();
    impl.engine->ForgetListeningSocket();
  }
  std::lock_guard lock(impl.mutex);
  impl.stopped = true;
  impl.changed.notify_all();
}

void Server::Wait() {
  Impl& impl = *impl_;
  std::unique_lock lock(impl.mutex);
  impl.changed.wait(lock, [&] { return impl.stopped || impl.listener_done; });
}

int Server::port() const { return impl_->port; }

}  // namespace mltrack::http
