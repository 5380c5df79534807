// Starting child processes: the one spawn primitive of the projects library (helper programs
// such as git, run to completion with their output captured; and MLproject commands, which
// run_environment.cc supervises).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/atomic_file.h"

namespace mltrack::projects {

// A close-on-exec pipe whose ends are both above 2, so that a child's dup2 onto 0, 1 and 2 never
// overwrites one of them (a process started with a standard stream closed would otherwise get
// that number back). Close-on-exec keeps a pipe from leaking into a child that another thread
// starts at the same moment, which would hold its write end open and delay end-of-file.
// Throws Error(kIoError) "Cannot create a pipe: <reason>".
struct Pipe {
  Fd read;
  Fd write;
};
Pipe MakeChildPipe();

struct ChildLaunch {
  std::vector<std::string> argv;               // argv[0] searched in PATH when it has no '/'
  std::string name;                            // names it in errors (default: argv[0])
  std::filesystem::path cwd;                   // empty: this process's working folder
  std::map<std::string, std::string> set_env;  // added to, or replacing, this process's
  std::vector<std::string> unset_env;          // removed from it
  int stdout_fd = -1;                          // dup2'd onto 1 and 2 (-1: inherited)
  int stderr_fd = -1;
  bool new_process_group = false;              // the child leads a process group of its own
};

// Starts the child with stdin from /dev/null, every signal at its default disposition (ignored
// ones survive exec: a `mlt run` started in the background by a shell ignores SIGINT, and its
// children must not) and none blocked (the caller may block signals to wait for them in a
// thread). Throws Error(kIoError) "Cannot run '<name>' in '<cwd>': <reason>" for a missing or
// non-folder cwd, and for a child that cannot start when cwd is set; "Cannot run '<name>':
// <reason>" otherwise.
pid_t SpawnChild(const ChildLaunch& launch);

// waitpid's status as an exit code: 128 + the signal number when a signal ended the child.
int ExitCodeOf(int status);

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
