// `mlt`: the command-line tool. A table of subcommands, each a small module; this file parses the
// command line and is the one place that turns errors into messages and exit codes.
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/artifacts_command.h"
#include "cli/build_info.h"
#include "cli/cli_util.h"
#include "cli/datasets_command.h"
#include "cli/experiments_command.h"
#include "cli/models_command.h"
#include "cli/run_command.h"
#include "cli/runs_command.h"
#include "cli/server_command.h"
#include "cli/train_command.h"
#include "mltrack/error.h"
#include "models/als/als_model.h"
#include "models/dist/communicator.h"
#include "models/forest/forest_model.h"
#include "models/logistic/logistic_model.h"

namespace mltrack::cli {
namespace {

enum ExitCode {
  kExitOk = 0,
  kExitRequestError = 1,  // the request was refused: bad input, missing or duplicate entity
  kExitUsage = 2,         // the command line itself is wrong
  kExitEnvironment = 3,   // the environment failed: I/O, a store that is unavailable, a bug
};

constexpr const char* kExitCodesFooter =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the request was refused: invalid value, no such experiment, run or artifact, a name\n"
    "     already taken, an operation the entity's state forbids\n"
    "  2  usage error: unknown subcommand or option, missing or malformed argument\n"
    "  3  environment or internal failure: I/O error, store unavailable, internal error";

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kIoError:
    case ErrorCode::kTemporarilyUnavailable:
    case ErrorCode::kInternalError:
      return kExitEnvironment;
    case ErrorCode::kInvalidParameterValue:
    case ErrorCode::kResourceDoesNotExist:
    case ErrorCode::kResourceAlreadyExists:
    case ErrorCode::kInvalidState:
    case ErrorCode::kBadRequest:
    case ErrorCode::kResourceLimitExceeded:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kEndpointNotFound:
      return kExitRequestError;
  }
  return kExitEnvironment;
}

// Under mpirun every rank runs the same command and fails with the same agreed error
// (train_common.h): only rank 0 reports it, so that a failure is printed once.
bool IsSecondaryMpiRank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    if (const char* value = std::getenv(name)) return std::string_view(value) != "0";
  }
  return false;
}

void PrintError(std::string_view message) {
  std::fflush(stdout);
  if (IsSecondaryMpiRank()) return;
  fmt::print(stderr, "mlt: error: {}\n", message);
}

// An error of this process alone. Under mpirun the other ranks may be waiting for this one in a
// collective: the job is ended at once, with this rank's message.
int FailAlone(std::string_view message, int exit_code) {
  if (!dist::LaunchedByMpi()) {
    PrintError(message);
    return exit_code;
  }
  std::fflush(stdout);
  fmt::print(stderr, "mlt: error: {}\n", message);
  dist::AbortJob(exit_code);
}

const std::vector<CommandSpec>& TopLevelCommands() {
  static const std::vector<CommandSpec> commands = {
      {"datasets", "Generate synthetic data sets (classification, regression, ratings) as CSV",
       SetupDatasetsCommand},
      {"experiments", "Create, list, show, rename, delete and restore experiments",
       SetupExperimentsCommand},
      {"runs", "List, show, delete and restore runs; log metrics and params to one",
       SetupRunsCommand},
      {"run", "Run an MLproject entry point (or a sweep of it) and record it as a run",
       SetupRunCommand},
      {"rerun", "Run a recorded project run again and compare its metrics", SetupRerunCommand},
      {"artifacts", "Log, list and download the artifacts of a run", SetupArtifactsCommand},
      {"models", "Register, version, alias, describe, download, export, serve and score models",
       SetupModelsCommand},
      {"train", "Train a built-in model on CSV data and log it to a run (also under mpirun)",
       SetupTrainCommand},
      {"server", "Run the tracking server (MLflow's REST API and artifact proxy)",
       SetupServerCommand},
      {"ui", "Run the tracking server for the web UI", SetupUiCommand},
  };
  return commands;
}

int Main(int argc, char** argv) {
  // The built-in flavors, so that every command can load the models the trainers save.
  logistic::RegisterLogisticFlavor();
  forest::RegisterForestFlavor();
  als::RegisterAlsFlavor();
  GlobalOptions global;
  CLI::App app("mlt: track experiments, runs and artifacts (MLflow-compatible)", "mlt");
  app.set_version_flag("--version", fmt::format("mlt {} ({})", MLT_VERSION, kGitCommit),
                       "Print the version and the commit it was built from, and exit");
  app.footer(kExitCodesFooter);
  AddTrackingUriOption(app, global);
  AddCommands(app, global, TopLevelCommands());

  // Subcommand callbacks do the work, so errors from the store surface from parse() too.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e);  // --help or --version: printed to stdout
    }
    PrintError(e.what());
    fmt::print(stderr, "Run with --help for more information.\n");
    return kExitUsage;
  } catch (const ExitStatus& status) {
    std::fflush(stdout);
    return status.code;
  } catch (const dist::AgreedError& e) {
    PrintError(e.what());  // every rank failed alike: rank 0 reports it
    return ExitCodeFor(e.code());
  } catch (const Error& e) {
    return FailAlone(e.what(), ExitCodeFor(e.code()));
  } catch (const std::exception& e) {
    return FailAlone(e.what(), kExitEnvironment);
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitEnvironment;
}

}  // namespace
}  // namespace mltrack::cli

int main(int argc, char** argv) { return mltrack::cli::Main(argc, argv); }
