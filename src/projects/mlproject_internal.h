// What the MLproject parser (mlproject_parse.cc) and the entry-point resolution (mlproject.cc)
// share: the error they throw, the checks of typed values, and the expansion of command
// templates, so that a file is refused when parsed for what a run would later fail on. Not part
// of the public interface (see mlproject.h for the contract).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "projects/mlproject.h"

namespace mltrack::projects::mlproject {

// Throws Error(kInvalidParameterValue, message): every refusal of a spec or of given values.
[[noreturn]] void Invalid(std::string message);

// "'a', 'b'": each name in single quotes, joined by `separator`.
std::string Quoted(const std::vector<std::string>& names, std::string_view separator);

// The type named `name` ("int", ...; the names ParamTypeName gives), nullopt for another name.
std::optional<ParamType> ParamTypeFromName(std::string_view name);

// Whether `value` fits a float or int parameter; every value fits the other types here (paths
// and uris are checked when resolved, against the file system).
bool FitsType(ParamType type, std::string_view value);

// "an int", "a float", ...
std::string WithArticle(ParamType type);

// `path` made absolute against the current folder, without "." or ".." parts or a trailing '/'.
std::filesystem::path Absolute(const std::filesystem::path& path);

// A problem found in a command template; the caller says which entry point it belongs to.
struct TemplateProblem {
  std::string what;
};

// Expands `command` as MLflow does with Python's str.format: "{name}" is replaced by
// value_of(name), "{{" and "}}" are literal braces. A name value_of does not know (nullopt), a
// lone '}' or an unclosed '{' is a TemplateProblem; MLflow fails on them too, only later.
template <typename ValueOf>
std::string ExpandTemplate(std::string_view command, const ValueOf& value_of) {
  std::string out;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if ((c == '{' || c == '}') && i + 1 < command.size() && command[i + 1] == c) {
      out += c;
      ++i;
    } else if (c == '}') {
      throw TemplateProblem{"command has a single '}' (write '}}' for a literal brace)"};
    } else if (c != '{') {
      out += c;
    } else {
      size_t close = command.find_first_of("{}", i + 1);
      if (close == std::string_view::npos || command[close] != '}') {
        throw TemplateProblem{
            "command has a '{' that is not closed (write '{{' for a literal brace)"};
      }
      std::string_view name = command.substr(i + 1, close - i - 1);
      std::optional<std::string> value = value_of(name);
      if (!value) {
        throw TemplateProblem{fmt::format(
            "command refers to '{{{}}}', which is not a parameter of the entry point", name)};
      }
      out += *value;
      i = close;
    }
  }
  return out;
}

}  // namespace mltrack::projects::mlproject
