// `mlt datasets generate classification|regression|ratings`: deterministic synthetic data sets
// (models/data/generators.h) written as CSV, for tests and benchmarks at any size.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// Adds the subcommands of `mlt datasets` to `command`.
void SetupDatasetsCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
