#include "projects/project_source.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/http_server.h"
#include "projects/sha256.h"
#include "projects/subprocess.h"
#include "support/test_support.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::RunProcess;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Sets (or, with nullopt, removes) an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = ::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Runs git in `dir` and returns its output; a failure fails the test.
std::string Git(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", dir.string()});
  auto run = RunProcess(args);
  EXPECT_EQ(run.exit_code, 0) << args[3] << ": " << run.err;
  return Trimmed(run.out);
}

void InitRepo(const fs::path& dir) {
  fs::create_directories(dir);
  Git(dir, {"init", "-q", "-b", "main"});
  Git(dir, {"config", "user.name", "Test"});
  Git(dir, {"config", "user.email", "test@example.com"});
  Git(dir, {"config", "commit.gpgsign", "false"});
  Git(dir, {"config", "tag.gpgsign", "false"});
}

std::string Commit(const fs::path& dir, const std::string& message) {
  Git(dir, {"add", "-A"});
  Git(dir, {"commit", "-q", "-m", message});
  return Git(dir, {"rev-parse", "HEAD"});
}

// The names in a folder, for "nothing was left behind" checks; {} when it does not exist.
std::set<std::string> Children(const fs::path& folder) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    names.insert(it->path().filename().string());
  }
  return names;
}

// ---- RunCaptured -------------------------------------------------------------------------

TEST(RunCaptured, CapturesStdoutStderrAndTheExitCode) {
  CapturedRun run = RunCaptured({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.out, "out\n");
  EXPECT_EQ(run.err, "err\n");
}

TEST(RunCaptured, DrainsBothPipesWithoutDeadlock) {
  // Each stream is far beyond a pipe's 64 KiB buffer, and stderr is filled first.
  CapturedRun run = RunCaptured(
      {"sh", "-c", "head -c 3000000 /dev/zero >&2; head -c 2000000 /dev/zero; echo x >&2"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out.size(), 2000000u);
  EXPECT_EQ(run.err.size(), 3000002u);
}

TEST(RunCaptured, ReportsASignalAs128PlusItsNumber) {
  EXPECT_EQ(RunCaptured({"sh", "-c", "kill -KILL $$"}).exit_code, 128 + SIGKILL);
}

TEST(RunCaptured, StartsTheChildWithDefaultSignalsUnblocked) {
  // A shell keeps a signal ignored on entry ignored; the child must not inherit the caller's.
  struct sigaction ignore {}, old_action {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGTERM, &ignore, &old_action);
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old_mask);
  CapturedRun run = RunCaptured({"sh", "-c", "kill -TERM $$; echo survived"});
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGTERM, &old_action, nullptr);
  EXPECT_EQ(run.exit_code, 128 + SIGTERM);
  EXPECT_EQ(run.out, "");
}

TEST(RunCaptured, AddsAndReplacesEnvironmentEntries) {
  ScopedEnv inherited("MLT_SUBPROCESS_TEST", "old");
  CapturedRun run = RunCaptured({"sh", "-c", "env | grep '^MLT_SUBPROCESS_' | sort"}, {},
                                {{"MLT_SUBPROCESS_TEST", "new"}, {"MLT_SUBPROCESS_ADDED", "a b"}});
  EXPECT_EQ(run.out, "MLT_SUBPROCESS_ADDED=a b\nMLT_SUBPROCESS_TEST=new\n");
}

TEST(RunCaptured, RunsInTheGivenFolderWithStdinFromDevNull) {
  TempDir dir;
  CapturedRun run = RunCaptured({"sh", "-c", "pwd -P; cat; echo done"}, dir.path());
  EXPECT_EQ(run.out, fs::canonical(dir.path()).string() + "\ndone\n");
}

TEST(RunCaptured, RefusesAProgramThatCannotStart) {
  EXPECT_ERROR(RunCaptured({"mlt-no-such-program"}), ErrorCode::kIoError,
               Eq("Cannot run 'mlt-no-such-program': No such file or directory"));
  EXPECT_ERROR(RunCaptured({"/nonexistent/prog", "x"}), ErrorCode::kIoError,
               Eq("Cannot run '/nonexistent/prog': No such file or directory"));
}

