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
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "mltrack/error.h"

extern char** environ;

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadChunk = 1 << 16;

std::vector<char*> NullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// This process's environment without `unset`, with `set` replacing or added to it.
std::vector<std::string> ChildEnvironment(const ChildLaunch& launch) {
  std::set<std::string_view> unset(launch.unset_env.begin(), launch.unset_env.end());
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string name(text.substr(0, text.find('=')));
    if (unset.count(name) || launch.set_env.count(name)) continue;
    entries.emplace_back(text);
  }
  for (const auto& [name, value] : launch.set_env) entries.push_back(name + "=" + value);
  return entries;
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

Pipe MakeChildPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw Error(ErrorCode::kIoError, fmt::format("Cannot create a pipe: {}", std::strerror(errno)));
  }
  for (int& fd : fds) {
    if (fd > 2) continue;
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int err = errno;
    ::close(fd);
    fd = moved;
    if (fd < 0) {
      if (fds[0] >= 0) ::close(fds[0]);
      if (fds[1] >= 0) ::close(fds[1]);
      throw Error(ErrorCode::kIoError, fmt::format("Cannot create a pipe: {}", std::strerror(err)));
    }
  }
  return {Fd(fds[0]), Fd(fds[1])};
}

pid_t SpawnChild(const ChildLaunch& launch) {
  assert(!launch.argv.empty());
  const std::string& program = launch.argv.front();
  const std::string& name = launch.name.empty() ? program : launch.name;
  auto cannot_run = [&](int err) {
    return Error(ErrorCode::kIoError,
                 launch.cwd.empty()
                     ? fmt::format("Cannot run '{}': {}", name, std::strerror(err))
                     : fmt::format("Cannot run '{}' in '{}': {}", name, launch.cwd.string(),
                                   std::strerror(err)));
  };
  if (!launch.cwd.empty()) {
    // posix_spawn would report a missing folder as ENOENT, which reads as a missing program.
    struct stat info;
    if (::stat(launch.cwd.c_str(), &info) != 0) throw cannot_run(errno);
    if (!S_ISDIR(info.st_mode)) throw cannot_run(ENOTDIR);
  }

  SpawnSetup setup;
  if (launch.stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&setup.actions, launch.stdout_fd, STDOUT_FILENO);
  }
  if (launch.stderr_fd >= 0) {
    posix_spawn_file_actions_adddup2(&setup.actions, launch.stderr_fd, STDERR_FILENO);
  }
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!launch.cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, launch.cwd.c_str());
  sigset_t no_signals, all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&setup.attributes, &no_signals);
  posix_spawnattr_setsigdefault(&setup.attributes, &all_signals);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (launch.new_process_group) {
    posix_spawnattr_setpgroup(&setup.attributes, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&setup.attributes, flags);

  std::vector<std::string> args = launch.argv;
  std::vector<char*> arg_pointers = NullTerminated(args);
  std::vector<std::string> environment = ChildEnvironment(launch);
  std::vector<char*> env_pointers = NullTerminated(environment);
  pid_t pid = 0;
  int rc = program.find('/') == std::string::npos
               ? ::posix_spawnp(&pid, program.c_str(), &setup.actions, &setup.attributes,
                                arg_pointers.data(), env_pointers.data())
               : ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attributes,
                               arg_pointers.data(), env_pointers.data());
  if (rc != 0) throw cannot_run(rc);
  return pid;
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

CapturedRun RunCaptured(const std::vector<std::string>& argv, const fs::path& cwd,
                        const std::map<std::string, std::string>& env) {
  Pipe out = MakeChildPipe();
  Pipe err = MakeChildPipe();
  pid_t pid = SpawnChild({.argv = argv,
                          .cwd = cwd,
                          .set_env = env,
                          .stdout_fd = out.write.get(),
                          .stderr_fd = err.write.get()});
  // Only the child may hold the write ends now, so that EOF comes when it exits.
  out.write.Close();
  err.write.Close();

  CapturedRun run;
  DrainPipes(out.read, err.read, run);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw Error(ErrorCode::kIoError,
                  fmt::format("Cannot wait for '{}': {}", argv.front(), std::strerror(errno)));
    }
  }
  run.exit_code = ExitCodeOf(status);
  return run;
}

}  // namespace mltrack::projects
