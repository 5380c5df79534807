#include "projects/run_environment.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/text.h"
#include "mltrack/error.h"
#include "projects/subprocess.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;

std::string Compiler() {
#if defined(__clang__)
  return fmt::format("Clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("GCC {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "";
#endif
}

// The value of `key=...` in /etc/os-release, unquoted.
std::string OsReleaseValue(std::string_view key) {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() <= key.size() || line.compare(0, key.size(), key) != 0 ||
        line[key.size()] != '=') {
      continue;
    }
    std::string value = TrimAsciiSpace(std::string_view(line).substr(key.size() + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return "";
}

std::string OperatingSystem() {
  std::string kernel;
  if (utsname u{}; uname(&u) == 0) {
    kernel = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  }
  std::string distribution = OsReleaseValue("PRETTY_NAME");
  if (distribution.empty()) return kernel;
  if (kernel.empty()) return distribution;
  return distribution + "; " + kernel;
}

// The first "model name" (x86) or "Processor"/"cpu model" (other architectures) of /proc/cpuinfo.
std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = TrimAsciiSpace(std::string_view(line).substr(0, colon));
    if (key == "model name" || key == "Processor" || key == "cpu model") {
      return TrimAsciiSpace(std::string_view(line).substr(colon + 1));
    }
  }
  return "";
}

bool InPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) dir = ".";
    if (access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string MpiVersion() {
  if (!InPath("mpirun")) return "";
  try {
    CapturedRun run = RunCaptured({"mpirun", "--version"});
    if (run.exit_code != 0) return "";
    return MpiVersionFromOutput(run.out.empty() ? run.err : run.out);
  } catch (const std::exception&) {
    return "";  // mpirun vanished or cannot start: the fact is unknown, the run goes on
  }
}

}  // namespace

std::string MpiVersionFromOutput(const std::string& output) {
  std::istringstream in(output);
  std::string line;
  std::string first;
  bool hydra = false;
  while (std::getline(in, line)) {
    std::string text = TrimAsciiSpace(line);
    if (text.empty()) continue;
    if (first.empty()) first = text;
    if (text.rfind("mpirun (Open MPI)", 0) == 0 || text.rfind("mpiexec (Open MPI)", 0) == 0) {
      return "Open MPI " + TrimAsciiSpace(std::string_view(text).substr(text.find(')') + 1));
    }
    if (text.rfind("HYDRA build details", 0) == 0) hydra = true;
    if (hydra && text.rfind("Version:", 0) == 0) {
      return "MPICH " + TrimAsciiSpace(std::string_view(text).substr(8));
    }
  }
  return first;
}

RunEnvironment DetectRunEnvironment() {
  RunEnvironment env;
  env.mlt_version = MLT_VERSION;
  env.compiler = Compiler();
  env.os = OperatingSystem();
  env.cpu_model = CpuModel();
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  env.cpu_count = online > 0 ? static_cast<int>(online) : 0;
  env.mpi = MpiVersion();
  return env;
}

std::vector<Tag> EnvironmentTags(const RunEnvironment& env) {
  std::vector<Tag> tags;
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) tags.push_back({key, value});
  };
  add("mlt.env.mltVersion", env.mlt_version);
  add("mlt.env.compiler", env.compiler);
  add("mlt.env.os", env.os);
  add("mlt.env.cpu", env.cpu_model);
  if (env.cpu_count > 0) add("mlt.env.cpuCount", std::to_string(env.cpu_count));
  add("mlt.env.mpi", env.mpi);
  return tags;
}

// --- the command's process ----------------------------------------------------------------------

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The signal handler may only touch lock-free atomics and call write(2). Every command being
// supervised registers the write end of its own wake-up pipe in a slot (fd + 1; 0: free), so
// that each supervisor (sweeps run several at once) wakes up and forwards the signal to its own
// process group.
constexpr int kWakeSlots = 64;
std::atomic<int> g_wake_slots[kWakeSlots];
std::atomic<int> g_stop_signal{0};
std::atomic<unsigned> g_stop_count{0};
std::atomic<bool> g_stop_signals_active{false};
// Handlers running now: a wake-up pipe is closed only when none is, so that a handler never
// writes to a descriptor that was closed (and perhaps reused) after it read the slot.
std::atomic<int> g_handlers_running{0};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<unsigned>::is_always_lock_free &&
              std::atomic<bool>::is_always_lock_free);
// The stop signals: Ctrl-C, `kill`, and the hangup of the terminal (whose foreground group does
// not include the command's, so it would not see the hangup itself).
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[std::size(kStopSignals)];
struct sigaction g_previous_pipe;

