// `mlt server` and `mlt ui`: run the tracking server (MLflow's REST API, the artifact proxy,
// /health, /version) in the foreground until SIGINT or SIGTERM, then stop gracefully (requests
// in flight finish) and exit 0.
//
//   mlt server --backend-store-uri sqlite:///mlruns.db --artifacts-destination ./mlartifacts
//              --host 127.0.0.1 --port 5000 [--workers N] [--max-request-bytes N]
//
// Once the port is bound it prints `mlt server listening on http://<host>:<port>` (the bound
// port, also for --port 0). `mlt ui` takes the same options and, until the web pages exist,
// serves the same API.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

void SetupServerCommand(CLI::App& command, GlobalOptions& global);
void SetupUiCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
