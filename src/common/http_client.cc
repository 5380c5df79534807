#include "common/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>

#include "common/atomic_file.h"
#include "common/text.h"
#include "mltrack/error.h"

namespace mltrack::http {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxIdleConnections = 32;
constexpr size_t kUploadChunkBytes = 256 << 10;
constexpr size_t kMaxErrorBodyBytes = 1 << 20;
constexpr std::chrono::milliseconds kMaxBackoff{30000};

// Blocks SIGPIPE on this thread while a request runs, and swallows one the request raised.
// httplib writes to sockets without MSG_NOSIGNAL, and a peer that closed its end would otherwise
// kill the process; a library must not change the process-wide disposition (as libpq, this
// blocks the signal per thread instead).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_mask_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets
  int port = 0;
  std::string origin;  // "http://host:port" as httplib::Client expects it
  std::string prefix;  // "" or "/some/prefix", without a trailing '/'
};

[[noreturn]] void ThrowBadUrl(const std::string& url, std::string_view why) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid HTTP URL '{}': {}", url, why));
}

ParsedUrl ParseUrl(const std::string& url) {
  ParsedUrl parsed;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) ThrowBadUrl(url, "expected http:// or https://");
  parsed.scheme = AsciiLower(std::string_view(url).substr(0, scheme_end));
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    ThrowBadUrl(url, "expected http:// or https://");
  }
  std::string_view rest = std::string_view(url).substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (!path.empty() && path.front() != '/') ThrowBadUrl(url, "a query or fragment is not allowed");
  if (authority.find('@') != std::string_view::npos) {
    ThrowBadUrl(url, "user information is not supported; use ClientOptions::headers");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) ThrowBadUrl(url, "unterminated IPv6 address");
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') ThrowBadUrl(url, "unexpected text after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) ThrowBadUrl(url, "no host");
  parsed.port = parsed.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) ThrowBadUrl(url, "invalid port");
      port = port * 10 + (c - '0');
    }
    if (port == 0 || port > 65535) ThrowBadUrl(url, "invalid port");
    parsed.port = port;
  }
  std::string host_text =
      parsed.host.find(':') != std::string::npos ? fmt::format("[{}]", parsed.host) : parsed.host;
  parsed.origin = fmt::format("{}://{}:{}", parsed.scheme, host_text, parsed.port);
  parsed.prefix = std::string(path);
  while (!parsed.prefix.empty() && parsed.prefix.back() == '/') parsed.prefix.pop_back();
  return parsed;
}

// Percent-encodes what may not appear raw in a request target (controls, spaces, non-ASCII, and
// the delimiters RFC 3986 excludes); what is already encoded stays as it is.
std::string EncodeTarget(std::string_view target) {
  static constexpr std::string_view kUnsafe = "\"<>\\^`{|}#";
  std::string out;
  out.reserve(target.size());
  for (unsigned char c : target) {
    if (c <= 0x20 || c >= 0x7f || kUnsafe.find(static_cast<char>(c)) != std::string_view::npos) {
      out += fmt::format("%{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string WithoutQuery(std::string_view path_and_query) {
  return std::string(path_and_query.substr(0, path_and_query.find('?')));
}

// Why a connection could not be made. httplib reports only "Connection", so one more plain
// connect (made only after the last attempt failed) asks the system for the reason.
std::string DiagnoseConnect(const ParsedUrl& url, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  std::string port = std::to_string(url.port);
  int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &addresses);
  if (rc != 0) return fmt::format("cannot resolve host '{}': {}", url.host, gai_strerror(rc));
  std::string reason = "cannot connect";
  for (addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
    int fd = ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      address->ai_protocol);
    if (fd < 0) continue;
    int error = 0;
    if (::connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd entry{fd, POLLOUT, 0};
        int ready = ::poll(&entry, 1, static_cast<int>(timeout.count()));
        socklen_t length = sizeof(error);
        if (ready <= 0) {
          error = ETIMEDOUT;
        } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
          error = errno;
        }
      }
    }
    ::close(fd);
    if (error == 0) {
      reason = "the connection failed";  // it works now: the server came up meanwhile
      break;
    }
    reason = std::strerror(error);
  }
  ::freeaddrinfo(addresses);
  return reason;
}

