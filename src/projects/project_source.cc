#include "projects/project_source.h"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/safe_path.h"
#include "common/text.h"
#include "mltrack/error.h"
#include "projects/sha256.h"
#include "projects/subprocess.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;

// Cache entries are <cache>/<the first kUrlKeyLength hex digits of sha256(url)>/<commit>.
constexpr size_t kUrlKeyLength = 16;

[[noreturn]] void Refuse(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// The line of git's stderr that says what went wrong: its first "fatal: " line (the later ones
// are generic advice such as "Please make sure you have the correct access rights"), else its
// last non-empty line.
std::string GitReason(const CapturedRun& run) {
  std::string last;
  for (std::string_view line : Lines(run.err)) {
    constexpr std::string_view kFatal = "fatal: ";
    if (line.starts_with(kFatal)) return TrimAsciiSpace(line.substr(kFatal.size()));
    if (!TrimAsciiSpace(line).empty()) last = TrimAsciiSpace(line);
  }
  return last.empty() ? fmt::format("git exited with status {}", run.exit_code) : last;
}

// Whether `url` reaches its host through ssh: ssh://, git+ssh://, or scp-like user@host:path.
bool IsSshUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    return url.substr(0, scheme_end).find("ssh") != std::string_view::npos;
  }
  size_t colon = url.find(':');
  return colon != std::string_view::npos &&
         url.substr(0, colon).find('/') == std::string_view::npos &&
         url.find("::") == std::string_view::npos;
}

// Every git command runs unattended: a repository that asks for credentials fails instead of
// waiting for an answer nobody will type (stdin is /dev/null, and GIT_TERMINAL_PROMPT=0 keeps
// git from asking on the terminal). Messages are in English, as mltrack's own are; optional
// locks are skipped so that `git status` never contends with the user's own git commands.
std::map<std::string, std::string> GitEnvironment() {
  return {{"GIT_TERMINAL_PROMPT", "0"}, {"GIT_OPTIONAL_LOCKS", "0"}, {"LC_ALL", "C"}};
}

CapturedRun Git(std::vector<std::string> args, const fs::path& cwd = {},
                std::map<std::string, std::string> env = GitEnvironment()) {
  args.insert(args.begin(), "git");
  return RunCaptured(args, cwd, env);
}

// ssh reads passwords and host-key answers from /dev/tty, past GIT_TERMINAL_PROMPT; BatchMode
// makes it fail instead. A user's own GIT_SSH_COMMAND, GIT_SSH or core.sshCommand is left alone.
std::map<std::string, std::string> CloneEnvironment(const std::string& url) {
  std::map<std::string, std::string> env = GitEnvironment();
  if (!IsSshUrl(url) || ::getenv("GIT_SSH_COMMAND") != nullptr || ::getenv("GIT_SSH") != nullptr) {
    return env;
  }
  if (Git({"config", "--get", "core.sshCommand"}).exit_code != 0) {
    env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
  }
  return env;
}

bool IsHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c); });
}

// A full SHA-1 or SHA-256 object name, which names a commit without asking the remote.
bool IsFullCommitHash(std::string_view version) {
  return (version.size() == 40 || version.size() == 64) && IsHex(version);
}

// "scheme://..." names a repository even when a folder of that name exists.
bool HasUrlScheme(std::string_view uri) {
  size_t end = uri.find("://");
  if (end == std::string_view::npos || end == 0 ||
      !std::isalpha(static_cast<unsigned char>(uri[0]))) {
    return false;
  }
  return std::all_of(
      uri.begin(), uri.begin() + static_cast<std::ptrdiff_t>(end),
      [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; });
}

// What git reads as a remote when it is not a folder: "host:path", "user@host:path" and
// "helper::address" all have a ':' before any '/'.
bool LooksLikeRemote(std::string_view uri) {
  size_t colon = uri.find(':');
  return colon != std::string_view::npos &&
         uri.substr(0, colon).find('/') == std::string_view::npos;
}

fs::path AbsoluteFolderPath(const std::string& location) {
  fs::path path = fs::absolute(location).lexically_normal();
  if (!path.has_filename() && path != path.root_path()) path = path.parent_path();
  return path;
}

// root / subdirectory, refused with the messages of the header when it leaves `root`, lexically
// or through a symbolic link, or is not a folder.
fs::path ProjectFolder(const fs::path& root, const std::string& relative,
                       const std::string& given, const std::string& source) {
  auto escapes = [&] {
    Refuse(fmt::format("The subdirectory '{}' of '{}' escapes the repository", given, source));
  };
  auto not_a_folder = [&] {
    Refuse(fmt::format("The subdirectory '{}' of '{}' is not a folder of the repository", given,
                       source));
  };
  if (relative.empty()) return root;
  fs::path dir;
  try {
    // `relative` is normalized already: what is left to refuse is a symbolic link leading out.
    dir = ResolveUnder(root, relative, "subdirectory");
  } catch (const Error&) {
    escapes();
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) not_a_folder();
  return dir;
}

