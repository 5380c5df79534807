// The MLproject spec: parsing (golden forms and every refusal with its exact text), and the
// resolution of entry points into commands, checked by running them with `bash -c`.
#include "projects/mlproject.h"

#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "support/test_support.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::RunProcess;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Pair;
using Given = std::vector<std::pair<std::string, std::string>>;

// Runs `command` with `bash -c` in `cwd` and returns the words the shell passed on: the command
// ends in (or its script runs) `printf '%s\0' ...`, so each word arrives whole, newlines included.
std::vector<std::string> WordsPrinted(const std::string& command, const fs::path& cwd = {}) {
  auto result = RunProcess({"bash", "-c", command}, {.cwd = cwd});
  EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.err;
  std::vector<std::string> words;
  size_t start = 0;
  for (size_t end; (end = result.out.find('\0', start)) != std::string::npos; start = end + 1) {
    words.push_back(result.out.substr(start, end - start));
  }
  EXPECT_EQ(start, result.out.size()) << "output not NUL-terminated: " << result.out;
  return words;
}

// Makes `dir` the current folder for the test's duration (relative path values resolve there).
class CurrentFolder {
 public:
  explicit CurrentFolder(const fs::path& dir) : saved_(fs::current_path()) {
    fs::current_path(dir);
  }
  ~CurrentFolder() { fs::current_path(saved_); }

 private:
  fs::path saved_;
};

constexpr const char* kRecs = R"(name: recs
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      data: path
      rank: {type: int, default: 10}
      reg: {type: float, default: 0.10}
      note: {default: hello}
      out: {type: uri, default: "s3://bucket/out"}
      label: string
    command: "train --data {data} --rank {rank} --reg {reg} {{literal}}"
  plain:
    command: echo plain
)";

TEST(ParseProjectSpec, ReadsShorthandAndFullParameterForms) {
  ProjectSpec spec = ParseProjectSpec(kRecs);
  EXPECT_TRUE(spec.from_file);
  EXPECT_EQ(spec.name, "recs");
  EXPECT_EQ(spec.env, EnvKind::kPython);
  EXPECT_EQ(spec.env_value, "python_env.yaml");
  ASSERT_EQ(spec.entry_points.size(), 2u);
  const EntryPoint& main = spec.entry_points[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.command, "train --data {data} --rank {rank} --reg {reg} {{literal}}");
  ASSERT_EQ(main.parameters.size(), 6u);
  std::vector<std::tuple<std::string, ParamType, std::optional<std::string>>> got;
  for (const auto& p : main.parameters) got.emplace_back(p.name, p.type, p.default_value);
  using T = std::tuple<std::string, ParamType, std::optional<std::string>>;
  EXPECT_THAT(
      got, ElementsAre(T{"data", ParamType::kPath, std::nullopt}, T{"rank", ParamType::kInt, "10"},
                       T{"reg", ParamType::kFloat, "0.10"},     // the YAML text as written
                       T{"note", ParamType::kString, "hello"},  // MLflow's default type
                       T{"out", ParamType::kUri, "s3://bucket/out"},
                       T{"label", ParamType::kString, std::nullopt}));
  EXPECT_EQ(spec.entry_points[1].name, "plain");
  EXPECT_TRUE(spec.entry_points[1].parameters.empty());
}

TEST(ParseProjectSpec, NullDefaultIsRequiredAndEmptyStringIsADefault) {
  ProjectSpec spec = ParseProjectSpec(R"(entry_points:
  main:
    parameters:
      a: {type: string, default: }
      b: {type: string, default: ~}
      c: {type: string, default: ""}
      d: {type: string, default: "null"}
    command: run
)");
  const auto& params = spec.entry_points.at(0).parameters;
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[0].default_value, std::nullopt);
  EXPECT_EQ(params[1].default_value, std::nullopt);
  EXPECT_EQ(params[2].default_value, std::optional<std::string>(""));
  EXPECT_EQ(params[3].default_value, std::optional<std::string>("null"));
  EXPECT_EQ(spec.name, "");
  EXPECT_EQ(spec.env, EnvKind::kNone);
}

