// Parsing MLproject files (mlproject.h): the YAML document read into a ProjectSpec, every refusal
// naming the file, the entry point and the parameter involved.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <set>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "common/safe_path.h"
#include "common/text.h"
#include "mltrack/error.h"
#include "projects/mlproject.h"
#include "projects/mlproject_internal.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;
using mlproject::Absolute;
using mlproject::ExpandTemplate;
using mlproject::FitsType;
using mlproject::Invalid;
using mlproject::ParamTypeFromName;
using mlproject::Quoted;
using mlproject::TemplateProblem;
using mlproject::WithArticle;

constexpr std::string_view kTopLevelKeys = "name, entry_points, conda_env, python_env, docker_env";
constexpr std::string_view kEntryPointKeys = "parameters, command";
constexpr std::string_view kParameterKeys = "type, default";
constexpr std::string_view kDockerKeys = "image, volumes, environment";
constexpr std::string_view kTypeNames = "string, float, int, path, uri";
// An MLproject is a short YAML file; anything larger is not one.
constexpr std::uintmax_t kMaxSpecBytes = 1 << 20;

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

}  // namespace

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
      if (AsciiLower(name) == AsciiLower(known)) found.push_back(name);
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

}  // namespace mltrack::projects
