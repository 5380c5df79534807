#include "projects/mlproject.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "common/safe_path.h"
#include "mltrack/error.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTopLevelKeys = "name, entry_points, conda_env, python_env, docker_env";
constexpr std::string_view kEntryPointKeys = "parameters, command";
constexpr std::string_view kParameterKeys = "type, default";
constexpr std::string_view kDockerKeys = "image, volumes, environment";
constexpr std::string_view kTypeNames = "string, float, int, path, uri";
// Indexed by ParamType and EnvKind.
constexpr std::array<const char*, 5> kParamTypeNames = {"string", "float", "int", "path", "uri"};
constexpr std::array<const char*, 4> kEnvKeys = {"", "conda_env", "python_env", "docker_env"};
// An MLproject is a short YAML file; anything larger is not one.
constexpr std::uintmax_t kMaxSpecBytes = 1 << 20;

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

// "'a', 'b'": each name in single quotes, joined by `separator`.
std::string Quoted(const std::vector<std::string>& names, std::string_view separator) {
  std::string out;
  for (const auto& name : names) out += fmt::format("{}'{}'", out.empty() ? "" : separator, name);
  return out;
}

// A problem found in a command template; the caller says which entry point it belongs to.
struct TemplateProblem {
  std::string what;
};

// ---- Values ---------------------------------------------------------------------------------

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string_view WithoutSign(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
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
  std::string lower = Lower(rest);
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

std::optional<ParamType> ParamTypeFromName(std::string_view name) {
  auto it = std::find(kParamTypeNames.begin(), kParamTypeNames.end(), name);
  if (it == kParamTypeNames.end()) return std::nullopt;
  return static_cast<ParamType>(it - kParamTypeNames.begin());
}

// Whether `value` fits a float or int parameter; every value fits the other types here (paths
// and uris are checked when resolved, against the file system).
bool FitsType(ParamType type, std::string_view value) {
  if (type == ParamType::kInt) return IsInt(value);
  if (type == ParamType::kFloat) return IsFloat(value);
  return true;
}

// "an int", "a float", ...
std::string WithArticle(ParamType type) {
  return fmt::format("{} {}", type == ParamType::kInt ? "an" : "a", ParamTypeName(type));
}

// The RFC 3986 scheme of `value` in lower case ("s3" of "s3://b/k"), "" for a plain path. One
// letter is not taken for a scheme, so that "c:/x" stays a path.
std::string UriScheme(std::string_view value) {
  size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon < 2) return "";
  std::string_view scheme = value.substr(0, colon);
  auto scheme_char = [](unsigned char c) {
    return std::isalnum(c) || c == '+' || c == '-' || c == '.';
  };
  if (!std::isalpha(static_cast<unsigned char>(scheme.front())) ||
      !std::all_of(scheme.begin(), scheme.end(), scheme_char)) {
    return "";
  }
  return Lower(scheme);
}