TEST(RunCaptured, RefusesAFolderThatIsMissingOrAFile) {
  TempDir dir;
  WriteFile(dir / "file", "");
  EXPECT_ERROR(RunCaptured({"sh", "-c", "true"}, dir / "missing"), ErrorCode::kIoError,
               Eq("Cannot run 'sh' in '" + (dir / "missing").string() +
                  "': No such file or directory"));
  EXPECT_ERROR(RunCaptured({"sh", "-c", "true"}, dir / "file"), ErrorCode::kIoError,
               Eq("Cannot run 'sh' in '" + (dir / "file").string() + "': Not a directory"));
}

// ---- Local folders -----------------------------------------------------------------------

TEST(LocalProject, RunsAPlainFolderInPlace) {
  TempDir dir;
  WriteFile(dir / "p" / "MLproject", "name: p\n");
  FetchedProject project = FetchProject((dir / "p").string() + "/", std::nullopt, dir / "cache");
  EXPECT_EQ(project.dir, dir / "p");
  EXPECT_EQ(project.source_name, (dir / "p").string());
  EXPECT_EQ(project.subdirectory, "");
  EXPECT_FALSE(project.git.has_value());
  EXPECT_FALSE(fs::exists(dir / "cache"));
}

TEST(LocalProject, RefusesAMissingFolderOrAFile) {
  TempDir dir;
  WriteFile(dir / "file", "");
  EXPECT_ERROR(FetchProject((dir / "nope").string(), std::nullopt, dir / "cache"),
               ErrorCode::kInvalidParameterValue,
               Eq("No project folder at '" + (dir / "nope").string() + "'"));
  EXPECT_ERROR(FetchProject((dir / "file").string(), std::nullopt, dir / "cache"),
               ErrorCode::kInvalidParameterValue,
               Eq("No project folder at '" + (dir / "file").string() + "'"));
  EXPECT_ERROR(FetchProject("mlt-no-such-folder", std::nullopt, dir / "cache"),
               ErrorCode::kInvalidParameterValue,
               Eq("No project folder at '" + (fs::current_path() / "mlt-no-such-folder").string() +
                  "'"));
}

TEST(LocalProject, TakesASubdirectoryThatStaysInside) {
  TempDir dir;
  WriteFile(dir / "p" / "a" / "b" / "MLproject", "name: b\n");
  WriteFile(dir / "p" / "file", "");
  WriteFile(dir / "secret" / "x", "");
  fs::create_directory_symlink("a/b", dir / "p" / "inner");
  fs::create_directory_symlink("../secret", dir / "p" / "out");
  std::string p = (dir / "p").string();

  FetchedProject project = FetchProject(p + "#a/./b/", std::nullopt, dir / "cache");
  EXPECT_EQ(project.dir, dir / "p" / "a" / "b");
  EXPECT_EQ(project.subdirectory, "a/./b/");
  EXPECT_EQ(FetchProject(p + "#inner", std::nullopt, dir / "c").dir, dir / "p" / "inner");

  for (std::string sub : {"../secret", "a/../../secret", "/etc", "out", "out/x"}) {
    EXPECT_ERROR(FetchProject(p + "#" + sub, std::nullopt, dir / "cache"),
                 ErrorCode::kInvalidParameterValue,
                 Eq("The subdirectory '" + sub + "' of '" + p + "' escapes the repository"));
  }
  for (std::string sub : {"nope", "file", "a\\b"}) {
    EXPECT_ERROR(FetchProject(p + "#" + sub, std::nullopt, dir / "cache"),
                 ErrorCode::kInvalidParameterValue,
                 Eq("The subdirectory '" + sub + "' of '" + p + "' is not a folder of the "
                    "repository"));
  }
}

TEST(LocalProject, RefusesVersionOutsideAGitRepository) {
  TempDir dir;
  fs::create_directories(dir / "p");
  EXPECT_ERROR(FetchProject((dir / "p").string(), "v1", dir / "cache"),
               ErrorCode::kInvalidParameterValue,
               Eq("--version applies to git projects; '" + (dir / "p").string() +
                  "' is not in a git repository"));
  EXPECT_FALSE(fs::exists(dir / "cache"));
}

