// `mlt experiments create|list|get|rename|delete|restore`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// Adds the subcommands of `mlt experiments` to `command`.
void SetupExperimentsCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
