// `mlt artifacts log|list|download`: the files of a run, in the repository its artifact_uri names.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// Adds the subcommands of `mlt artifacts` to `command`.
void SetupArtifactsCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