TEST(ParseProjectSpec, ReadsEachEnvironmentKey) {
  ProjectSpec conda = ParseProjectSpec("conda_env: envs/conda.yaml\n");
  EXPECT_EQ(conda.env, EnvKind::kConda);
  EXPECT_EQ(conda.env_value, "envs/conda.yaml");
  ProjectSpec docker = ParseProjectSpec(R"(docker_env:
  image: mlflow-docker-example
  volumes: ["/data:/data"]
  environment: [HOME, [NEW_VAR, value]]
)");
  EXPECT_EQ(docker.env, EnvKind::kDocker);
  EXPECT_EQ(docker.env_value, "mlflow-docker-example");
  EXPECT_STREQ(EnvKindKey(EnvKind::kNone), "");
  EXPECT_STREQ(EnvKindKey(EnvKind::kPython), "python_env");
  EXPECT_STREQ(ParamTypeName(ParamType::kUri), "uri");
  EXPECT_STREQ(ParamTypeName(ParamType::kInt), "int");
}

TEST(ParseProjectSpec, EmptyFileHasNoEntryPoints) {
  ProjectSpec spec = ParseProjectSpec("# nothing yet\n");
  EXPECT_TRUE(spec.from_file);
  EXPECT_TRUE(spec.entry_points.empty());
}

void ExpectSpecError(const std::string& yaml, const std::string& message) {
  SCOPED_TRACE(yaml);
  EXPECT_ERROR(ParseProjectSpec(yaml), ErrorCode::kInvalidParameterValue, Eq(message));
}

TEST(ParseProjectSpec, MalformedYamlNamesLineAndColumn) {
  ExpectSpecError("name: recs\nentry_points:\n  main:\n    command: x\n   parameters: {}\n",
                  "MLproject: line 5, column 4: end of map not found");
  ExpectSpecError("name: recs\nentry_points:\n  main:\n    command: [x\n",
                  "MLproject: line 5, column 1: end of sequence flow not found");
  ExpectSpecError("name: " + std::string(3000, '[') + std::string(3000, ']') + "\n",
                  "MLproject: line 1, column 6007: nested too deeply");
  EXPECT_ERROR(ParseProjectSpec("a: [\n", "/p/MLproject"), ErrorCode::kInvalidParameterValue,
               Eq("/p/MLproject: line 2, column 1: end of sequence flow not found"));
}

TEST(ParseProjectSpec, RefusesUnknownKeysNamingThem) {
  ExpectSpecError("name: recs\nentrypoints: {}\n",
                  "MLproject: unknown key 'entrypoints' (known: name, entry_points, conda_env, "
                  "python_env, docker_env)");
  ExpectSpecError("entry_points:\n  main:\n    cmd: x\n",
                  "MLproject: entry point 'main': unknown key 'cmd' (known: parameters, command)");
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters:\n      rank: {type: int, defualt: 3}\n"
      "    command: x\n",
      "MLproject: entry point 'main': parameter 'rank': unknown key 'defualt' (known: "
      "type, default)");
  ExpectSpecError(
      "docker_env: {image: x, imgae: y}\n",
      "MLproject: docker_env: unknown key 'imgae' (known: image, volumes, environment)");
}

TEST(ParseProjectSpec, RefusesMoreThanOneEnvironment) {
  ExpectSpecError(
      "docker_env: {image: x}\nconda_env: conda.yaml\n",
      "MLproject: conda_env and docker_env are both given; a project has one environment");
  ExpectSpecError(
      "python_env: p.yaml\ndocker_env: {image: x}\nconda_env: c.yaml\n",
      "MLproject: conda_env, python_env and docker_env are all given; a project has one "
      "environment");
}

