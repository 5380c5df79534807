// Where a project comes from: a local folder, or a git repository cloned into a cache.
//
// `mlt run` takes a project URI:
//   ./recs, /abs/recs                  a local folder, run in place
//   <local git repo>#sub/dir           a folder of a local git work tree
//   file:///srv/repos/recs.git#recs    any URL git can clone: file://, https://, ssh://,
//   https://host/org/repo.git          git@host:org/repo.git, or a local path with --version
// with an optional "#subdirectory" (which must stay inside the repository) and `version` (a
// commit, branch or tag; git projects only). A clone lives in the cache keyed by the URL and the
// commit it resolves to, <cache>/<sha256(url), 16 hex>/<commit>, so the same URL and commit are
// cloned once and reused; an interrupted clone never leaves a half-filled entry (clone into a
// temporary folder, then rename).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace mltrack::projects {

struct GitInfo {
  std::string commit;    // full hash of HEAD
  std::string repo_url;  // the URL cloned, or the work tree's `origin` remote ("" when none)
  std::string branch;    // the branch checked out, or the version asked for; "" when detached
  bool dirty = false;    // a local work tree with changes to tracked files, or untracked files
  std::string diff;      // `git diff HEAD` of a dirty work tree ("" otherwise)
};

struct FetchedProject {
  std::filesystem::path dir;     // the project folder (the subdirectory, when one was given)
  std::string source_name;       // what mlflow.source.name records: the URL, or the absolute path
  std::string subdirectory;      // as given after '#', "" when none
  std::optional<GitInfo> git;    // for a clone, or a local folder inside a git work tree
};

// Fetches the project at `uri`. Throws Error(kInvalidParameterValue) before anything runs:
//   "No project folder at '/abs/x'"
//   "Cannot clone 'https://nope.invalid/r.git': <git's first fatal: line, without the prefix>"
//   "Cannot clone '<url>': its HEAD names no commit; choose one with --version"
//   "Version 'v9' of 'file:///r.git' does not exist: bad revision 'v9'"
//   "The subdirectory '../etc' of 'file:///r.git' escapes the repository"
//   "The subdirectory 'nope' of 'file:///r.git' is not a folder of the repository"
//   "--version applies to git projects; '/abs/x' is not in a git repository"
// and Error(kIoError) when the cache cannot be written. A local folder with `version` clones the
// top of its work tree (source_name stays the folder as given). Git runs with
// GIT_TERMINAL_PROMPT=0 (and ssh in batch mode), so a URL that needs credentials fails at once.
// A cache entry is a full checkout; a project that writes into its own folder changes it for
// later runs of the same commit.
FetchedProject FetchProject(const std::string& uri, const std::optional<std::string>& version,
                            const std::filesystem::path& cache_root);

// $MLT_PROJECT_CACHE, else $XDG_CACHE_HOME/mltrack/projects, else $HOME/.cache/mltrack/projects.
std::filesystem::path DefaultProjectCache();

// The git facts of the work tree holding `dir`, nullopt when it is not in one (or git is
// missing).
std::optional<GitInfo> LocalGitInfo(const std::filesystem::path& dir);

}  // namespace mltrack::projects
