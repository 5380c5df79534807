// `mlt train logistic ...`: the built-in trainers, on one process or under `mpirun -np N`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// Adds the subcommands of `mlt train` to `command`.
void SetupTrainCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