extern "C" void OnStopSignal(int signo) {
  int saved_errno = errno;
  g_handlers_running.fetch_add(1);
  g_stop_signal.store(signo);
  g_stop_count.fetch_add(1);
  for (auto& slot : g_wake_slots) {
    if (int fd = slot.load() - 1; fd >= 0) (void)!::write(fd, "", 1);
  }
  g_handlers_running.fetch_sub(1);
  errno = saved_errno;
}

// A non-blocking pipe whose write end is registered for the handler while this lives.
class WakePipe {
 public:
  WakePipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;  // no wake-ups: Supervise polls
    read_ = Fd(fds[0]);
    write_ = Fd(fds[1]);
    for (auto& slot : g_wake_slots) {
      int expected = 0;
      if (slot.compare_exchange_strong(expected, write_.get() + 1)) {
        slot_ = &slot;
        break;
      }
    }
  }
  ~WakePipe() {
    if (!slot_) return;
    slot_->store(0);
    // A handler interrupting this thread ends before this line runs again: no deadlock.
    while (g_handlers_running.load() != 0) std::this_thread::yield();
  }
  WakePipe(const WakePipe&) = delete;
  WakePipe& operator=(const WakePipe&) = delete;

  int fd() const { return slot_ ? read_.get() : -1; }
  void Drain() const {
    char buffer[64];
    while (::read(read_.get(), buffer, sizeof buffer) > 0) {
    }
  }

 private:
  Fd read_, write_;
  std::atomic<int>* slot_ = nullptr;
};

// Writes all of `size` bytes; false (errno set) when the descriptor refuses them.
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Serializes the echo of prefixed lines, so that lines of concurrent commands do not interleave.
std::mutex g_echo_mutex;

// One output stream of the command: read from its pipe, saved whole to the capture file and
// echoed (each line after `prefix`, when there is one).
class OutputTee {
 public:
  OutputTee(Fd pipe, const fs::path& capture, int echo_fd, std::string prefix)
      : pipe_(std::move(pipe)), echo_fd_(echo_fd), prefix_(std::move(prefix)), name_(capture) {
    capture_ = Fd(::open(capture.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (capture_.get() < 0) capture_errno_ = errno;
    ::fcntl(pipe_.get(), F_SETFL, ::fcntl(pipe_.get(), F_GETFL) | O_NONBLOCK);
  }

  int fd() const { return pipe_.get(); }
  bool open() const { return pipe_.get() >= 0; }

  // One read; end-of-file (every writer gone) closes the pipe.
  void Read() {
    char buffer[1 << 16];
    ssize_t n = ::read(pipe_.get(), buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      Close();
      return;
    }
    if (capture_errno_ == 0 && !WriteAll(capture_.get(), buffer, n)) capture_errno_ = errno;
    Echo(std::string_view(buffer, n));
  }

  // Stops reading. A last prefixed line without a newline is echoed with one, so that the next
  // line of a concurrent command starts on a line of its own.
  void Close() {
    pipe_ = Fd();
    if (partial_.empty()) return;
    std::string line = prefix_ + partial_ + "\n";
    partial_.clear();
    std::lock_guard lock(g_echo_mutex);
    if (echo_fd_ >= 0 && !WriteAll(echo_fd_, line.data(), line.size())) echo_fd_ = -1;
  }

  // The capture file is complete, or Error(kIoError) says why not.
  void Finish() {
    if (capture_errno_ == 0 && capture_.Close() != 0) capture_errno_ = errno;
    if (capture_errno_ != 0) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot save the command's output in '{}': {}",
                                                   name_.string(), std::strerror(capture_errno_)));
    }
  }

 private:
  void Echo(std::string_view data) {
    if (echo_fd_ < 0) return;
    if (prefix_.empty()) {
      if (!WriteAll(echo_fd_, data.data(), data.size())) echo_fd_ = -1;  // the terminal is gone
      return;
    }
    std::string lines;
    for (char c : data) {
      partial_.push_back(c);
      if (c == '\n') {
        lines += prefix_;
        lines += partial_;
        partial_.clear();
      }
    }
    if (lines.empty()) return;
    std::lock_guard lock(g_echo_mutex);
    if (!WriteAll(echo_fd_, lines.data(), lines.size())) echo_fd_ = -1;
  }

  Fd pipe_;
  Fd capture_;
  int capture_errno_ = 0;
  int echo_fd_;
  std::string prefix_;
  std::string partial_;  // a prefixed stream's line that has no newline yet
  fs::path name_;
};

