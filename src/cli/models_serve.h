// `mlt models serve` and `mlt models predict`: a model behind the scoring server
// (serving/scoring_server.h), and the same decoding, checks and scoring over files.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// mlt models serve -m URI [--host H] [--port P] [--workers N] [--watch] [--watch-interval S]
//                  [--timeout S] [--max-body-mb N]
// Prints "mlt models serve listening on <url>" once serving, and serves until SIGINT or SIGTERM;
// then requests in flight finish and it exits 0.
void SetupModelsServeCommand(CLI::App& command, GlobalOptions& global);

// mlt models predict -m URI -i in.csv|in.json [-o out.json|out.csv]
// Formats by extension. JSON input is any of the server's JSON formats; JSON output is
// {"predictions": ...} as the server answers, CSV output the predictions as a table. Without -o
// the JSON answer goes to stdout.
void SetupModelsPredictCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