std::string Describe(httplib::Error error, const ParsedUrl& url, const ClientOptions& options) {
  switch (error) {
    case httplib::Error::Connection:
      return DiagnoseConnect(url, options.connect_timeout);
    case httplib::Error::ConnectionTimeout:
      return fmt::format("connection timed out after {} ms", options.connect_timeout.count());
    case httplib::Error::Read:
      return "the connection closed or timed out before a complete response";
    case httplib::Error::Write:
      return "the connection closed while sending the request";
    case httplib::Error::BindIPAddress:
      return "cannot bind the local address";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate did not verify";
    case httplib::Error::Compression:
      return "cannot decompress the response";
    case httplib::Error::ExceedRedirectCount:
      return "too many redirects";
    case httplib::Error::Canceled:
      return "the request was canceled";
    default:
      return fmt::format("transport error ({})", httplib::to_string(error));
  }
}

// Failures another attempt may cure: the connection, not the configuration.
bool IsTransient(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::Read:
    case httplib::Error::Write:
    case httplib::Error::SSLConnection:
    case httplib::Error::Unknown:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct Client::Impl {
  Impl(std::string base_url_in, ClientOptions options_in)
      : url(ParseUrl(base_url_in)), options(std::move(options_in)) {
    base_url = std::move(base_url_in);
    while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
    for (const auto& [name, value] : options.headers) headers.emplace(name, value);
  }

  ~Impl() {
    SigpipeGuard guard;  // closing a TLS connection writes its close_notify
    idle.clear();
  }

  std::unique_ptr<httplib::Client> Checkout() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        auto connection = std::move(idle.back());
        idle.pop_back();
        return connection;
      }
    }
    auto connection = std::make_unique<httplib::Client>(url.origin);
    if (!connection->is_valid()) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Invalid HTTP URL '{}': this build cannot connect to it", base_url));
    }
    connection->set_keep_alive(true);
    connection->set_tcp_nodelay(true);
    connection->set_connection_timeout(options.connect_timeout);
    connection->set_read_timeout(options.read_timeout);
    connection->set_write_timeout(options.read_timeout);
    connection->set_url_encode(false);  // targets are encoded by the caller (and EncodeTarget)
    connection->set_follow_location(false);
    return connection;
  }

  void Checkin(std::unique_ptr<httplib::Client> connection) {
    std::lock_guard lock(mutex);
    if (idle.size() < kMaxIdleConnections) idle.push_back(std::move(connection));
  }

  std::string Target(const std::string& path_and_query) const {
    return EncodeTarget(url.prefix + path_and_query);
  }

  // Runs `attempt` on a pooled connection, again with back-off after a transport failure when
  // the request is idempotent. `attempt` returns httplib's result; it may throw Error for
  // failures that are not the transport's (a local file it cannot write).
  template <class Attempt>
  Result Run(const std::string& path_and_query, bool idempotent, Attempt&& attempt) {
    int attempts = idempotent ? std::max(1, options.max_attempts) : 1;
    auto backoff = options.first_backoff;
    httplib::Error last_error = httplib::Error::Unknown;
    for (int i = 0; i < attempts; ++i) {
      if (i > 0) {
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, kMaxBackoff);
      }
      SigpipeGuard guard;
      auto connection = Checkout();
      httplib::Result result = attempt(*connection);
      if (result) {
        Result out;
        out.status = result->status;
        out.body = std::move(result->body);
        out.content_type = result->get_header_value("Content-Type");
        Checkin(std::move(connection));
        return out;
      }
      last_error = result.error();
      if (!IsTransient(last_error)) break;
    }
    throw Error(ErrorCode::kTemporarilyUnavailable,
                fmt::format("cannot reach {}{}: {}", base_url, WithoutQuery(path_and_query),
                            Describe(last_error, url, options)));
  }

  std::string base_url;
  ParsedUrl url;
  ClientOptions options;
  httplib::Headers headers;

  std::mutex mutex;
  std::vector<std::unique_ptr<httplib::Client>> idle;  // keep-alive connections, newest last
};

Client::Client(std::string base_url, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(base_url), std::move(options))) {}

