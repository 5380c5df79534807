#include "projects/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "mltrack/error.h"

extern char** environ;

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadChunk = 1 << 16;

[[noreturn]] void ThrowCannotRun(const std::string& program, int err) {
  throw Error(ErrorCode::kIoError,
              fmt::format("Cannot run '{}': {}", program, std::strerror(err)));
}

// A close-on-exec pipe whose ends are both above 2, so that the child's dup2 onto 0, 1 and 2
// never overwrites one of them (a process started with a standard stream closed would otherwise
// get that number back from pipe2). Close-on-exec keeps a pipe from leaking into a child that
// another thread starts at the same moment, which would hold its write end open and delay EOF.
bool MakePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  for (int& fd : fds) {
    if (fd > 2) continue;
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ::close(fd);
    fd = moved;
  }
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  return fds[0] >= 0 && fds[1] >= 0;
}

// This process's environment with `overrides` replacing or added to it, as "NAME=value".
std::vector<std::string> ChildEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string name(text.substr(0, text.find('=')));
    if (!overrides.count(name)) entries.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) entries.push_back(name + "=" + value);
  return entries;
}

std::vector<char*> NullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Owns posix_spawn's attribute and file-action objects for one spawn.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Reads both pipes until both reach EOF, whichever the child fills first: reading one to the end
// before the other would deadlock once the child blocks on the other's full pipe buffer.
void DrainPipes(Fd& out, Fd& err, CapturedRun& run) {
  std::vector<char> chunk(kReadChunk);
  while (out.get() >= 0 || err.get() >= 0) {
    pollfd fds[2] = {{out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};  // poll skips fd -1
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      // Cannot wait any more (ENOMEM): closing makes the child's next write fail, so that it
      // ends and the caller's waitpid returns, instead of blocking on a pipe nobody reads.
      out.Close();
      err.Close();
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      Fd& source = i == 0 ? out : err;
      ssize_t n = ::read(source.get(), chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        source.Close();
        continue;
      }
      (i == 0 ? run.out : run.err).append(chunk.data(), static_cast<size_t>(n));
    }
  }
}

}  // namespace

CapturedRun RunCaptured(const std::vector<std::string>& argv, const fs::path& cwd,
                        const std::map<std::string, std::string>& env) {
  assert(!argv.empty());
  const std::string& program = argv.front();
  if (!cwd.empty()) {
    // posix_spawn would report a missing folder as ENOENT, which reads as a missing program.
    struct stat info;
    int err = 0;
    if (::stat(cwd.c_str(), &info) != 0) {
      err = errno;
    } else if (!S_ISDIR(info.st_mode)) {
      err = ENOTDIR;
    }
    if (err != 0) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot run '{}' in '{}': {}", program,
                                                   cwd.string(), std::strerror(err)));
    }
  }

  Fd out_read, out_write, err_read, err_write;
  if (!MakePipe(out_read, out_write) || !MakePipe(err_read, err_write)) {
    ThrowCannotRun(program, errno);
  }

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err_write.get(), STDERR_FILENO);
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, cwd.c_str());
  // The caller may block or handle signals (the runner waits for SIGINT and SIGTERM in a
  // thread); the helper starts with default dispositions and nothing blocked.
  sigset_t no_signals, all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&setup.attributes, &no_signals);
  posix_spawnattr_setsigdefault(&setup.attributes, &all_signals);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = argv;
  std::vector<char*> arg_pointers = NullTerminated(args);
  std::vector<std::string> environment = ChildEnvironment(env);
  std::vector<char*> env_pointers = NullTerminated(environment);

  pid_t pid = 0;
  int rc = program.find('/') == std::string::npos
               ? ::posix_spawnp(&pid, program.c_str(), &setup.actions, &setup.attributes,
                                arg_pointers.data(), env_pointers.data())
               : ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attributes,
                               arg_pointers.data(), env_pointers.data());
  if (rc != 0) ThrowCannotRun(program, rc);
  // Only the child may hold the write ends now, so that EOF comes when it exits.
  out_write.Close();
  err_write.Close();

  CapturedRun run;
  DrainPipes(out_read, err_read, run);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw Error(ErrorCode::kIoError,
                  fmt::format("Cannot wait for '{}': {}", program, std::strerror(errno)));
    }
  }
  run.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return run;
}

}  // namespace mltrack::projects
