// Resolving an entry point of an MLproject (mlproject.h) into the command `mlt run` executes, and
// the value checks and names that parsing (mlproject_parse.cc) shares with it
// (mlproject_internal.h).
#include "projects/mlproject.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "common/safe_path.h"
#include "common/text.h"
#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "projects/mlproject_internal.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;
using mlproject::Absolute;
using mlproject::ExpandTemplate;
using mlproject::FitsType;
using mlproject::Invalid;
using mlproject::Quoted;
using mlproject::TemplateProblem;
using mlproject::WithArticle;

// Indexed by ParamType and EnvKind.
constexpr std::array<const char*, 5> kParamTypeNames = {"string", "float", "int", "path", "uri"};
constexpr std::array<const char*, 4> kEnvKeys = {"", "conda_env", "python_env", "docker_env"};

// ---- Values ---------------------------------------------------------------------------------

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string_view WithoutSign(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  return text;
}

// An int is what both Python's int() and C's strtoll read whole: an optional sign and decimal
// digits, with no spaces, underscores or base prefixes. Its size is not limited: the program the
// value is passed to decides what it can hold.
bool IsInt(std::string_view text) { return IsDigits(WithoutSign(text)); }

// A float is what both Python's float() and C's strtod read whole: decimal notation with an
// optional exponent ("1", "-0.5", ".5", "1.", "1e-3"), or inf, infinity and nan in any case. Hex
// floats (strtod only), underscores (Python only) and surrounding spaces are refused. (Scanned by
// hand: std::regex recurses per character and overflows the stack on a long value.)
bool IsFloat(std::string_view text) {
  std::string_view rest = WithoutSign(text);
  std::string lower = AsciiLower(rest);
  if (lower == "inf" || lower == "infinity" || lower == "nan") return true;
  size_t exponent = lower.find('e');
  std::string_view mantissa = rest.substr(0, exponent);
  size_t dot = mantissa.find('.');
  std::string_view whole = mantissa.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : mantissa.substr(dot + 1);
  if ((whole.empty() && fraction.empty()) || (!whole.empty() && !IsDigits(whole)) ||
      (!fraction.empty() && !IsDigits(fraction))) {
    return false;
  }
  return exponent == std::string_view::npos || IsInt(rest.substr(exponent + 1));
}

// ---- Resolution -----------------------------------------------------------------------------

std::string ProjectLabel(const ProjectSpec& spec, const fs::path& root) {
  if (!spec.name.empty()) return fmt::format("project '{}'", spec.name);
  return fmt::format("the project at '{}'", root.string());
}

// "its entry points are 'main', 'train', and" / "its entry point is 'main', and" / ...: what the
// project offers, for the message about an entry point it does not have.
std::string EntryPointsOffered(const ProjectSpec& spec) {
  if (!spec.from_file) return "it has no MLproject file and";
  if (spec.entry_points.empty()) return "its MLproject has no entry points and";
  std::vector<std::string> names;
  for (const auto& entry : spec.entry_points) names.push_back(entry.name);
  return fmt::format("its {} {}, and", names.size() == 1 ? "entry point is" : "entry points are",
                     Quoted(names, ", "));
}

// The command of a script file of the project that the MLproject does not name: `bash` for *.sh,
// `python3` for *.py, the file itself when executable. The script is named by its absolute path,
// so that the command does not depend on the folder it runs in.
std::string ScriptCommand(const ProjectSpec& spec, const fs::path& root,
                          const std::string& entry_point) {
  std::string label = ProjectLabel(spec, root);
  fs::path script;
  try {
    script = ResolveUnder(root, entry_point, "script file");
  } catch (const Error& e) {
    Invalid(fmt::format("Entry point '{}' of {} is not in the project: {}", entry_point, label,
                        e.what()));
  }
  std::error_code ec;
  if (entry_point.empty() || !fs::is_regular_file(script, ec)) {
    Invalid(fmt::format("Unknown entry point '{}' of {}: {} it has no script file '{}'",
                        entry_point, label, EntryPointsOffered(spec), entry_point));
  }
  std::string extension = fs::path(entry_point).extension().string();
  std::string quoted = ShellQuote(script.lexically_normal().string());
  if (extension == ".sh") return "bash " + quoted;
  if (extension == ".py") return "python3 " + quoted;
  if (::access(script.c_str(), X_OK) == 0) return quoted;
  Invalid(
      fmt::format("Unknown entry point '{}' of {}: {} its file '{}' is neither a *.sh or *.py "
                  "script nor executable",
                  entry_point, label, EntryPointsOffered(spec), entry_point));
}

