// `mlt train als`: the ALS recommender on ratings files (models/als), alone or under mpirun,
// logging to a run like the other trainers (train_common.h).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// Adds the options and callback of `mlt train als` to `command`.
void SetupTrainAls(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
