// `mlt run` (an MLproject entry point, or a sweep of one) and `mlt rerun` (a recorded run
// again). Both end the process with the command's exit code (projects/runner.h says how a
// signal or a sweep maps to one); the progress lines go to stderr.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

void SetupRunCommand(CLI::App& command, GlobalOptions& global);
void SetupRerunCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