TEST(ParseProjectSpec, RefusesBadEntryPointsAndParameters) {
  ExpectSpecError("entry_points:\n  main:\n    parameters: {a: string}\n",
                  "MLproject: entry point 'main' has no command");
  ExpectSpecError("entry_points:\n  main:\n", "MLproject: entry point 'main' has no command");
  ExpectSpecError("entry_points:\n  main:\n    command: \"\"\n",
                  "MLproject: entry point 'main' has no command");
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters: {rank: integer}\n    command: x\n",
      "MLproject: entry point 'main': parameter 'rank' has unknown type 'integer' (known: "
      "string, float, int, path, uri)");
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters: {rank: {type: int, default: ten}}\n"
      "    command: x\n",
      "MLproject: entry point 'main': parameter 'rank' has default 'ten', which is not an int");
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters: {reg: {type: float, default: 1e}}\n"
      "    command: x\n",
      "MLproject: entry point 'main': parameter 'reg' has default '1e', which is not a float");
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters: {a: {default: [1, 2]}}\n    command: x\n",
      "MLproject: entry point 'main': parameter 'a' has a default that is a list, not a "
      "single value");
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters: {a: }\n    command: x\n",
      "MLproject: entry point 'main': parameter 'a' must be a type (string, float, int, "
      "path, uri) or {type, default}, got null");
  ExpectSpecError("entry_points:\n  main:\n    parameters: [a]\n    command: x\n",
                  "MLproject: entry point 'main': parameters must be a map of names to types or "
                  "{type, default}, got a list");
  ExpectSpecError("entry_points:\n  main:\n    parameters: {a: int, a: float}\n    command: x\n",
                  "MLproject: entry point 'main': parameter 'a' is given twice");
  ExpectSpecError("entry_points:\n  main: {command: x}\n  main: {command: y}\n",
                  "MLproject: entry point 'main' is given twice");
  ExpectSpecError("entry_points: [main]\n",
                  "MLproject: entry_points must be a map of entry points, got a list");
  ExpectSpecError(
      "entry_points:\n  main: run it\n",
      "MLproject: entry point 'main' must be a map of parameters, command, got a string");
  ExpectSpecError("- a\n",
                  "MLproject: the file must be a map of name, entry_points, conda_env, "
                  "python_env, docker_env, got a list");
  ExpectSpecError("name: {a: 1}\n", "MLproject: name must be a string, got a map");
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters: {a: {default: \"x\\0y\"}}\n    command: x\n",
      "MLproject: entry point 'main': parameter 'a': default contains a NUL byte");
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters: {[a]: int}\n    command: x\n",
      "MLproject: entry point 'main': every parameter name must be a string, got a list");
  ExpectSpecError("entry_points:\n  main:\n    parameters: {\"\": int}\n    command: x\n",
                  "MLproject: entry point 'main': a parameter has an empty name");
}

TEST(ParseProjectSpec, RefusesBadCommandTemplates) {
  ExpectSpecError(
      "entry_points:\n  main:\n    parameters: {rank: int}\n    command: \"x {rnak}\"\n",
      "MLproject: entry point 'main': command refers to '{rnak}', which is not a parameter "
      "of the entry point");
  ExpectSpecError("entry_points:\n  main:\n    command: \"awk '{print $1}'\"\n",
                  "MLproject: entry point 'main': command refers to '{print $1}', which is not a "
                  "parameter of the entry point");
  ExpectSpecError(
      "entry_points:\n  main:\n    command: \"x }\"\n",
      "MLproject: entry point 'main': command has a single '}' (write '}}' for a literal "
      "brace)");
  ExpectSpecError(
      "entry_points:\n  main:\n    command: \"x {a\"\n",
      "MLproject: entry point 'main': command has a '{' that is not closed (write '{{' for "
      "a literal brace)");
}

TEST(ParseProjectSpec, RefusesBadEnvironments) {
  ExpectSpecError(
      "python_env: ../outside.yaml\n",
      "MLproject: python_env: Invalid environment file '../outside.yaml': it escapes its "
      "root folder");
  ExpectSpecError("conda_env:\n", "MLproject: conda_env must name a file of the project");
  ExpectSpecError("docker_env: {volumes: [a]}\n", "MLproject: docker_env has no image");
  ExpectSpecError("docker_env: ubuntu\n",
                  "MLproject: docker_env must be a map with an image, got a string");
}