// The subdirectory as given, normalized; ".." and absolute paths are refused before anything is
// cloned.
std::string CheckedSubdirectory(const std::string& given, const std::string& source) {
  if (given.starts_with('/')) {
    Refuse(fmt::format("The subdirectory '{}' of '{}' escapes the repository", given, source));
  }
  for (const auto& part : fs::path(given)) {
    if (part == "..") {
      Refuse(fmt::format("The subdirectory '{}' of '{}' escapes the repository", given, source));
    }
  }
  try {
    return NormalizeRelativePath(given, "subdirectory");
  } catch (const Error&) {
    Refuse(fmt::format("The subdirectory '{}' of '{}' is not a folder of the repository", given,
                       source));
  }
}

// The refs a remote advertises, tags peeled to the commit they point at.
struct RemoteRefs {
  std::map<std::string, std::string> commits;  // full ref name ("HEAD", "refs/tags/v1") -> hash
  std::string head_branch;                      // the branch HEAD names, "" when detached
};

// A repository to clone into the cache, and how the user named it.
struct CloneRequest {
  std::string url;           // what git clones; with the commit, the cache key
  std::string source_name;   // in FetchedProject and in every message
  std::string subdirectory;  // normalized, relative to the repository's root
  std::string subdirectory_given;
};

[[noreturn]] void CannotClone(const CloneRequest& request, const std::string& reason) {
  Refuse(fmt::format("Cannot clone '{}': {}", request.source_name, reason));
}

RemoteRefs ListRemote(const CloneRequest& request) {
  CapturedRun run = Git({"ls-remote", "--symref", "--", request.url}, {},
                        CloneEnvironment(request.url));
  if (run.exit_code != 0) CannotClone(request, GitReason(run));
  RemoteRefs refs;
  std::map<std::string, std::string> peeled;
  for (std::string_view line : Lines(run.out)) {
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    std::string_view value = line.substr(0, tab);
    std::string name(line.substr(tab + 1));
    if (value.starts_with("ref: ")) {
      constexpr std::string_view kHeads = "refs/heads/";
      value.remove_prefix(5);
      if (name == "HEAD" && value.starts_with(kHeads)) {
        refs.head_branch = std::string(value.substr(kHeads.size()));
      }
    } else if (name.ends_with("^{}")) {
      peeled[name.substr(0, name.size() - 3)] = std::string(value);
    } else {
      refs.commits[name] = std::string(value);
    }
  }
  for (auto& [name, commit] : peeled) refs.commits[name] = commit;
  return refs;
}

// The commit `version` names among the remote's refs, in git's order of precedence (an exact
// ref name, refs/<v>, a tag, a branch); "" when it names none (it may still be a commit hash or
// a revision such as main~1, which only a clone can tell).
std::string FindRef(const RemoteRefs& refs, const std::string& version) {
  for (std::string_view prefix : {"", "refs/", "refs/tags/", "refs/heads/"}) {
    auto it = refs.commits.find(std::string(prefix) + version);
    if (it != refs.commits.end()) return it->second;
  }
  return "";
}

// The full hash of the commit `revision` names in the repository at `repo`, "" when none.
std::string CommitOf(const fs::path& repo, const std::string& revision) {
  CapturedRun run = Git({"rev-parse", "--verify", "--quiet", "--end-of-options",
                         revision + "^{commit}"}, repo);
  return run.exit_code == 0 ? TrimAsciiSpace(run.out) : "";
}

// A folder made for a clone beside the cache entries, removed with its contents unless it was
// renamed into place: whatever fails or throws, no half-filled clone remains.
class CloneFolder {
 public:
  explicit CloneFolder(const fs::path& parent) {
    std::string pattern = (parent / (std::string(kTempFilePrefix) + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot create a folder in '{}': {}",
                                                   parent.string(), std::strerror(errno)));
    }
    path_ = pattern;
  }
  ~CloneFolder() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  CloneFolder(const CloneFolder&) = delete;
  CloneFolder& operator=(const CloneFolder&) = delete;

  const fs::path& path() const { return path_; }

  // Renames the clone to `dest`. When `dest` appeared meanwhile, another process stored the
  // same commit: its entry is as good, and this clone is discarded.
  void MoveTo(const fs::path& dest) {
    std::error_code ec;
    fs::rename(path_, dest, ec);
    if (!ec) {
      path_.clear();
      return;
    }
    std::error_code exists_ec;
    if (fs::is_directory(dest, exists_ec)) return;
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot store a clone in the project cache '{}': {}", dest.string(),
                            ec.message()));
  }

 private:
  fs::path path_;
};

