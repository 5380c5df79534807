// Facts about this build of `mlt`, for --version.
#pragma once

namespace mltrack::cli {

// The commit of the checkout mlt was built from (12 hex digits), "unknown" outside git.
// Refreshed at every build by cmake/BuildCommit.cmake.
extern const char kGitCommit[];

}  // namespace mltrack::cli
