#include "cli/server_command.h"

#include <malloc.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "server/tracking_server.h"

namespace mltrack::cli {
namespace {

void AddServerOptions(CLI::App& command, server::TrackingServerOptions* options) {
  command
      .add_option("--backend-store-uri", options->backend_store_uri,
                  "Where runs are stored: a SQLite database, sqlite:///<path>")
      ->type_name("URI")
      ->capture_default_str();
  command
      .add_option("--artifacts-destination", options->artifacts_destination,
                  "The folder that keeps the artifacts clients upload through the server")
      ->type_name("DIR")
      ->capture_default_str();
  AddListenOptions(command, &options->host, &options->port, &options->workers,
                   "Threads that serve requests");
  command
      .add_option("--max-request-bytes", options->max_request_bytes,
                  "The largest JSON request body (runs/log-batch included)")
      ->type_name("N")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

// Serves until SIGINT or SIGTERM, then stops: requests in flight finish, the port is released.
void Serve(const server::TrackingServerOptions& options, const char* command_name) {
  // Responses of megabytes (metric histories) are allocated and freed on every request; glibc
  // would hand each such block back to the kernel and fault it in again next time, which cost
  // more than building the response. Keep blocks up to 64 MiB in the heap for reuse.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  std::optional<server::TrackingServer> server;
  ServeUntilStopSignal(
      [&] {
        server.emplace(options);
        server->Start();
        std::string banner = fmt::format("mlt {} listening on {}\n", command_name, server->url());
        if (std::string_view(command_name) == "ui") {
          banner += fmt::format("Open {}/ in a browser\n", server->url());
        }
        return banner;
      },
      [&] { server->Stop(); }, [&] { server->Wait(); });
}

void SetupServe(CLI::App& command, const char* command_name) {
  // The server's store is --backend-store-uri: the --tracking-uri every command gets would be
  // silently ignored here, so it is not offered.
  command.remove_option(command.get_option("--tracking-uri"));
  auto options = std::make_shared<server::TrackingServerOptions>();
  AddServerOptions(command, options.get());
  command.callback([options, command_name] { Serve(*options, command_name); });
}

}  // namespace

void SetupServerCommand(CLI::App& command, GlobalOptions& global) {
  SetupServe(command, "server");
}

void SetupUiCommand(CLI::App& command, GlobalOptions& global) { SetupServe(command, "ui"); }

}  // namespace mltrack::cli