// ---- Local git work trees ----------------------------------------------------------------

class WorkTree : public ::testing::Test {
 protected:
  void SetUp() override {
    InitRepo(repo());
    WriteFile(repo() / "proj" / "train.sh", "old\n");
    WriteFile(repo() / ".gitignore", "*.log\n");
    commit_ = Commit(repo(), "first");
  }
  fs::path repo() const { return dir_ / "repo"; }
  FetchedProject Fetch() {
    return FetchProject((repo() / "proj").string(), std::nullopt, dir_ / "c");
  }

  TempDir dir_;
  std::string commit_;
};

TEST_F(WorkTree, CleanRecordsCommitBranchAndOrigin) {
  Git(repo(), {"remote", "add", "origin", "https://example.com/org/recs.git"});
  WriteFile(repo() / "proj" / "run.log", "ignored files do not count\n");
  FetchedProject project = Fetch();
  EXPECT_EQ(project.dir, repo() / "proj");
  EXPECT_EQ(project.source_name, (repo() / "proj").string());
  ASSERT_TRUE(project.git.has_value());
  EXPECT_EQ(project.git->commit, commit_);
  EXPECT_EQ(project.git->repo_url, "https://example.com/org/recs.git");
  EXPECT_EQ(project.git->branch, "main");
  EXPECT_FALSE(project.git->dirty);
  EXPECT_EQ(project.git->diff, "");
}

TEST_F(WorkTree, ModifiedFileIsDirtyWithItsDiff) {
  WriteFile(repo() / "proj" / "train.sh", "new\n");
  FetchedProject project = Fetch();
  ASSERT_TRUE(project.git.has_value());
  EXPECT_EQ(project.git->repo_url, "");
  EXPECT_TRUE(project.git->dirty);
  EXPECT_THAT(project.git->diff, StartsWith("diff --git a/proj/train.sh b/proj/train.sh\n"));
  EXPECT_THAT(project.git->diff, HasSubstr("\n-old\n+new\n"));
}

TEST_F(WorkTree, UntrackedFileIsDirtyButNotInTheDiff) {
  WriteFile(repo() / "other" / "new.txt", "x\n");
  std::optional<GitInfo> info = LocalGitInfo(repo() / "proj");
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->dirty);
  EXPECT_EQ(info->diff, "");  // `git diff HEAD` shows tracked files only
}

TEST_F(WorkTree, DetachedHeadHasNoBranch) {
  WriteFile(repo() / "proj" / "train.sh", "second\n");
  Commit(repo(), "second");
  Git(repo(), {"checkout", "-q", "--detach", commit_});
  std::optional<GitInfo> info = LocalGitInfo(repo());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->commit, commit_);
  EXPECT_EQ(info->branch, "");
}

TEST(LocalGitInfo, IsNulloptOutsideAWorkTreeOrBeforeTheFirstCommit) {
  TempDir dir;
  fs::create_directories(dir / "plain");
  EXPECT_FALSE(LocalGitInfo(dir / "plain").has_value());
  EXPECT_FALSE(LocalGitInfo(dir / "missing").has_value());
  InitRepo(dir / "empty");
  EXPECT_FALSE(LocalGitInfo(dir / "empty").has_value());
}

// ---- Git repositories cloned into the cache ----------------------------------------------

// origin: main = A (tags v1, annotated, and light) -> B; feature = A -> C.
class GitProject : public ::testing::Test {
 protected:
  void SetUp() override {
    InitRepo(origin());
    WriteFile(origin() / "MLproject", "name: v1\n");
    WriteFile(origin() / "sub" / "train.sh", "echo v1\n");
    a_ = Commit(origin(), "A");
    Git(origin(), {"tag", "-a", "v1", "-m", "release 1"});
    Git(origin(), {"tag", "light"});
    WriteFile(origin() / "MLproject", "name: v2\n");
    fs::create_directory_symlink("../..", origin() / "escape");
    fs::create_directory_symlink("sub", origin() / "inner");
    b_ = Commit(origin(), "B");
    Git(origin(), {"checkout", "-q", "-b", "feature", a_});
    WriteFile(origin() / "MLproject", "name: feature\n");
    c_ = Commit(origin(), "C");
    Git(origin(), {"checkout", "-q", "main"});
  }
  fs::path origin() const { return dir_ / "origin"; }
  fs::path cache() const { return dir_ / "cache"; }
  std::string url() const { return "file://" + origin().string(); }
  fs::path Entry(const std::string& commit) const {
    return cache() / Sha256Hex(url()).substr(0, 16) / commit;
  }
  FetchedProject Fetch(const std::string& suffix = "", std::optional<std::string> version = {}) {
    return FetchProject(url() + suffix, version, cache());
  }