TEST(LoadProjectSpec, FolderWithoutMLprojectHasAnEmptySpec) {
  TempDir dir;
  WriteFile(dir / "train.sh", "echo hi\n");
  ProjectSpec spec = LoadProjectSpec(dir.path());
  EXPECT_FALSE(spec.from_file);
  EXPECT_TRUE(spec.entry_points.empty());
  EXPECT_EQ(spec.env, EnvKind::kNone);
}

TEST(LoadProjectSpec, ReadsMLprojectUnderEachName) {
  for (std::string name : {"MLproject", "MLproject.yaml", "MLproject.yml", "MLProject"}) {
    TempDir dir;
    WriteFile(dir / name, "name: n\nentry_points:\n  main:\n    command: echo\n");
    ProjectSpec spec = LoadProjectSpec(dir.path());
    EXPECT_TRUE(spec.from_file) << name;
    EXPECT_EQ(spec.name, "n") << name;
    ASSERT_EQ(spec.entry_points.size(), 1u) << name;
    EXPECT_EQ(spec.entry_points[0].command, "echo");
  }
}

TEST(LoadProjectSpec, ErrorsNameTheFile) {
  TempDir dir;
  WriteFile(dir / "MLproject.yaml", "name: recs\nentry_points:\n  main:\n    cmd: x\n");
  std::string file = (dir / "MLproject.yaml").string();
  EXPECT_ERROR(LoadProjectSpec(dir.path()), ErrorCode::kInvalidParameterValue,
               Eq(file + ": entry point 'main': unknown key 'cmd' (known: parameters, command)"));
  WriteFile(dir / "MLproject.yaml", "name: [recs\n");
  EXPECT_ERROR(LoadProjectSpec(dir.path()), ErrorCode::kInvalidParameterValue,
               Eq(file + ": line 2, column 1: end of sequence flow not found"));
  WriteFile(dir / "MLproject", "name: recs\n");
  EXPECT_ERROR(LoadProjectSpec(dir.path()), ErrorCode::kInvalidParameterValue,
               Eq("The project at '" + dir.path().string() +
                  "' has 2 MLproject files, 'MLproject' and 'MLproject.yaml'; it must have one"));
  EXPECT_ERROR(LoadProjectSpec(dir / "nope"), ErrorCode::kInvalidParameterValue,
               Eq("No project folder at '" + (dir / "nope").string() + "'"));
}

TEST(LoadProjectSpec, RefusesAnMLprojectLinkedFromOutsideTheProject) {
  TempDir outside, dir;
  WriteFile(outside / "MLproject", "name: elsewhere\n");
  fs::create_symlink(outside / "MLproject", dir / "MLproject");
  EXPECT_ERROR(LoadProjectSpec(dir.path()), ErrorCode::kInvalidParameterValue,
               Eq((dir / "MLproject").string() +
                  ": Invalid MLproject file 'MLproject': it escapes its root folder through the "
                  "symbolic link 'MLproject'"));
}

TEST(ShellQuote, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(ShellQuote("abc_09@%+=:,./-"), "abc_09@%+=:,./-");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$HOME"), "'$HOME'");
  EXPECT_EQ(ShellQuote("~"), "'~'");
}

// Values that a shell would split, expand or run, each passed on as one word.
const std::vector<std::string> kAwkwardValues = {
    "two words", "it's",  "say \"hi\"", "$HOME",     "a;b",         "line1\nline2",
    "",          "*",     "`id`",       "$(echo x)", "back\\slash", "tab\there",
    "~",         "!bang", "-dash",      "ünï",       "'",           "a|b&c>d"};

TEST(ResolveEntryPoint, RendersEveryValueAsOneShellWord) {
  TempDir dir;
  ProjectSpec spec = ParseProjectSpec(R"(entry_points:
  main:
    parameters: {a: string, b: string}
    command: "printf '%s\\0' {a} {b} {a} {{braces}}"
)");
  for (const std::string& value : kAwkwardValues) {
    ResolvedEntryPoint r =
        ResolveEntryPoint(spec, dir.path(), "main", {{"b", value}, {"a", "x y"}});
    EXPECT_THAT(WordsPrinted(r.command), ElementsAre("x y", value, "x y", "{braces}")) << r.command;
    EXPECT_THAT(r.params, ElementsAre(Pair("a", "x y"), Pair("b", value)));
    EXPECT_EQ(r.entry_point, "main");
    EXPECT_TRUE(r.paths.empty());
  }
}

