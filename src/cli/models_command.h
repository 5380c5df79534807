// `mlt models register|list|versions|alias|transition|describe|download|export|serve|predict`:
// the model registry and model bundles, addressed by model URIs (registry/model_uri.h); serve
// and predict are models_serve.h.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"

namespace mltrack::cli {

// Adds the subcommands of `mlt models` to `command`.
void SetupModelsCommand(CLI::App& command, GlobalOptions& global);

}  // namespace mltrack::cli