  TempDir dir_;
  std::string a_, b_, c_;
};

TEST_F(GitProject, ClonesTheDefaultBranchIntoTheCache) {
  FetchedProject project = Fetch();
  EXPECT_EQ(project.dir, Entry(b_));
  EXPECT_EQ(ReadFile(project.dir / "MLproject"), "name: v2\n");
  EXPECT_EQ(project.source_name, url());
  ASSERT_TRUE(project.git.has_value());
  EXPECT_EQ(project.git->commit, b_);
  EXPECT_EQ(project.git->repo_url, url());
  EXPECT_EQ(project.git->branch, "main");
  EXPECT_FALSE(project.git->dirty);
  // Only the entry is left in the URL's folder: no temporary clone.
  EXPECT_EQ(Children(Entry(b_).parent_path()), std::set<std::string>({b_}));
}

TEST_F(GitProject, ChecksOutACommitABranchOrATag) {
  struct Case {
    std::string version, commit, mlproject;
  };
  for (const Case& c : std::vector<Case>{{"v1", a_, "name: v1\n"},
                                         {"light", a_, "name: v1\n"},
                                         {"refs/tags/v1", a_, "name: v1\n"},
                                         {"feature", c_, "name: feature\n"},
                                         {c_, c_, "name: feature\n"},
                                         {a_.substr(0, 10), a_, "name: v1\n"},
                                         {"main~1", a_, "name: v1\n"}}) {
    SCOPED_TRACE(c.version);
    FetchedProject project = Fetch("", c.version);
    EXPECT_EQ(project.dir, Entry(c.commit));
    ASSERT_TRUE(project.git.has_value());
    EXPECT_EQ(project.git->commit, c.commit);
    EXPECT_EQ(project.git->branch, c.version);
    EXPECT_EQ(ReadFile(project.dir / "MLproject"), c.mlproject);
    EXPECT_EQ(Git(project.dir, {"rev-parse", "HEAD"}), c.commit);
  }
  EXPECT_EQ(Children(Entry(a_).parent_path()), std::set<std::string>({a_, c_}));
}

TEST_F(GitProject, ReusesTheCacheEntryWithoutCloningAgain) {
  // A git on PATH that logs each command before running the real one.
  std::string real_git = Trimmed(RunProcess({"sh", "-c", "command -v git"}).out);
  WriteFile(dir_ / "bin" / "git", "#!/bin/sh\necho \"$1\" >> '" + (dir_ / "log").string() +
                                      "'\nexec '" + real_git + "' \"$@\"\n");
  fs::permissions(dir_ / "bin" / "git", fs::perms::owner_all);
  ScopedEnv path("PATH", (dir_ / "bin").string() + ":" + ::getenv("PATH"));

  FetchedProject first = Fetch("", "feature");
  WriteFile(first.dir / "marker", "left by the first fetch");
  EXPECT_EQ(ReadFile(dir_ / "log"), "ls-remote\nclone\nrev-parse\ncheckout\n");
  fs::remove(dir_ / "log");

  FetchedProject second = Fetch("", "feature");
  EXPECT_EQ(second.dir, first.dir);
  EXPECT_TRUE(fs::exists(second.dir / "marker"));
  EXPECT_EQ(ReadFile(dir_ / "log"), "ls-remote\n");  // the branch is resolved, nothing cloned
}

TEST_F(GitProject, AFullCommitInTheCacheNeedsNoRemote) {
  Fetch("", a_);
  fs::remove_all(origin());
  FetchedProject again = Fetch("#sub", a_);
  EXPECT_EQ(again.dir, Entry(a_) / "sub");
  EXPECT_EQ(again.git->commit, a_);
  EXPECT_ERROR(Fetch("", "v1"), ErrorCode::kInvalidParameterValue,
               StartsWith("Cannot clone '" + url() + "': "));
}