TEST(ResolveEntryPoint, AppendsUndeclaredParametersInTheOrderGiven) {
  TempDir dir;
  ProjectSpec spec = ParseProjectSpec(R"(entry_points:
  main:
    parameters: {rank: {type: int, default: 10}, reg: {type: float, default: 0.1}}
    command: "printf '%s\\0' {rank}"
)");
  ResolvedEntryPoint r = ResolveEntryPoint(
      spec, dir.path(), "main", {{"zeta", "a;b"}, {"reg", "0.5"}, {"we ird", ""}, {"alpha", "$x"}});
  EXPECT_THAT(WordsPrinted(r.command),
              ElementsAre("10", "--zeta", "a;b", "--we ird", "", "--alpha", "$x"));
  EXPECT_THAT(r.params, ElementsAre(Pair("rank", "10"), Pair("reg", "0.5"), Pair("zeta", "a;b"),
                                    Pair("we ird", ""), Pair("alpha", "$x")));
}

TEST(ResolveEntryPoint, ChecksIntAndFloatValues) {
  TempDir dir;
  ProjectSpec spec = ParseProjectSpec(R"(entry_points:
  main:
    parameters: {rank: int, x: float}
    command: "printf '%s\\0' {rank} {x}"
)");
  for (std::string rank : {"10", "-3", "+4", "007", "123456789012345678901234567890"}) {
    for (std::string x :
         {"1", "0.1", "-2.5", "1e-3", "1.", ".5", "+1E+6", "inf", "-Infinity", "NaN"}) {
      ResolvedEntryPoint r =
          ResolveEntryPoint(spec, dir.path(), "main", {{"rank", rank}, {"x", x}});
      EXPECT_THAT(r.params, ElementsAre(Pair("rank", rank), Pair("x", x)));
    }
  }
  for (std::string rank : {"abc", "1.5", "", " 1", "1e3", "0x10", "1_000", "-", "١"}) {
    EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "main", {{"rank", rank}, {"x", "1"}}),
                 ErrorCode::kInvalidParameterValue,
                 Eq("Parameter 'rank' of entry point 'main' must be an int, got '" + rank + "'"));
  }
  for (std::string x :
       {"1e", "abc", "", "1,5", "0x1p3", "1_000", ".", "e5", "1e5.", "- 1", "infinit"}) {
    EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "main", {{"rank", "1"}, {"x", x}}),
                 ErrorCode::kInvalidParameterValue,
                 Eq("Parameter 'x' of entry point 'main' must be a float, got '" + x + "'"));
  }
}

TEST(ResolveEntryPoint, ChecksValuesOfAMillionCharacters) {
  TempDir dir;
  ProjectSpec spec = ParseProjectSpec(
      "entry_points:\n  main:\n    parameters: {rank: int, x: float}\n    command: \"{rank} "
      "{x}\"\n");
  std::string digits(1'000'000, '7');
  ResolvedEntryPoint r =
      ResolveEntryPoint(spec, dir.path(), "main", {{"rank", digits}, {"x", digits + ".5e-3"}});
  EXPECT_EQ(r.command, digits + " " + digits + ".5e-3");
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "main", {{"rank", digits + "x"}, {"x", "1"}}),
               ErrorCode::kInvalidParameterValue,
               ::testing::EndsWith("must be an int, got '" + digits + "x'"));
}

TEST(ResolveEntryPoint, NamesAllMissingRequiredParameters) {
  TempDir dir;
  ProjectSpec spec = ParseProjectSpec(R"(entry_points:
  main:
    parameters: {data: path, k: {type: int, default: 3}, rank: int, e: {type: string, default: ""}}
    command: "run {data} {rank}"
)");
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "main", {{"extra", "1"}}),
               ErrorCode::kInvalidParameterValue,
               Eq("Missing values for required parameters of entry point 'main': 'data', 'rank'"));
}

