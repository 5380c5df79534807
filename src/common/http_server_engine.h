// Internal to the HTTP server: the engine that listens, owns the connections and turns httplib's
// requests into calls of the routes. The one internal header that includes <httplib.h>.
#pragma once

#include <atomic>

#include <httplib.h>

#include "common/http_server.h"
#include "common/http_server_body.h"
#include "common/http_server_router.h"

namespace mltrack::http::detail {

class SocketStream;  // a connection's byte stream, in http_server_engine.cc
struct Exchange;     // what is known about the request being served, in http_server_engine.cc

// Inside Engine (an httplib::Server) `Handler` names httplib's handler type.
using RouteHandler = Handler;

// httplib's server with mltrack's connection loop: process_and_close_socket is httplib's
// per-connection hook (SSLServer overrides it too). Owning the loop lets Stop() wake idle
// keep-alive connections at once instead of after their timeout, lets an idle connection make
// room when others wait for a worker, and keeps the SIGPIPE-free stream of the connections.
// `options`, `router` and `not_found` must outlive the engine, which only reads them.
class Engine final : public httplib::Server {
 public:
  Engine(const ServerOptions& options, const Router& router, const RouteHandler& not_found);
  ~Engine() override;

  // httplib listens with a backlog of 5: a burst of new connections (16 client threads starting
  // at once) would overflow it, and each dropped SYN costs its client a 1 s retransmission.
  // listen() again on the bound socket only raises the backlog.
  void WidenBacklog();

  // Stops accepting and wakes idle connections; requests in flight finish. Closing the listening
  // socket through shutdown() (not httplib's stop()) keeps httplib from cutting short responses
  // it is streaming: it checks its listening socket for "shutting down" while writing them.
  void BeginStop();

  // After the listening thread returned: it closed the listening socket, but httplib keeps its
  // number; forget it so that nothing can act on a descriptor reused since.
  void ForgetListeningSocket() { svr_sock_ = INVALID_SOCKET; }

 private:
  bool process_and_close_socket(socket_t fd) override;

  // Waits until the next request on the connection starts to arrive. False when the connection
  // should close instead: the keep-alive timeout passed, the server is stopping, or another
  // connection waits for a worker while this one idles (each worker serves one connection at a
  // time, so an idle one would hold its worker until its timeout). A connection yields only after
  // idling a while, so a client sending requests back to back keeps it, and a new connection
  // longer still: a client would take its closing before the first answer for a failure.
  bool WaitForRequest(const SocketStream& stream, int fd, bool fresh);

  bool YieldToWaitingConnection();

  // httplib's setup hook, called after the request line and headers are parsed and before
  // routing: keeps what the route handler needs and hides from httplib what it should not act on.
  void Prepare(httplib::Request& request, Exchange& exchange);

  // httplib's handler of every request: routes it and answers it. `reader` is null for methods
  // whose body httplib does not read.
  void Serve(const httplib::Request& raw, httplib::Response& out,
             const httplib::ContentReader* reader);
  void ServeRoute(const Route& route, Request& request, Body& body, Response& response);

  const ServerOptions& options_;
  const Router& router_;
  const RouteHandler& not_found_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> waiting_{0};   // accepted connections no worker has taken yet
  std::atomic<int> yielding_{0};  // idle connections closing to make room for them
  int wake_fd_ = -1;              // readable once stopping
};

}  // namespace mltrack::http::detail
