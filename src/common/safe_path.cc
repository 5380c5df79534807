#include "common/safe_path.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;

// Linux's SYMLOOP_MAX: more hops than this is a loop.
constexpr int kMaxSymlinkHops = 40;

// The path as a user would type it; a NUL byte is shown as \0 so that the message stays one string.
std::string Printable(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  return out;
}

[[noreturn]] void Refuse(std::string_view what, std::string_view path, std::string_view reason) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid {} '{}': {}", what, Printable(path), reason));
}

// realpath(3) that tolerates missing components: symbolic links are followed wherever they
// exist (dangling ones too, so a link to a not-yet-existing file outside is still seen), and
// what does not exist is appended as it is. `path` must be absolute. nullopt on a link loop.
std::optional<fs::path> ResolveLinks(const fs::path& path) {
  std::deque<fs::path> pending;
  for (const auto& part : path.relative_path()) pending.push_back(part);
  fs::path result = path.root_path();
  int hops = 0;
  while (!pending.empty()) {
    fs::path part = std::move(pending.front());
    pending.pop_front();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      result = result.parent_path();
      continue;
    }
    fs::path next = result / part;
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(next, ec))) {
      result = std::move(next);
      continue;
    }
    if (++hops > kMaxSymlinkHops) return std::nullopt;
    fs::path target = fs::read_symlink(next, ec);
    if (ec) return std::nullopt;
    if (target.is_absolute()) result = target.root_path();
    fs::path target_relative = target.relative_path();
    std::vector<fs::path> target_parts(target_relative.begin(), target_relative.end());
    pending.insert(pending.begin(), target_parts.begin(), target_parts.end());
  }
  return result;
}

bool IsUnder(const fs::path& path, const fs::path& root) {
  auto [root_end, path_it] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return root_end == root.end();
}

}  // namespace

std::string NormalizeRelativePath(std::string_view path, std::string_view what) {
  if (path.find('\0') != std::string_view::npos) Refuse(what, path, "it contains a NUL byte");
  if (path.find('\\') != std::string_view::npos) Refuse(what, path, "it contains a backslash");
  if (!path.empty() && path.front() == '/') Refuse(what, path, "it must be a relative path");
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") Refuse(what, path, "it escapes its root folder");
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

fs::path ResolveUnder(const fs::path& root, std::string_view relative, std::string_view what) {
  std::string normalized = NormalizeRelativePath(relative, what);
  fs::path lexical = root;
  if (normalized.empty()) return lexical;
  lexical /= normalized;

  fs::path absolute_root = fs::absolute(root);
  auto real_root = ResolveLinks(absolute_root);
  if (!real_root) Refuse(what, relative, "its root folder is a symbolic link loop");
  // Prefix by prefix, so that the message names the link that leads out, and so that a path
  // which only passes outside on its way back in is refused too.
  fs::path prefix;
  for (const auto& part : fs::path(normalized)) {
    prefix /= part;
    auto real = ResolveLinks(*real_root / prefix);
    if (!real) Refuse(what, relative, "too many levels of symbolic links");
    if (!IsUnder(*real, *real_root)) {
      Refuse(what, relative,
             fmt::format("it escapes its root folder through the symbolic link '{}'",
                         prefix.generic_string()));
    }
  }
  return lexical;
}

}  // namespace mltrack