TEST(ResolveEntryPoint, RefusesAParameterGivenTwiceOrUnnamed) {
  TempDir dir;
  ProjectSpec spec = ParseProjectSpec("entry_points:\n  main:\n    command: run\n");
  EXPECT_ERROR(
      ResolveEntryPoint(spec, dir.path(), "main", {{"rank", "1"}, {"a", "2"}, {"rank", "1"}}),
      ErrorCode::kInvalidParameterValue, Eq("Parameter 'rank' is given twice"));
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "main", {{"", "5"}}),
               ErrorCode::kInvalidParameterValue, Eq("A parameter with the value '5' has no name"));
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "main", {{"a", std::string("x\0y", 3)}}),
               ErrorCode::kInvalidParameterValue,
               Eq("Parameter 'a' contains a NUL byte, which a command cannot carry"));
}

TEST(ResolveEntryPoint, RefusesAnUnknownEntryPoint) {
  TempDir dir;
  ProjectSpec spec =
      ParseProjectSpec("name: recs\nentry_points:\n  main: {command: a}\n  train: {command: b}\n");
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "trian", {}), ErrorCode::kInvalidParameterValue,
               Eq("Unknown entry point 'trian' of project 'recs': its entry points are 'main', "
                  "'train', and it has no script file 'trian'"));
  ProjectSpec one = ParseProjectSpec("entry_points:\n  main: {command: a}\n");
  EXPECT_ERROR(ResolveEntryPoint(one, dir.path(), "", {}), ErrorCode::kInvalidParameterValue,
               Eq("Unknown entry point '' of the project at '" + dir.path().string() +
                  "': its entry point is 'main', and it has no script file ''"));
  fs::create_directory(dir / "sub.sh");
  EXPECT_ERROR(ResolveEntryPoint(ProjectSpec{}, dir.path(), "sub.sh", {}),
               ErrorCode::kInvalidParameterValue,
               Eq("Unknown entry point 'sub.sh' of the project at '" + dir.path().string() +
                  "': it has no MLproject file and it has no script file 'sub.sh'"));
}

TEST(ResolveEntryPoint, RunsScriptFilesWithTheirParametersAppended) {
  TempDir dir;
  WriteFile(dir / "scripts/train.sh", "printf '%s\\0' sh \"$0\" \"$@\"\n");
  WriteFile(dir / "train.py",
            "import sys\nsys.stdout.write(''.join(a + '\\0' for a in ['py'] + sys.argv[1:]))\n");
  WriteFile(dir / "tool", "#!/bin/sh\nprintf '%s\\0' tool \"$@\"\n");
  fs::permissions(dir / "tool", fs::perms::owner_exec, fs::perm_options::add);
  ProjectSpec spec = ParseProjectSpec("name: recs\nentry_points:\n  main: {command: a}\n");
  Given given = {{"rank", "20"}, {"note", "it's $1"}};

  ResolvedEntryPoint sh = ResolveEntryPoint(spec, dir.path(), "scripts/train.sh", given);
  EXPECT_THAT(WordsPrinted(sh.command), ElementsAre("sh", (dir / "scripts/train.sh").string(),
                                                    "--rank", "20", "--note", "it's $1"));
  EXPECT_THAT(sh.params, ElementsAre(Pair("rank", "20"), Pair("note", "it's $1")));
  EXPECT_EQ(sh.entry_point, "scripts/train.sh");

  ResolvedEntryPoint py = ResolveEntryPoint(ProjectSpec{}, dir.path(), "train.py", given);
  EXPECT_THAT(WordsPrinted(py.command), ElementsAre("py", "--rank", "20", "--note", "it's $1"));

  // Runs from another folder too: the script is named by its absolute path.
  TempDir elsewhere;
  ResolvedEntryPoint tool = ResolveEntryPoint(spec, dir.path(), "tool", {{"k", "a b"}});
  EXPECT_THAT(WordsPrinted(tool.command, elsewhere.path()), ElementsAre("tool", "--k", "a b"));

  WriteFile(dir / "data.csv", "a,b\n");
  EXPECT_ERROR(
      ResolveEntryPoint(spec, dir.path(), "data.csv", {}), ErrorCode::kInvalidParameterValue,
      Eq("Unknown entry point 'data.csv' of project 'recs': its entry point is 'main', and "
         "its file 'data.csv' is neither a *.sh or *.py script nor executable"));
}

