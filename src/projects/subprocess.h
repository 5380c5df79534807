// Running a helper program (git) to completion and capturing what it prints.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mltrack::projects {

struct CapturedRun {
  int exit_code = 0;  // 128 + signal number when a signal ended it
  std::string out;
  std::string err;
};

// Runs argv (argv[0] searched in PATH when it has no '/') in `cwd` (empty: the current folder),
// with `env` added to (or replacing entries of) this process's environment, stdin from
// /dev/null, and waits for it. Throws Error(kIoError) "Cannot run 'git': No such file or
// directory" when it cannot start. Never throws for a non-zero exit.
CapturedRun RunCaptured(const std::vector<std::string>& argv,
                        const std::filesystem::path& cwd = {},
                        const std::map<std::string, std::string>& env = {});

}  // namespace mltrack::projects