// Clones request.url into the cache and checks out `commit`, or, when it is "", the commit
// `version` names; returns that commit. An entry already there for the commit is kept.
std::string CloneIntoCache(const CloneRequest& request, const std::optional<std::string>& version,
                           const std::string& commit, const fs::path& key_dir) {
  std::error_code ec;
  fs::create_directories(key_dir, ec);
  if (ec) {
    throw Error(ErrorCode::kIoError, fmt::format("Cannot create the project cache folder '{}': {}",
                                                 key_dir.string(), ec.message()));
  }
  CloneFolder clone(key_dir);
  std::map<std::string, std::string> env = CloneEnvironment(request.url);
  CapturedRun run = Git({"clone", "--quiet", "--no-checkout", "--", request.url,
                         clone.path().string()}, {}, env);
  if (run.exit_code != 0) CannotClone(request, GitReason(run));

  std::string target = commit.empty() ? version.value_or("HEAD") : commit;
  std::string resolved = CommitOf(clone.path(), target);
  if (resolved.empty() && !commit.empty()) {
    // A commit advertised under a ref that clone does not fetch (refs/pull/..., refs/changes/...).
    Git({"fetch", "--quiet", "origin", commit}, clone.path(), env);
    resolved = CommitOf(clone.path(), commit);
  }
  if (resolved.empty()) {
    CapturedRun log = Git({"log", "-1", "--format=%H", "--end-of-options", target, "--"},
                          clone.path());
    std::string reason = log.exit_code != 0 ? GitReason(log)
                                            : fmt::format("'{}' is not a commit", target);
    Refuse(fmt::format("Version '{}' of '{}' does not exist: {}", version.value_or(target),
                       request.source_name, reason));
  }
  fs::path entry = key_dir / resolved;
  if (fs::is_directory(entry, ec)) return resolved;

  run = Git({"checkout", "--quiet", "--detach", resolved}, clone.path());
  if (run.exit_code != 0) {
    throw Error(ErrorCode::kIoError, fmt::format("Cannot check out '{}' of '{}': {}", resolved,
                                                 request.source_name, GitReason(run)));
  }
  clone.MoveTo(entry);
  return resolved;
}

FetchedProject FetchGit(const CloneRequest& request, const std::optional<std::string>& version,
                        const fs::path& cache_root) {
  // Absolute, so that FetchedProject::dir stays valid whatever folder the command runs in.
  fs::path key_dir = fs::absolute(cache_root) / Sha256Hex(request.url).substr(0, kUrlKeyLength);
  std::string branch = version.value_or("");
  // A full hash is looked up in the cache before anything else: a rerun of a cached commit needs
  // neither the network nor the remote to still exist.
  std::string commit = version && IsFullCommitHash(*version) ? AsciiLower(*version) : "";
  std::error_code ec;
  if (commit.empty()) {
    RemoteRefs refs = ListRemote(request);
    if (!version) {
      auto head = refs.commits.find("HEAD");
      if (head == refs.commits.end()) {
        CannotClone(request, "its HEAD names no commit; choose one with --version");
      }
      commit = head->second;
      branch = refs.head_branch;
    } else {
      commit = FindRef(refs, *version);
    }
  }
  if (commit.empty() || !fs::is_directory(key_dir / commit, ec)) {
    commit = CloneIntoCache(request, version, commit, key_dir);
  }
  fs::path dir = ProjectFolder(key_dir / commit, request.subdirectory,
                               request.subdirectory_given, request.source_name);
  GitInfo git{.commit = commit, .repo_url = request.url, .branch = branch};
  return {dir, request.source_name, request.subdirectory_given, std::move(git)};
}