Client::~Client() = default;

const std::string& Client::base_url() const { return impl_->base_url; }

Result Client::Get(const std::string& path_and_query) {
  return Send("GET", path_and_query, "", "", /*idempotent=*/true);
}

Result Client::Send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& content_type, bool idempotent) {
  httplib::Request request;
  request.method = method;
  request.path = impl_->Target(path);
  request.headers = impl_->headers;
  request.body = body;
  if (!content_type.empty() && !body.empty()) request.set_header("Content-Type", content_type);
  bool safe = method == "GET" || method == "HEAD" || method == "OPTIONS";
  return impl_->Run(path, idempotent || safe,
                    [&](httplib::Client& connection) { return connection.send(request); });
}

Result Client::PutFile(const std::string& path, const fs::path& file,
                       const std::string& content_type) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat info {};
  if (fd.get() < 0 || ::fstat(fd.get(), &info) != 0) {
    throw Error(ErrorCode::kIoError,
                fmt::format("cannot read '{}': {}", file.string(), std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("cannot upload '{}': it is not a regular file", file.string()));
  }
  auto size = static_cast<size_t>(info.st_size);
  std::string target = impl_->Target(path);
  std::vector<char> buffer(std::min(kUploadChunkBytes, std::max<size_t>(size, 1)));
  // PUT is idempotent: each attempt sends the file from its start.
  return impl_->Run(path, /*idempotent=*/true, [&](httplib::Client& connection) {
    std::string read_error;
    auto result = connection.Put(
        target, impl_->headers, size,
        [&](size_t offset, size_t length, httplib::DataSink& sink) {
          size_t want = std::min(length, buffer.size());
          ssize_t got = ::pread(fd.get(), buffer.data(), want, static_cast<off_t>(offset));
          if (got <= 0) {
            read_error = got < 0 ? std::strerror(errno) : "the file became shorter while sending";
            return false;
          }
          sink.write(buffer.data(), static_cast<size_t>(got));  // a failed write ends as kWrite
          return true;
        },
        content_type);
    if (!read_error.empty()) {
      throw Error(ErrorCode::kIoError,
                  fmt::format("cannot read '{}': {}", file.string(), read_error));
    }
    return result;
  });
}

Result Client::GetToFile(const std::string& path_and_query, const fs::path& dest) {
  std::string target = impl_->Target(path_and_query);
  return impl_->Run(path_and_query, /*idempotent=*/true, [&](httplib::Client& connection) {
    // Created once the status is known to be 200; errors are kept for after the request, as
    // httplib's callbacks must not throw.
    std::optional<AtomicFileWriter> temp;
    std::string file_error;
    int status = 0;
    std::string error_body;
    auto result = connection.Get(
        target, impl_->headers,
        [&](const httplib::Response& response) {
          status = response.status;
          if (status != 200) return true;
          fs::path parent = dest.parent_path();
          std::error_code ec;
          if (!parent.empty()) fs::create_directories(parent, ec);
          if (ec) {
            file_error =
                fmt::format("cannot create folder '{}': {}", parent.string(), ec.message());
            return false;
          }
          try {
            temp.emplace(dest, fmt::format("cannot write '{}'", dest.string()), std::nullopt);
          } catch (const Error& e) {
            file_error = e.what();
            return false;
          }
          return true;
        },
        [&](const char* data, size_t size) {
          if (status == 200) {
            int err = temp->TryWrite(data, size);
            if (err != 0) {
              file_error = fmt::format("cannot write '{}': {}", temp->temp_path().string(),
                                       std::strerror(err));
            }
            return err == 0;
          }
          size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body.size());
          error_body.append(data, std::min(size, room));
          return true;
        });
    if (!file_error.empty()) throw Error(ErrorCode::kIoError, file_error);
    if (result) {
      if (status == 200) temp->Commit();
      result->body = std::move(error_body);
    }
    return result;
  });
}

std::string QueryString(const std::multimap<std::string, std::string>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    out += out.empty() ? '?' : '&';
    out += UrlEncode(name);
    out += '=';
    out += UrlEncode(value);
  }
  return out;
}

std::string UrlEncode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace mltrack::http
