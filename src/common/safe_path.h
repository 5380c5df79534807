// Paths that come from users, requests, archives or project files, checked against escaping the
// folder they are meant to stay in.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mltrack {

// Normalizes a relative artifact path ("a//b/./c" -> "a/b/c", "" and "." -> ""). Throws
// Error(kInvalidParameterValue) naming the path when it is absolute, contains a ".." component,
// a backslash or a NUL byte.
std::string NormalizeRelativePath(std::string_view path);

// root / relative, after NormalizeRelativePath, and refused when the result (following symbolic
// links that exist) resolves outside `root`.
std::filesystem::path ResolveUnder(const std::filesystem::path& root, std::string_view relative);

}  // namespace mltrack