// A local folder with --version: the repository holding it is cloned at that version, and the
// folder's place in it is prepended to the subdirectory.
FetchedProject FetchLocalVersion(const fs::path& folder, const std::string& subdirectory,
                                 const std::string& given, const std::string& version,
                                 const fs::path& cache_root) {
  std::string source = folder.string();
  CloneRequest request{.source_name = source, .subdirectory_given = given};
  // In a bare repository git prints "true" and the git folder, then fails on --show-toplevel.
  CapturedRun run;
  try {
    run = Git({"rev-parse", "--is-bare-repository", "--absolute-git-dir", "--show-toplevel"},
              folder);
  } catch (const Error&) {
    run.exit_code = -1;  // no git: no repository either
  }
  std::vector<std::string_view> lines = Lines(run.out);
  if (lines.size() >= 2 && lines[0] == "true") {
    request.url = std::string(lines[1]);
    request.subdirectory = subdirectory;
  } else if (run.exit_code == 0 && lines.size() >= 3) {
    fs::path top(lines[2]);
    std::error_code ec;
    fs::path inside = fs::canonical(folder, ec).lexically_relative(top);
    request.url = top.string();
    // Both parts are normalized and free of "..": this only joins them ("." + "" -> "").
    request.subdirectory = NormalizeRelativePath((inside / subdirectory).generic_string(),
                                                 "subdirectory");
  } else {
    Refuse(fmt::format("--version applies to git projects; '{}' is not in a git repository",
                       source));
  }
  return FetchGit(request, version, cache_root);
}

}  // namespace

FetchedProject FetchProject(const std::string& uri, const std::optional<std::string>& version,
                            const fs::path& cache_root) {
  // Split at the first '#', as MLflow does.
  size_t hash = uri.find('#');
  std::string location = uri.substr(0, hash);
  std::string given = hash == std::string::npos ? "" : uri.substr(hash + 1);

  bool is_folder = false;
  fs::path folder;
  if (!HasUrlScheme(location) && !location.empty()) {
    folder = AbsoluteFolderPath(location);
    std::error_code ec;
    is_folder = fs::is_directory(folder, ec);
  }
  if (is_folder) {
    std::string source = folder.string();
    std::string subdirectory = CheckedSubdirectory(given, source);
    if (version) return FetchLocalVersion(folder, subdirectory, given, *version, cache_root);
    fs::path dir = ProjectFolder(folder, subdirectory, given, source);
    return {dir, source, given, LocalGitInfo(dir)};
  }
  if (!HasUrlScheme(location) && !LooksLikeRemote(location)) {
    Refuse(fmt::format("No project folder at '{}'",
                       location.empty() ? location : AbsoluteFolderPath(location).string()));
  }
  CloneRequest request{.url = location,
                       .source_name = location,
                       .subdirectory = CheckedSubdirectory(given, location),
                       .subdirectory_given = given};
  return FetchGit(request, version, cache_root);
}

fs::path DefaultProjectCache() {
  auto variable = [](const char* name) -> std::string {
    const char* value = ::getenv(name);
    return value == nullptr ? "" : value;
  };
  if (std::string cache = variable("MLT_PROJECT_CACHE"); !cache.empty()) {
    return fs::absolute(cache);
  }
  // The XDG base directory spec: an empty or relative XDG_CACHE_HOME is ignored.
  if (std::string xdg = variable("XDG_CACHE_HOME"); !xdg.empty() && xdg.starts_with('/')) {
    return fs::path(xdg) / "mltrack" / "projects";
  }
  if (std::string home = variable("HOME"); !home.empty()) {
    return fs::path(home) / ".cache" / "mltrack" / "projects";
  }
  Refuse("Cannot choose a project cache folder: set MLT_PROJECT_CACHE or HOME");
}

std::optional<GitInfo> LocalGitInfo(const fs::path& dir) {
  // One `git status` gives the commit, the branch and whether anything changed: a run pays for
  // every git process before its command starts.
  CapturedRun status;
  try {
    status = Git({"status", "--porcelain=v2", "--branch", "--untracked-files=normal"}, dir);
  } catch (const Error&) {
    return std::nullopt;  // git is missing, or `dir` is not a folder
  }
  if (status.exit_code != 0) return std::nullopt;
  GitInfo info;
  for (std::string_view line : Lines(status.out)) {
    if (line.starts_with("# branch.oid ")) {
      info.commit = std::string(line.substr(13));
    } else if (line.starts_with("# branch.head ")) {
      info.branch = std::string(line.substr(14));
    } else if (!line.starts_with("# ") && !line.empty()) {
      info.dirty = true;  // a changed, unmerged or untracked path (ignored ones are not listed)
    }
  }
  // "(initial)": no commit yet, so nothing a run could name.
  if (info.commit.empty() || info.commit == "(initial)") return std::nullopt;
  if (info.branch == "(detached)") info.branch.clear();

  CapturedRun origin = Git({"config", "--get", "remote.origin.url"}, dir);
  if (origin.exit_code == 0) info.repo_url = TrimAsciiSpace(origin.out);
  if (info.dirty) {
    CapturedRun diff = Git({"diff", "--no-color", "--no-ext-diff", "HEAD"}, dir);
    if (diff.exit_code == 0) info.diff = std::move(diff.out);
  }
  return info;
}

}  // namespace mltrack::projects
