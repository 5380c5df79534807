#include "common/http_server.h"

#include <cassert>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/http_server_engine.h"
#include "common/http_server_router.h"
#include "mltrack/error.h"

// The Server facade and its lifecycle. The route table, body reading and limits, the conversion of
// requests and responses, and the connection loop are in http_server_{router,body,messages,engine}.

namespace mltrack::http {

struct Server::Impl {
  explicit Impl(ServerOptions options_in) : options(std::move(options_in)) {}

  ServerOptions options;
  detail::Router router;
  Handler not_found;
  std::unique_ptr<detail::Engine> engine;
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
  auto engine = std::make_unique<detail::Engine>(impl.options, impl.router, impl.not_found);
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