// Streams the command's output until it has exited and its pipes are closed, forwarding stop
// signals to its process group. When it has exited, what is left of its group is killed.
CommandOutcome Supervise(pid_t pid, OutputTee& out, OutputTee& err, const WakePipe& wake,
                         std::chrono::milliseconds kill_grace) {
  // A pidfd turns the command's exit into a poll event; without one (kernels before 5.3), and
  // without a wake-up pipe, poll wakes up every 50 ms to look.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  CommandOutcome outcome;
  unsigned seen_stops = 0;
  bool exited = false;
  constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point kill_at = kNever;      // SIGKILL the group then, unless it has exited
  Clock::time_point drain_until = kNever;  // after the exit: how long to wait for EOFs
  for (;;) {
    if (unsigned stops = g_stop_count.load();
        stops != seen_stops && !exited && g_stop_signals_active.load()) {
      seen_stops = stops;
      outcome.stop_signal = g_stop_signal.load();
      ::kill(-pid, outcome.stop_signal);
      if (kill_at == kNever) kill_at = Clock::now() + kill_grace;
    }
    if (!exited) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        outcome.exit_code = ExitCodeOf(status);
        // The group outlives its leader while members remain, and its id is not reused by then.
        ::kill(-pid, SIGKILL);
        drain_until = Clock::now() + std::chrono::seconds(1);
      }
    }
    if (exited && !out.open() && !err.open()) break;
    if (Clock::now() >= drain_until) break;  // a pipe held by an escaped process

    std::vector<pollfd> fds;
    for (const OutputTee* tee : {&out, &err}) {
      if (tee->open()) fds.push_back({tee->fd(), POLLIN, 0});
    }
    if (!exited && pidfd.get() >= 0) fds.push_back({pidfd.get(), POLLIN, 0});
    if (wake.fd() >= 0) fds.push_back({wake.fd(), POLLIN, 0});
    int timeout = -1;
    auto wait_until = [&](Clock::time_point t) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
      int wait = static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
      timeout = timeout < 0 ? wait : std::min(timeout, wait);
    };
    if (drain_until != kNever) wait_until(drain_until);
    if (kill_at != kNever && !exited) wait_until(kill_at);
    if (!exited && (pidfd.get() < 0 || wake.fd() < 0)) {
      wait_until(Clock::now() + std::chrono::milliseconds(50));
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      int err = errno;
      if (!exited) {  // the command must not outlive its supervisor
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
      throw Error(ErrorCode::kIoError,
                  fmt::format("Cannot watch the command's output: poll failed: {}",
                              std::strerror(err)));
    }
    if (wake.fd() >= 0) wake.Drain();
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (out.open() && p.fd == out.fd()) out.Read();
      if (err.open() && p.fd == err.fd()) err.Read();
    }
    if (!exited && Clock::now() >= kill_at) {
      ::kill(-pid, SIGKILL);
      kill_at = kNever;
    }
  }
  out.Close();
  err.Close();
  if (outcome.stop_signal != 0) outcome.exit_code = 128 + outcome.stop_signal;
  return outcome;
}

}  // namespace

StopSignals::StopSignals() {
  [[maybe_unused]] bool was_active = g_stop_signals_active.exchange(true);
  assert(!was_active && "one StopSignals at a time");
  g_stop_signal.store(0);
  g_stop_count.store(0);
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (size_t i = 0; i < std::size(kStopSignals); ++i) {
    sigaction(kStopSignals[i], &action, &g_previous[i]);
  }
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, &g_previous_pipe);
}

StopSignals::~StopSignals() {
  for (size_t i = 0; i < std::size(kStopSignals); ++i) {
    sigaction(kStopSignals[i], &g_previous[i], nullptr);
  }
  sigaction(SIGPIPE, &g_previous_pipe, nullptr);
  g_stop_signals_active.store(false);
}

int StopSignals::Received() { return g_stop_signals_active.load() ? g_stop_signal.load() : 0; }

CommandOutcome RunCommandProcess(const CommandLaunch& launch) {
  Pipe out_pipe = MakeChildPipe();
  Pipe err_pipe = MakeChildPipe();
  OutputTee out(std::move(out_pipe.read), launch.stdout_file, launch.stdout_echo,
                launch.echo_prefix);
  OutputTee err(std::move(err_pipe.read), launch.stderr_file, launch.stderr_echo,
                launch.echo_prefix);
  WakePipe wake;  // registered before the spawn: a signal from then on is forwarded
  pid_t pid = SpawnChild({.argv = {"bash", "-c", launch.command},
                          .name = "bash -c",
                          .cwd = launch.dir,
                          .set_env = launch.set_env,
                          .unset_env = launch.unset_env,
                          .stdout_fd = out_pipe.write.get(),
                          .stderr_fd = err_pipe.write.get(),
                          .new_process_group = true});
  // The command holds the only write ends: its exit brings end-of-file.
  out_pipe.write.Close();
  err_pipe.write.Close();
  CommandOutcome outcome = Supervise(pid, out, err, wake, launch.kill_grace);
  out.Finish();
  err.Finish();
  return outcome;
}

}  // namespace mltrack::projects