TEST(ResolveEntryPoint, RefusesScriptsOutsideTheProject) {
  TempDir outside, dir;
  WriteFile(outside / "evil.sh", "echo\n");
  fs::create_symlink(outside / "evil.sh", dir / "link.sh");
  ProjectSpec spec = ParseProjectSpec("name: recs\n");
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "../x.sh", {}),
               ErrorCode::kInvalidParameterValue,
               Eq("Entry point '../x.sh' of project 'recs' is not in the project: Invalid script "
                  "file '../x.sh': it escapes its root folder"));
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "/bin/sh", {}),
               ErrorCode::kInvalidParameterValue,
               Eq("Entry point '/bin/sh' of project 'recs' is not in the project: Invalid script "
                  "file '/bin/sh': it must be a relative path"));
  EXPECT_ERROR(
      ResolveEntryPoint(spec, dir.path(), "link.sh", {}), ErrorCode::kInvalidParameterValue,
      Eq("Entry point 'link.sh' of project 'recs' is not in the project: Invalid script "
         "file 'link.sh': it escapes its root folder through the symbolic link 'link.sh'"));
}

TEST(ResolveEntryPoint, MakesPathParametersAbsoluteAndChecksThem) {
  TempDir work, project;
  WriteFile(work / "data/ratings.csv", "u,i,r\n");
  WriteFile(project / "defaults/seed.txt", "1\n");
  fs::create_directory(work / "folder");
  ProjectSpec spec = ParseProjectSpec(R"(entry_points:
  main:
    parameters:
      data: path
      dir: path
      seed: {type: path, default: defaults/seed.txt}
    command: "printf '%s\\0' {data} {dir} {seed}"
)");
  CurrentFolder cd(work.path());
  std::string data = (work / "data/ratings.csv").string();
  ResolvedEntryPoint r = ResolveEntryPoint(
      spec, project.path(), "main", {{"data", "./data/../data/ratings.csv"}, {"dir", "folder/"}});
  std::string seed = (project / "defaults/seed.txt").string();
  std::string dir = (work / "folder").string();
  EXPECT_THAT(WordsPrinted(r.command), ElementsAre(data, dir, seed));
  EXPECT_THAT(r.params, ElementsAre(Pair("data", data), Pair("dir", dir), Pair("seed", seed)));
  EXPECT_THAT(r.paths, ElementsAre(Pair("data", fs::path(data)), Pair("dir", fs::path(dir)),
                                   Pair("seed", fs::path(seed))));

  // A file: URI names a local path, as in MLflow.
  ResolvedEntryPoint uri =
      ResolveEntryPoint(spec, project.path(), "main",
                        {{"data", "file://" + data}, {"dir", "file://localhost" + dir}});
  EXPECT_THAT(uri.paths, ElementsAre(Pair("data", fs::path(data)), Pair("dir", fs::path(dir)),
                                     Pair("seed", fs::path(seed))));

  EXPECT_ERROR(ResolveEntryPoint(spec, project.path(), "main", {{"data", "x.csv"}, {"dir", "."}}),
               ErrorCode::kInvalidParameterValue,
               Eq("Parameter 'data' of entry point 'main' is a path that does not exist: '" +
                  (work / "x.csv").string() + "'"));
  EXPECT_ERROR(ResolveEntryPoint(spec, project.path(), "main", {{"data", ""}, {"dir", "."}}),
               ErrorCode::kInvalidParameterValue,
               Eq("Parameter 'data' of entry point 'main' is a path, got an empty value"));
  EXPECT_ERROR(
      ResolveEntryPoint(spec, project.path(), "main", {{"data", "s3://b/k"}, {"dir", "."}}),
      ErrorCode::kInvalidParameterValue,
      Eq("Parameter 'data' of entry point 'main' is a path, and 's3://b/k' is a URI that mlt "
         "does not download (declare the parameter as uri to pass it on)"));
  EXPECT_ERROR(
      ResolveEntryPoint(spec, project.path(), "main", {{"data", "file://host/x"}, {"dir", "."}}),
      ErrorCode::kInvalidParameterValue,
      Eq("Parameter 'data' of entry point 'main' is a path, and 'file://host/x' names "
         "another host"));
}

