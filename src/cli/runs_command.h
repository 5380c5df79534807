// `mlt runs list|get|delete|restore|log-metric|log-param`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// Adds the subcommands of `mlt runs` to `command`.
void SetupRunsCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
