// MLflow's MLproject file: a project's name, its entry points with typed parameters and command
// templates, and its environment; and the resolution of an entry point with given values into the
// command `mlt run` executes.
//
//   name: recs
//   python_env: python_env.yaml          # or conda_env: / docker_env: {image: ...}; at most one
//   entry_points:
//     main:
//       parameters:
//         data: path                       # shorthand: the type only (required)
//         rank: {type: int, default: 10}
//         reg: {type: float, default: 0.1}
//       command: "mlt train als --ratings {data} --rank {rank} --reg {reg}"
//
// Types are string, float, int, path and uri. Unlike MLflow, float and int values are checked.
// A given path value must exist and is made absolute (relative to the folder `mlt run` runs in);
// a relative default path is the project's own file (relative to the project folder, which it
// may not leave); a uri value that has no scheme (or a file: URI) is a path. A null default
// (`default:` or `~`) makes a parameter required, as in MLflow; an empty string is a default.
// In the command every {name} is replaced by its value, shell-quoted; values for parameters the entry point does not declare are appended as
// `--name value` (quoted), in the order given. An entry point the MLproject does not name may be
// a script file of the project: `*.sh` runs with `bash`, `*.py` with `python3`, any other
// executable file directly (by its absolute path, which must stay inside the project); all its
// parameters are appended.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mltrack::projects {

enum class ParamType { kString, kFloat, kInt, kPath, kUri };
const char* ParamTypeName(ParamType type);  // "string", "float", ...

struct ParameterSpec {
  std::string name;
  ParamType type = ParamType::kString;
  std::optional<std::string> default_value;  // nullopt: required
};

struct EntryPoint {
  std::string name;
  std::vector<ParameterSpec> parameters;  // in the file's order
  std::string command;
};

enum class EnvKind { kNone, kConda, kPython, kDocker };
const char* EnvKindKey(EnvKind kind);  // "conda_env", "python_env", "docker_env"; "" for kNone

struct ProjectSpec {
  std::string name;                       // may be empty
  std::vector<EntryPoint> entry_points;   // in the file's order
  EnvKind env = EnvKind::kNone;
  std::string env_value;                  // the env file, or the docker image
  bool from_file = false;                 // false: the folder has no MLproject file
};

// Parses the text of an MLproject file. Throws Error(kInvalidParameterValue) whose message starts
// with `source` and says what and where:
//   "MLproject: line 4, column 3: <yaml-cpp's message>"            (malformed YAML)
//   "MLproject: unknown key 'entrypoints' (known: name, entry_points, conda_env, python_env,
//    docker_env)"
//   "MLproject: entry point 'main': unknown key 'cmd' (known: parameters, command)"
//   "MLproject: entry point 'main' has no command"
//   "MLproject: entry point 'main': parameter 'rank' has unknown type 'integer' (known: string,
//    float, int, path, uri)"
//   "MLproject: entry point 'main': parameter 'rank' has default 'ten', which is not an int"
//   "MLproject: conda_env and docker_env are both given; a project has one environment"
ProjectSpec ParseProjectSpec(std::string_view yaml_text, std::string_view source = "MLproject");

// <project_dir>/MLproject (MLproject.yaml and MLproject.yml also), parsed; a folder without one
// has an empty spec (from_file false). Errors as ParseProjectSpec's, naming the file's path.
ProjectSpec LoadProjectSpec(const std::filesystem::path& project_dir);

struct ResolvedEntryPoint {
  std::string entry_point;
  std::string command;  // for `bash -c`
  // Every parameter with its resolved value, the declared ones in declaration order, then the
  // extra ones in the order given: what the run records as params.
  std::vector<std::pair<std::string, std::string>> params;
  // The path-typed parameters (and uri-typed ones that are local paths), as absolute paths.
  std::vector<std::pair<std::string, std::filesystem::path>> paths;
};

// Resolves `entry_point` with `given` values (each name at most once) before anything runs.
// Throws Error(kInvalidParameterValue):
//   "Unknown entry point 'trian' of project 'recs': its entry points are 'main', 'train', and
//    it has no script file 'trian'"
//   "Missing values for required parameters of entry point 'main': 'data', 'rank'"  (all of them)
//   "Parameter 'rank' of entry point 'main' must be an int, got 'abc'"
//   "Parameter 'data' of entry point 'main' is a path that does not exist: '/abs/x.csv'"
//   "Parameter 'rank' is given twice"
ResolvedEntryPoint ResolveEntryPoint(const ProjectSpec& spec,
                                     const std::filesystem::path& project_dir,
                                     const std::string& entry_point,
                                     const std::vector<std::pair<std::string, std::string>>& given);

// The value as one word of a POSIX shell command: unchanged when it holds only characters that
// need no quoting ([A-Za-z0-9_@%+=:,./-]), otherwise in single quotes ('\'' for a quote).
std::string ShellQuote(std::string_view value);

}  // namespace mltrack::projects