// The local path of a file: URI ("file:///a%20b" -> "/a b", "file:rel" -> "rel"); nullopt when it
// names another host.
std::optional<std::string> FileUriPath(std::string_view uri) {
  std::string_view rest = uri.substr(uri.find(':') + 1);
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") return std::nullopt;
    rest = slash == std::string_view::npos ? "/" : rest.substr(slash);
  }
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && hex(rest[i + 1]) && hex(rest[i + 2])) {
      path += static_cast<char>(std::stoi(std::string(rest.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      path += rest[i];
    }
  }
  return path;
}

// `path` made absolute against the current folder, without "." or ".." parts or a trailing '/'.
fs::path Absolute(const fs::path& path) {
  fs::path normal = fs::absolute(path).lexically_normal();
  if (!normal.has_filename() && normal != normal.root_path()) normal = normal.parent_path();
  return normal;
}

// ---- Command templates ----------------------------------------------------------------------

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

// ---- Parsing --------------------------------------------------------------------------------

bool IsYamlNull(const YAML::Node& node) {
  return !node || node.IsNull() || (node.IsScalar() && node.Tag() == "tag:yaml.org,2002:null");
}

std::string_view Kind(const YAML::Node& node) {
  if (IsYamlNull(node)) return "null";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "a string";
}

// Reads one MLproject document; every message starts with the source and names the entry point
// and parameter involved.
class SpecReader {
 public:
  explicit SpecReader(std::string_view source) : source_(source) {}

  [[noreturn]] void Fail(std::string_view problem) const {
    Invalid(fmt::format("{}: {}", source_, problem));
  }

  // The map's entries with their keys as text, in the file's order (none for null); a key that is
  // not a string or that repeats is refused (yaml-cpp keeps both copies of a repeated key), and so
  // is a node that is not a map: "<must_be>, got a list".
  std::vector<std::pair<std::string, YAML::Node>> Entries(const YAML::Node& map,
                                                          std::string_view where,
                                                          std::string_view key_kind,
                                                          std::string_view must_be) const {
    std::vector<std::pair<std::string, YAML::Node>> entries;
    if (IsYamlNull(map)) return entries;
    if (!map.IsMap()) Fail(fmt::format("{}, got {}", must_be, Kind(map)));
    std::set<std::string> seen;
    for (const auto& item : map) {
      if (!item.first.IsScalar()) {
        Fail(fmt::format("{}every {} name must be a string, got {}", where, key_kind,
                         Kind(item.first)));
      }
      std::string key = item.first.Scalar();
      if (key.empty()) Fail(fmt::format("{}a {} has an empty name", where, key_kind));
      if (!seen.insert(key).second) {
        Fail(fmt::format("{}{} '{}' is given twice", where, key_kind, key));
      }
      entries.emplace_back(std::move(key), item.second);
    }
    return entries;
  }

  // A scalar's text ("" for null). A NUL byte (YAML's "\0") is refused: no command carries it.
  std::string Text(const YAML::Node& node, std::string_view what) const {
    if (IsYamlNull(node)) return "";
    if (!node.IsScalar()) Fail(fmt::format("{} must be a string, got {}", what, Kind(node)));
    if (node.Scalar().find('\0') != std::string::npos) {
      Fail(fmt::format("{} contains a NUL byte", what));
    }
    return node.Scalar();
  }

  ProjectSpec Read(const YAML::Node& root) const {
    ProjectSpec spec;
    spec.from_file = true;
    if (IsYamlNull(root)) return spec;  // an empty file: no entry points
    std::vector<EnvKind> envs;
    std::string must_be = fmt::format("the file must be a map of {}", kTopLevelKeys);
    for (const auto& [key, value] : Entries(root, "", "key", must_be)) {
      if (key == "name") {
        spec.name = Text(value, "name");
      } else if (key == "entry_points") {
        for (const auto& [name, body] :
             Entries(value, "", "entry point", "entry_points must be a map of entry points")) {
          spec.entry_points.push_back(ReadEntryPoint(name, body));
        }
      } else if (key == "conda_env" || key == "python_env") {
        envs.push_back(key == "conda_env" ? EnvKind::kConda : EnvKind::kPython);
        spec.env_value = EnvFile(key, value);
      } else if (key == "docker_env") {
        envs.push_back(EnvKind::kDocker);
        spec.env_value = DockerImage(value);
      } else {
        Fail(fmt::format("unknown key '{}' (known: {})", key, kTopLevelKeys));
      }
    }
    if (envs.size() > 1) {
      std::sort(envs.begin(), envs.end());  // the keys in the order conda, python, docker
      std::vector<std::string_view> keys;
      for (EnvKind kind : envs) keys.push_back(EnvKindKey(kind));
      Fail(fmt::format("{} and {} are {} given; a project has one environment",
                       fmt::join(keys.begin(), keys.end() - 1, ", "), keys.back(),
                       keys.size() == 2 ? "both" : "all"));
    }
    if (!envs.empty()) spec.env = envs.front();
    return spec;
  }

 private:
  // conda_env / python_env: a file of the project, so a relative path that stays inside it.
  std::string EnvFile(const std::string& key, const YAML::Node& value) const {
    std::string file = Text(value, key);
    if (file.empty()) Fail(fmt::format("{} must name a file of the project", key));
    try {
      NormalizeRelativePath(file, "environment file");
    } catch (const Error& e) {
      Fail(fmt::format("{}: {}", key, e.what()));
    }
    return file;
  }

  // docker_env: {image, volumes, environment}; the image is what a docker environment manager
  // needs, the rest is its business.
  std::string DockerImage(const YAML::Node& value) const {
    std::string image;
    for (const auto& [key, item] :
         Entries(value, "docker_env: ", "key", "docker_env must be a map with an image")) {
      if (key == "image") {
        image = Text(item, "docker_env: image");
      } else if (key != "volumes" && key != "environment") {
        Fail(fmt::format("docker_env: unknown key '{}' (known: {})", key, kDockerKeys));
      }
    }
    if (image.empty()) Fail("docker_env has no image");
    return image;
  }

  EntryPoint ReadEntryPoint(const std::string& name, const YAML::Node& body) const {
    std::string where = fmt::format("entry point '{}'", name);
    EntryPoint entry;
    entry.name = name;
    if (IsYamlNull(body)) Fail(fmt::format("{} has no command", where));
    std::string must_be = fmt::format("{} must be a map of {}", where, kEntryPointKeys);
    for (const auto& [key, value] : Entries(body, where + ": ", "key", must_be)) {
      if (key == "parameters") {
        std::string must_be = fmt::format(
            "{}: parameters must be a map of names to types or {{type, default}}", where);
        for (const auto& [name, spec] : Entries(value, where + ": ", "parameter", must_be)) {
          entry.parameters.push_back(ReadParameter(where, name, spec));
        }
      } else if (key == "command") {
        entry.command = Text(value, where + ": command");
      } else {
        Fail(fmt::format("{}: unknown key '{}' (known: {})", where, key, kEntryPointKeys));
      }
    }
    if (entry.command.empty()) Fail(fmt::format("{} has no command", where));
    try {
      ExpandTemplate(entry.command, [&](std::string_view ref) -> std::optional<std::string> {
        for (const auto& p : entry.parameters) {
          if (p.name == ref) return "";
        }
        return std::nullopt;
      });
    } catch (const TemplateProblem& problem) {
      Fail(fmt::format("{}: {}", where, problem.what));
    }
    return entry;
  }

  // `name: type` (required) or `name: {type, default}`. As in MLflow, a missing type is "string"
  // and a default that is null (`default:` or `default: ~`) is no default: the parameter is
  // required; an empty string (`default: ""`) is a default. A default is kept as its YAML text
  // ("0.10" stays "0.10"; MLflow would print what Python made of it, "0.1").
  ParameterSpec ReadParameter(const std::string& where, const std::string& name,
                              const YAML::Node& body) const {
    std::string param_where = fmt::format("{}: parameter '{}'", where, name);
    ParameterSpec param;
    param.name = name;
    std::string type_name = "string";
    if (body.IsMap()) {
      for (const auto& [key, value] : Entries(body, param_where + ": ", "key", param_where)) {
        if (key == "type") {
          type_name = Text(value, param_where + ": type");
        } else if (key == "default") {
          if (!IsYamlNull(value) && !value.IsScalar()) {
            Fail(fmt::format("{} has a default that is {}, not a single value", param_where,
                             Kind(value)));
          }
          if (!IsYamlNull(value)) param.default_value = Text(value, param_where + ": default");
        } else {
          Fail(fmt::format("{}: unknown key '{}' (known: {})", param_where, key, kParameterKeys));
        }
      }
    } else if (body.IsScalar() && !IsYamlNull(body)) {
      type_name = body.Scalar();
    } else {
      Fail(fmt::format("{} must be a type ({}) or {{type, default}}, got {}", param_where,
                       kTypeNames, Kind(body)));
    }
    std::optional<ParamType> type = ParamTypeFromName(type_name);
    if (!type) {
      Fail(fmt::format("{} has unknown type '{}' (known: {})", param_where, type_name, kTypeNames));
    }
    param.type = *type;
    if (param.default_value && !FitsType(param.type, *param.default_value)) {
      Fail(fmt::format("{} has default '{}', which is not {}", param_where, *param.default_value,
                       WithArticle(param.type)));
    }
    return param;
  }

  std::string source_;
};

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
    local_text = FileUriPath(value);
    if (!local_text && is_path) {
      Invalid(fmt::format("{} is a path, and '{}' names another host", who, value));
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

const char* ParamTypeName(ParamType type) { return kParamTypeNames[static_cast<size_t>(type)]; }

const char* EnvKindKey(EnvKind kind) { return kEnvKeys[static_cast<size_t>(kind)]; }

ProjectSpec ParseProjectSpec(std::string_view yaml_text, std::string_view source) {
  SpecReader reader(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::DeepRecursion& e) {  // its message is yaml-cpp's "bad file"
    reader.Fail(
        fmt::format("line {}, column {}: nested too deeply", e.mark.line + 1, e.mark.column + 1));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) reader.Fail(e.msg);
    reader.Fail(fmt::format("line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  return reader.Read(root);
}

ProjectSpec LoadProjectSpec(const fs::path& project_dir) {
  fs::path root = Absolute(project_dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) Invalid(fmt::format("No project folder at '{}'", root.string()));
  // MLflow finds its file by a case-insensitive match ("MLProject" works); the .yaml and .yml
  // names are mltrack's additions.
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::string name = entry.path().filename().string();
    for (std::string_view known : {"MLproject", "MLproject.yaml", "MLproject.yml"}) {
      if (Lower(name) == Lower(known)) found.push_back(name);
    }
  }
  if (ec) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot list '{}': {}", root.string(), ec.message()));
  }
  if (found.empty()) return ProjectSpec{};
  std::sort(found.begin(), found.end());
  if (found.size() > 1) {
    Invalid(fmt::format("The project at '{}' has {} MLproject files, {}; it must have one",
                        root.string(), found.size(), Quoted(found, " and ")));
  }
  std::string source = (root / found.front()).string();
  fs::path file;
  try {
    file = ResolveUnder(root, found.front(), "MLproject file");
  } catch (const Error& e) {
    Invalid(fmt::format("{}: {}", source, e.what()));
  }
  if (!fs::is_regular_file(file, ec)) Invalid(fmt::format("{}: not a regular file", source));
  if (fs::file_size(file, ec) > kMaxSpecBytes && !ec) {
    Invalid(fmt::format("{}: an MLproject file is at most {} bytes", source, kMaxSpecBytes));
  }
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in) throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}'", source));
  return ParseProjectSpec(text, source);
}

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