TEST(ResolveEntryPoint, ResolvesDefaultPathsInsideTheProject) {
  TempDir project;
  ProjectSpec escaping = ParseProjectSpec(
      "entry_points:\n  main:\n    parameters: {d: {type: path, default: ../secret}}\n    command: "
      "x\n");
  EXPECT_ERROR(
      ResolveEntryPoint(escaping, project.path(), "main", {}), ErrorCode::kInvalidParameterValue,
      Eq("Parameter 'd' of entry point 'main': Invalid default path '../secret': it escapes "
         "its root folder"));
  ProjectSpec missing = ParseProjectSpec(
      "entry_points:\n  main:\n    parameters: {d: {type: path, default: data.csv}}\n    command: "
      "x\n");
  EXPECT_ERROR(ResolveEntryPoint(missing, project.path(), "main", {}),
               ErrorCode::kInvalidParameterValue,
               Eq("Parameter 'd' of entry point 'main' is a path that does not exist: '" +
                  (project / "data.csv").string() + "'"));
}

TEST(ResolveEntryPoint, PassesUrisOnAndChecksLocalOnes) {
  TempDir work, project;
  WriteFile(work / "model/MLmodel", "x\n");
  ProjectSpec spec = ParseProjectSpec(R"(entry_points:
  main:
    parameters: {u: uri, v: {type: uri, default: "s3://bucket/a b"}}
    command: "printf '%s\\0' {u} {v}"
)");
  CurrentFolder cd(work.path());
  std::string model = (work / "model").string();

  ResolvedEntryPoint remote =
      ResolveEntryPoint(spec, project.path(), "main", {{"u", "runs:/abc/model"}});
  EXPECT_THAT(WordsPrinted(remote.command), ElementsAre("runs:/abc/model", "s3://bucket/a b"));
  EXPECT_TRUE(remote.paths.empty());

  ResolvedEntryPoint local = ResolveEntryPoint(spec, project.path(), "main", {{"u", "model"}});
  EXPECT_THAT(local.params, ElementsAre(Pair("u", model), Pair("v", "s3://bucket/a b")));
  EXPECT_THAT(local.paths, ElementsAre(Pair("u", fs::path(model))));

  ResolvedEntryPoint file =
      ResolveEntryPoint(spec, project.path(), "main", {{"u", "file://" + model}});
  EXPECT_THAT(file.params, ElementsAre(Pair("u", "file://" + model), Pair("v", "s3://bucket/a b")));
  EXPECT_THAT(file.paths, ElementsAre(Pair("u", fs::path(model))));

  EXPECT_ERROR(ResolveEntryPoint(spec, project.path(), "main", {{"u", "nope"}}),
               ErrorCode::kInvalidParameterValue,
               Eq("Parameter 'u' of entry point 'main' is a path that does not exist: '" +
                  (work / "nope").string() + "'"));
}

TEST(ResolveEntryPoint, RefusesABadDefaultOfASpecBuiltInCode) {
  TempDir dir;
  ProjectSpec spec;
  spec.entry_points.push_back(
      EntryPoint{"main", {ParameterSpec{"rank", ParamType::kInt, "ten"}}, "run {rank}"});
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "main", {}), ErrorCode::kInvalidParameterValue,
               Eq("Parameter 'rank' of entry point 'main' has default 'ten', which is not an int"));
  spec.entry_points[0].command = "run {rnak}";
  EXPECT_ERROR(ResolveEntryPoint(spec, dir.path(), "main", {{"rank", "1"}}),
               ErrorCode::kInvalidParameterValue,
               Eq("Entry point 'main' of the project at '" + dir.path().string() +
                  "': command refers to '{rnak}', which is not a parameter of the entry point"));
}

}  // namespace
}  // namespace mltrack::projects
