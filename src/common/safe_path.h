// Paths that come from users, requests, archives or project files, checked against escaping the
// folder they are meant to stay in.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mltrack {

// Normalizes a relative artifact path ("a//b/./c" -> "a/b/c", "" and "." -> ""). Throws
// Error(kInvalidParameterValue) naming the path when it is absolute, contains a ".." component,
// a backslash or a NUL byte, e.g. "Invalid artifact path '../x': it escapes its root folder".
// `what` names the kind of path in that message ("archive member", "project path", ...).
std::string NormalizeRelativePath(std::string_view path, std::string_view what = "artifact path");

// root / relative, after NormalizeRelativePath, and refused when the result (following symbolic
// links that exist, dangling ones included) resolves outside `root`:
// "Invalid artifact path 'a/b': it escapes its root folder through the symbolic link 'a'".
// The returned path is the lexical root / relative, not the resolved one. The check is made at
// call time: a link planted afterwards is not seen.
std::filesystem::path ResolveUnder(const std::filesystem::path& root, std::string_view relative,
                                   std::string_view what = "artifact path");

}  // namespace mltrack
