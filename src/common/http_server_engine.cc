#include "common/http_server_engine.h"

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
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/http_server_messages.h"
#include "common/text.h"
#include "mltrack/error.h"

namespace mltrack::http::detail {
namespace {

using Clock = std::chrono::steady_clock;

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

}  // namespace

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

namespace {

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

}  // namespace

Engine::Engine(const ServerOptions& options, const Router& router,
               const RouteHandler& not_found)
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

Engine::~Engine() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Engine::WidenBacklog() {
  socket_t listening = svr_sock_;
  if (listening != INVALID_SOCKET) ::listen(listening, kListenBacklog);
}

void Engine::BeginStop() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
  socket_t listening = svr_sock_;
  if (listening != INVALID_SOCKET && is_running()) ::shutdown(listening, SHUT_RDWR);
}

bool Engine::process_and_close_socket(socket_t fd) {
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

bool Engine::WaitForRequest(const SocketStream& stream, int fd, bool fresh) {
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

bool Engine::YieldToWaitingConnection() {
  int yielding = yielding_.load();
  while (yielding < waiting_.load()) {
    if (yielding_.compare_exchange_weak(yielding, yielding + 1)) return true;
  }
  return false;
}

void Engine::Prepare(httplib::Request& request, Exchange& exchange) {
  exchange.prepared = true;
  exchange.path = request.path;
  request.path = kRoutedPath;
  for (const auto& [name, value] : request.headers) {
    // httplib adds these itself; they are not the client's.
    if (IEquals(name, "REMOTE_ADDR") || IEquals(name, "REMOTE_PORT") ||
        IEquals(name, "LOCAL_ADDR") || IEquals(name, "LOCAL_PORT")) {
      continue;
    }
    exchange.headers.emplace(AsciiLower(name), value);
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

void Engine::Serve(const httplib::Request& raw, httplib::Response& out,
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
  BodyReader read_body;
  if (reader != nullptr) {
    read_body = [reader](const ChunkSink& sink) { return (*reader)(sink); };
  }
  Body body(std::move(read_body), content_length);

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

void Engine::ServeRoute(const Route& route, Request& request, Body& body,
                        Response& response) {
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

}  // namespace mltrack::http::detail
