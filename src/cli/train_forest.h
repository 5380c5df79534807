// `mlt train forest`: the random forest trainer on CSV data (models/forest), alone or under
// mpirun, logging to a run like `mlt train logistic` (train_common.h).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// Adds the options and callback of `mlt train forest` to `command`.
void SetupTrainForest(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