TEST_F(GitProject, TakesASubdirectoryInsideTheClone) {
  FetchedProject project = Fetch("#sub");
  EXPECT_EQ(project.dir, Entry(b_) / "sub");
  EXPECT_EQ(project.subdirectory, "sub");
  EXPECT_EQ(ReadFile(project.dir / "train.sh"), "echo v1\n");
  EXPECT_EQ(Fetch("#inner").dir, Entry(b_) / "inner");  // a link that stays inside
}

TEST_F(GitProject, RefusesASubdirectoryThatEscapesBeforeCloning) {
  for (std::string sub : {"../escape", "sub/../..", "/etc"}) {
    EXPECT_ERROR(Fetch("#" + sub), ErrorCode::kInvalidParameterValue,
                 Eq("The subdirectory '" + sub + "' of '" + url() + "' escapes the repository"));
  }
  EXPECT_FALSE(fs::exists(cache()));
}

TEST_F(GitProject, RefusesASubdirectoryLinkLeadingOutOrNotAFolder) {
  EXPECT_ERROR(Fetch("#escape"), ErrorCode::kInvalidParameterValue,
               Eq("The subdirectory 'escape' of '" + url() + "' escapes the repository"));
  EXPECT_ERROR(Fetch("#nope"), ErrorCode::kInvalidParameterValue,
               Eq("The subdirectory 'nope' of '" + url() + "' is not a folder of the repository"));
  EXPECT_ERROR(Fetch("#MLproject"), ErrorCode::kInvalidParameterValue,
               Eq("The subdirectory 'MLproject' of '" + url() +
                  "' is not a folder of the repository"));
}

TEST_F(GitProject, RefusesAnUnknownVersionLeavingNothingInTheCache) {
  EXPECT_ERROR(Fetch("", "v9"), ErrorCode::kInvalidParameterValue,
               Eq("Version 'v9' of '" + url() + "' does not exist: bad revision 'v9'"));
  std::string missing(40, 'e');
  EXPECT_ERROR(Fetch("", missing), ErrorCode::kInvalidParameterValue,
               Eq("Version '" + missing + "' of '" + url() + "' does not exist: bad object " +
                  missing));
  EXPECT_EQ(Children(cache()), std::set<std::string>({Sha256Hex(url()).substr(0, 16)}));
  EXPECT_EQ(Children(Entry(a_).parent_path()), std::set<std::string>());
}

TEST_F(GitProject, RefusesAUrlThatCannotBeCloned) {
  std::string missing = "file://" + (dir_ / "missing.git").string();
  EXPECT_ERROR(FetchProject(missing, std::nullopt, cache()), ErrorCode::kInvalidParameterValue,
               Eq("Cannot clone '" + missing + "': '" + (dir_ / "missing.git").string() +
                  "' does not appear to be a git repository"));
  EXPECT_ERROR(FetchProject(missing + "#sub", std::string(40, 'a'), cache()),
               ErrorCode::kInvalidParameterValue,
               StartsWith("Cannot clone '" + missing + "': "));
  EXPECT_EQ(Children(cache()), std::set<std::string>({Sha256Hex(missing).substr(0, 16)}));
  EXPECT_EQ(Children(cache() / Sha256Hex(missing).substr(0, 16)), std::set<std::string>());
}

TEST_F(GitProject, RefusesARepositoryWithoutCommits) {
  Git(dir_.path(), {"init", "-q", "--bare", "empty.git"});
  std::string empty = "file://" + (dir_ / "empty.git").string();
  EXPECT_ERROR(FetchProject(empty, std::nullopt, cache()), ErrorCode::kInvalidParameterValue,
               Eq("Cannot clone '" + empty + "': its HEAD names no commit; choose one with "
                  "--version"));
}