// Each name once, never empty, and no NUL byte, which no command line can carry.
void CheckGiven(const std::vector<std::pair<std::string, std::string>>& given) {
  std::set<std::string_view> seen;
  for (const auto& [name, value] : given) {
    if (name.empty()) Invalid(fmt::format("A parameter with the value '{}' has no name", value));
    if (!seen.insert(name).second) Invalid(fmt::format("Parameter '{}' is given twice", name));
    if (name.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
      Invalid(fmt::format("Parameter '{}' contains a NUL byte, which a command cannot carry",
                          name.substr(0, name.find('\0'))));
    }
  }
}

const std::string* FindGiven(const std::vector<std::pair<std::string, std::string>>& given,
                             const std::string& name) {
  for (const auto& [key, value] : given) {
    if (key == name) return &value;
  }
  return nullptr;
}

// A local path value made absolute, which must exist: a given value against the current folder
// (where the user typed it), a default (`project` set) against the project, where its author
// meant it, and which it must not escape. `who` starts the messages.
fs::path ExistingPath(const std::string& who, const std::string& text, const fs::path* project) {
  fs::path local = Absolute(text);
  if (project && fs::path(text).is_relative()) {
    try {
      local = Absolute(ResolveUnder(*project, text, "default path"));
    } catch (const Error& e) {
      Invalid(fmt::format("{}: {}", who, e.what()));
    }
  }
  std::error_code ec;
  if (!fs::exists(local, ec)) {
    Invalid(fmt::format("{} is a path that does not exist: '{}'", who, local.string()));
  }
  return local;
}

// The value a path or uri parameter passes on, and the local path it names (nullopt: a remote
// URI). A plain path becomes its absolute path. A file: URI names a local path: a path parameter
// gets the path itself (as in MLflow), a uri parameter keeps its URI. Another URI is passed on by
// a uri parameter and refused by a path parameter: mlt does not download.
std::pair<std::string, std::optional<fs::path>> ResolveLocal(const ParameterSpec& param,
                                                             const std::string& who,
                                                             const std::string& value,
                                                             const fs::path* project) {
  bool is_path = param.type == ParamType::kPath;
  if (value.empty()) {
    Invalid(fmt::format("{} is a {}, got an empty value", who, ParamTypeName(param.type)));
  }
  std::string scheme = UriScheme(value);
  std::optional<std::string> local_text = value;
  if (scheme == "file") {
    // LocalPathFromUri is also how a rerun reads the recorded value back.
    try {
      local_text = LocalPathFromUri(value);
    } catch (const Error& e) {
      if (is_path) {
        const bool names_host = std::string_view(e.what()).find("names the host") !=
                                std::string_view::npos;
        Invalid(names_host ? fmt::format("{} is a path, and '{}' names another host", who, value)
                           : fmt::format("{} is a path, and {}", who, e.what()));
      }
      local_text = std::nullopt;  // another machine's file: passed on
    }
  } else if (!scheme.empty()) {
    if (is_path) {
      Invalid(
          fmt::format("{} is a path, and '{}' is a URI that mlt does not download (declare "
                      "the parameter as uri to pass it on)",
                      who, value));
    }
    local_text = std::nullopt;
  }
  if (!local_text) return {value, std::nullopt};
  fs::path local = ExistingPath(who, *local_text, project);
  return {is_path || scheme.empty() ? local.string() : value, local};
}

}  // namespace

// ---- Shared with the parser (mlproject_internal.h) ------------------------------------------

