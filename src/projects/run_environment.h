// Where a project run's command executes: the machine, as `mlt run` records it, and the
// command's own process (its variables, process group, output streams and stop signals).
//
// The machine, recorded as tags so that a rerun's figures can be read against the conditions
// they were measured in:
//   mlt.env.mltVersion   "0.9.0"
//   mlt.env.compiler     "GCC 12.2.0"            (the compiler `mlt` was built with)
//   mlt.env.os           "Debian GNU/Linux 12 (bookworm); Linux 6.1.0-18-amd64 x86_64"
//   mlt.env.cpu          "AMD EPYC 7B13"
//   mlt.env.cpuCount     "2"                     (processors online)
//   mlt.env.mpi          "Open MPI 4.1.4"        (only when `mpirun` is in PATH)
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mltrack/entities.h"

namespace mltrack::projects {

struct RunEnvironment {
  std::string mlt_version;
  std::string compiler;
  std::string os;
  std::string cpu_model;  // "" when the system does not say
  int cpu_count = 0;
  std::string mpi;        // "" when mpirun is not in PATH
};

// Reads the facts above. The MPI version costs one `mpirun --version` (about 10 ms); every
// other fact comes from this process and /proc. Never throws: a fact that cannot be read is "".
RunEnvironment DetectRunEnvironment();

// The tags above; a fact that is "" (or a count of 0) has no tag.
std::vector<Tag> EnvironmentTags(const RunEnvironment& env);

// "mpirun (Open MPI) 4.1.4" -> "Open MPI 4.1.4"; MPICH's "HYDRA build details: ... Version: 4.0"
// -> "MPICH 4.0"; any other output: its first line.
std::string MpiVersionFromOutput(const std::string& mpirun_version_output);

// While one exists, SIGINT, SIGTERM and SIGHUP sent to this process are forwarded to the process
// group of every command RunCommandProcess is running (their outcome says so), and Received()
// says that a stop was asked for, so that sweeps start no further trial. SIGPIPE is ignored
// meanwhile: a closed terminal must not kill `mlt run` and leave its run RUNNING. The previous
// dispositions come back on destruction. At most one exists at a time.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The last stop signal received while one exists; 0 when none (or when none exists).
  static int Received();
};

struct CommandLaunch {
  std::string command;                          // run as `bash -c <command>`
  std::filesystem::path dir;                    // its working folder
  std::map<std::string, std::string> set_env;   // added to, or replacing, this process's
  std::vector<std::string> unset_env;           // removed from it
  std::filesystem::path stdout_file;            // each stream is saved whole to its file
  std::filesystem::path stderr_file;
  int stdout_echo = -1;                         // and echoed as it comes to this fd (-1: not)
  int stderr_echo = -1;
  std::string echo_prefix;                      // starts every echoed line ("": none)
  // After a stop signal is forwarded, the process group is killed (SIGKILL) when the command has
  // not ended within this time.
  std::chrono::milliseconds kill_grace{10'000};
};

struct CommandOutcome {
  int exit_code = 0;    // the command's exit status; 128 + N when signal N ended it
  int stop_signal = 0;  // the stop signal forwarded to its process group (see StopSignals), or 0
};

// Runs the command to its end: in a new process group whose leader is bash, with stdin from
// /dev/null, the signals bash handles at their defaults and an empty signal mask, streaming its
// output as it comes. Returns when the command has exited and its output is saved; what it left
// running in its process group is then killed, so no process of the command outlives it. Throws
// Error(kIoError) when bash cannot start or the output cannot be saved (the command has ended).
CommandOutcome RunCommandProcess(const CommandLaunch& launch);

}  // namespace mltrack::projects