TEST(GitUrl, NeedingCredentialsFailsInsteadOfWaiting) {
  http::Server server({});
  server.SetNotFound([](const http::Request&, http::Response& response) {
    response.status = 401;
    response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"git\"");
  });
  int port = server.Start();
  ScopedEnv no_proxy("no_proxy", "*");
  ScopedEnv askpass("GIT_ASKPASS", std::nullopt);
  ScopedEnv ssh_askpass("SSH_ASKPASS", std::nullopt);
  TempDir dir;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/org/repo.git";
  // Git says it would have prompted: it did not wait for a password.
  EXPECT_ERROR(FetchProject(url, std::nullopt, dir / "cache"), ErrorCode::kInvalidParameterValue,
               Eq("Cannot clone '" + url + "': could not read Username for 'http://127.0.0.1:" +
                  std::to_string(port) + "': terminal prompts disabled"));
}

// ---- A local work tree with --version ----------------------------------------------------

TEST_F(GitProject, ClonesALocalWorkTreeAtTheVersion) {
  WriteFile(origin() / "sub" / "train.sh", "uncommitted\n");  // not part of any version
  std::string folder = (origin() / "sub").string();
  FetchedProject project = FetchProject(folder, "v1", cache());
  fs::path top = fs::canonical(origin());
  EXPECT_EQ(project.dir, cache() / Sha256Hex(top.string()).substr(0, 16) / a_ / "sub");
  EXPECT_EQ(ReadFile(project.dir / "train.sh"), "echo v1\n");
  EXPECT_EQ(project.source_name, folder);
  EXPECT_EQ(project.subdirectory, "");
  ASSERT_TRUE(project.git.has_value());
  EXPECT_EQ(project.git->repo_url, top.string());
  EXPECT_EQ(project.git->commit, a_);
  EXPECT_EQ(project.git->branch, "v1");

  EXPECT_ERROR(FetchProject(folder + "#../..", "v1", cache()), ErrorCode::kInvalidParameterValue,
               Eq("The subdirectory '../..' of '" + folder + "' escapes the repository"));
  EXPECT_ERROR(FetchProject(folder, "v9", cache()), ErrorCode::kInvalidParameterValue,
               Eq("Version 'v9' of '" + folder + "' does not exist: bad revision 'v9'"));
}

TEST_F(GitProject, ClonesALocalBareRepositoryAtTheVersion) {
  Git(dir_.path(), {"clone", "-q", "--bare", origin().string(), "bare.git"});
  FetchedProject project = FetchProject((dir_ / "bare.git").string() + "#sub", "feature", cache());
  EXPECT_EQ(project.git->commit, c_);
  EXPECT_EQ(project.dir.filename(), "sub");
  EXPECT_EQ(ReadFile(project.dir.parent_path() / "MLproject"), "name: feature\n");
}

// ---- The cache folder --------------------------------------------------------------------

TEST(DefaultProjectCache, FollowsTheEnvironment) {
  ScopedEnv cache("MLT_PROJECT_CACHE", "/srv/mlt-cache");
  ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
  ScopedEnv home("HOME", "/home/u");
  EXPECT_EQ(DefaultProjectCache(), fs::path("/srv/mlt-cache"));
  {
    ScopedEnv unset("MLT_PROJECT_CACHE", "");
    EXPECT_EQ(DefaultProjectCache(), fs::path("/xdg/mltrack/projects"));
    ScopedEnv relative_xdg("XDG_CACHE_HOME", "relative");  // ignored, as the XDG spec says
    EXPECT_EQ(DefaultProjectCache(), fs::path("/home/u/.cache/mltrack/projects"));
    ScopedEnv no_xdg("XDG_CACHE_HOME", std::nullopt);
    EXPECT_EQ(DefaultProjectCache(), fs::path("/home/u/.cache/mltrack/projects"));
    ScopedEnv no_home("HOME", std::nullopt);
    EXPECT_ERROR(DefaultProjectCache(), ErrorCode::kInvalidParameterValue,
                 Eq("Cannot choose a project cache folder: set MLT_PROJECT_CACHE or HOME"));
  }
  ScopedEnv relative("MLT_PROJECT_CACHE", "rel/cache");
  EXPECT_EQ(DefaultProjectCache(), fs::current_path() / "rel" / "cache");
}

}  // namespace
}  // namespace mltrack::projects