namespace mlproject {

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

std::string Quoted(const std::vector<std::string>& names, std::string_view separator) {
  std::string out;
  for (const auto& name : names) out += fmt::format("{}'{}'", out.empty() ? "" : separator, name);
  return out;
}

std::optional<ParamType> ParamTypeFromName(std::string_view name) {
  auto it = std::find(kParamTypeNames.begin(), kParamTypeNames.end(), name);
  if (it == kParamTypeNames.end()) return std::nullopt;
  return static_cast<ParamType>(it - kParamTypeNames.begin());
}

bool FitsType(ParamType type, std::string_view value) {
  if (type == ParamType::kInt) return IsInt(value);
  if (type == ParamType::kFloat) return IsFloat(value);
  return true;
}

std::string WithArticle(ParamType type) {
  return fmt::format("{} {}", type == ParamType::kInt ? "an" : "a", ParamTypeName(type));
}

fs::path Absolute(const fs::path& path) {
  fs::path normal = fs::absolute(path).lexically_normal();
  if (!normal.has_filename() && normal != normal.root_path()) normal = normal.parent_path();
  return normal;
}

}  // namespace mlproject

const char* ParamTypeName(ParamType type) { return kParamTypeNames[static_cast<size_t>(type)]; }

const char* EnvKindKey(EnvKind kind) { return kEnvKeys[static_cast<size_t>(kind)]; }

ResolvedEntryPoint ResolveEntryPoint(
    const ProjectSpec& spec, const fs::path& project_dir, const std::string& entry_point,
    const std::vector<std::pair<std::string, std::string>>& given) {
  fs::path root = Absolute(project_dir);
  const EntryPoint* declared = nullptr;
  for (const auto& entry : spec.entry_points) {
    if (entry.name == entry_point) declared = &entry;
  }
  std::string script_command;
  if (!declared) script_command = ScriptCommand(spec, root, entry_point);
  CheckGiven(given);

  ResolvedEntryPoint resolved;
  resolved.entry_point = entry_point;
  std::string appended;
  auto append_extra = [&](const std::string& name, const std::string& value) {
    resolved.params.emplace_back(name, value);
    appended += fmt::format(" {} {}", ShellQuote("--" + name), ShellQuote(value));
  };
  if (!declared) {
    for (const auto& [name, value] : given) append_extra(name, value);
    resolved.command = script_command + appended;
    return resolved;
  }

  std::vector<std::string> missing;
  for (const auto& param : declared->parameters) {
    if (!FindGiven(given, param.name) && !param.default_value) missing.push_back(param.name);
  }
  if (!missing.empty()) {
    Invalid(fmt::format("Missing values for required parameters of entry point '{}': {}",
                        entry_point, Quoted(missing, ", ")));
  }

  std::map<std::string, std::string, std::less<>> values;
  for (const auto& param : declared->parameters) {
    const std::string* given_value = FindGiven(given, param.name);
    std::string value = given_value ? *given_value : *param.default_value;
    std::string who = fmt::format("Parameter '{}' of entry point '{}'", param.name, entry_point);
    if (!FitsType(param.type, value) && given_value) {
      Invalid(fmt::format("{} must be {}, got '{}'", who, WithArticle(param.type), value));
    }
    if (!FitsType(param.type, value)) {
      Invalid(
          fmt::format("{} has default '{}', which is not {}", who, value, WithArticle(param.type)));
    }
    if (param.type == ParamType::kPath || param.type == ParamType::kUri) {
      auto [resolved_value, local] = ResolveLocal(param, who, value, given_value ? nullptr : &root);
      value = std::move(resolved_value);
      if (local) resolved.paths.emplace_back(param.name, *local);
    }
    resolved.params.emplace_back(param.name, value);
    values[param.name] = value;
  }
  for (const auto& [name, value] : given) {
    if (!values.count(name)) append_extra(name, value);
  }
  try {
    resolved.command =
        ExpandTemplate(declared->command, [&](std::string_view name) -> std::optional<std::string> {
          auto it = values.find(name);
          if (it == values.end()) return std::nullopt;
          return ShellQuote(it->second);
        });
  } catch (const TemplateProblem& problem) {
    Invalid(fmt::format("Entry point '{}' of {}: {}", entry_point, ProjectLabel(spec, root),
                        problem.what));
  }
  resolved.command += appended;
  return resolved;
}

std::string ShellQuote(std::string_view value) {
  auto safe = [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("_@%+=:,./-").find(static_cast<char>(c)) != std::string_view::npos;
  };
  if (!value.empty() && std::all_of(value.begin(), value.end(), safe)) return std::string(value);
  std::string quoted = "'";
  for (char c : value) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace mltrack::projects
