#include "models/bundle/mlmodel.h"

#include <cmath>
#include <ctime>
#include <functional>
#include <regex>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/ids.h"
#include "common/text.h"
#include "models/bundle/file_util.h"
#include "mltrack/error.h"

#ifndef MLT_VERSION
#define MLT_VERSION "0.0.0"
#endif

namespace mltrack::models {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// --- reading --------------------------------------------------------------------------------

// Where a problem was found, for the message.
class Reader {
 public:
  explicit Reader(const fs::path& path) : path_(path.string()) {}

  [[noreturn]] void Fail(const YAML::Mark& mark, std::string_view problem) const {
    if (mark.is_null()) Fail(problem);
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid MLmodel file '{}': line {}: {}", path_, mark.line + 1, problem));
  }
  [[noreturn]] void Fail(std::string_view problem) const {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid MLmodel file '{}': {}", path_, problem));
  }
  [[noreturn]] void WrongType(const YAML::Node& node, std::string_view field,
                              std::string_view expected) const {
    Fail(node.Mark(), fmt::format("field '{}' must be {}, got {}", field, expected, Kind(node)));
  }

  static std::string_view Kind(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Map: return "a map";
      case YAML::NodeType::Sequence: return "a list";
      case YAML::NodeType::Null: return "null";
      default: return "a scalar";
    }
  }

  // A scalar field as text; a map, a list or null is refused.
  std::string String(const YAML::Node& node, std::string_view field) const {
    if (!node.IsScalar()) WrongType(node, field, "a string");
    return node.Scalar();
  }

 private:
  std::string path_;
};

bool Matches(const std::string& text, const std::regex& pattern) {
  return std::regex_match(text, pattern);
}

const std::regex kIntPattern("[-+]?[0-9]+");
const std::regex kFloatPattern("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
const std::regex kUuidPattern("[0-9a-f]{32}");
const std::regex kTimePattern("[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}");

bool IsNullWord(const std::string& s) { return s == "~" || s == "null" || s == "Null" || s == "NULL"; }
bool IsTrueWord(const std::string& s) { return s == "true" || s == "True" || s == "TRUE"; }
bool IsFalseWord(const std::string& s) { return s == "false" || s == "False" || s == "FALSE"; }

// A plain scalar's value under YAML 1.2's core schema; quoted scalars are always strings.
json ResolveScalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;
  if (IsNullWord(s)) return nullptr;
  if (IsTrueWord(s)) return true;
  if (IsFalseWord(s)) return false;
  if (Matches(s, kIntPattern)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return s;  // too large for int64: kept as its text
    }
  }
  if (Matches(s, kFloatPattern)) return std::stod(s);
  std::string lower = AsciiLower(s);
  if (lower == ".inf" || lower == "+.inf") return std::numeric_limits<double>::infinity();
  if (lower == "-.inf") return -std::numeric_limits<double>::infinity();
  if (lower == ".nan") return std::numeric_limits<double>::quiet_NaN();
  return s;
}

json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) out[item.first.Scalar()] = ToJson(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: return ResolveScalar(node);
    default: return nullptr;
  }
}

Schema ReadSchema(const Reader& reader, const YAML::Node& node, std::string_view field) {
  std::string text = reader.String(node, field);
  try {
    return SchemaFromJson(text);
  } catch (const Error& e) {
    reader.Fail(node.Mark(), fmt::format("field '{}' is not a valid schema: {}", field, e.what()));
  }
}

Signature ReadSignature(const Reader& reader, const YAML::Node& node) {
  if (!node.IsMap()) reader.WrongType(node, "signature", "a map");
  Signature signature;
  YAML::Node inputs = node["inputs"];
  if (!inputs) reader.Fail(node.Mark(), "missing required field 'signature.inputs'");
  signature.inputs = ReadSchema(reader, inputs, "signature.inputs");
  if (YAML::Node outputs = node["outputs"]; outputs && !outputs.IsNull()) {
    signature.outputs = ReadSchema(reader, outputs, "signature.outputs");
  }
  if (YAML::Node params = node["params"]; params && !params.IsNull()) {
    std::string text = reader.String(params, "signature.params");
    if (!json::accept(text)) {
      reader.Fail(params.Mark(), "field 'signature.params' is not valid JSON");
    }
    signature.params_json = text;
  }
  for (const auto& item : node) {
    std::string key = item.first.Scalar();
    if (key != "inputs" && key != "outputs" && key != "params") {
      reader.Fail(item.first.Mark(), fmt::format("unknown field 'signature.{}'", key));
    }
  }
  return signature;
}

InputExampleInfo ReadInputExampleInfo(const Reader& reader, const YAML::Node& node) {
  constexpr std::string_view kField = "saved_input_example_info";
  if (!node.IsMap()) reader.WrongType(node, kField, "a map");
  InputExampleInfo info{.artifact_path = "", .type = "", .pandas_orient = ""};
  for (const auto& item : node) {
    std::string key = item.first.Scalar();
    std::string field = fmt::format("{}.{}", kField, key);
    if (key == "artifact_path") {
      info.artifact_path = reader.String(item.second, field);
    } else if (key == "type") {
      info.type = reader.String(item.second, field);
    } else if (key == "pandas_orient") {
      info.pandas_orient = reader.String(item.second, field);
    } else {
      info.other_fields[key] = ToJson(item.second);
    }
  }
  if (info.artifact_path.empty()) {
    reader.Fail(node.Mark(), fmt::format("missing required field '{}.artifact_path'", kField));
  }
  if (info.type.empty()) reader.Fail(node.Mark(), fmt::format("missing required field '{}.type'", kField));
  return info;
}

ModelMeta ParseMlmodel(const Reader& reader, const YAML::Node& root) {
  if (!root.IsMap()) reader.Fail(root.Mark(), "it must be a YAML map of fields");
  ModelMeta meta;
  bool has_flavors = false;
  bool has_time = false;
  for (const auto& item : root) {
    const YAML::Node& value = item.second;
    std::string key = item.first.Scalar();
    if (key == "artifact_path") {
      meta.artifact_path = reader.String(value, key);
    } else if (key == "run_id") {
      meta.run_id = reader.String(value, key);
    } else if (key == "mltrack_version") {
      meta.mltrack_version = reader.String(value, key);
    } else if (key == "model_uuid") {
      meta.model_uuid = reader.String(value, key);
      if (!Matches(meta.model_uuid, kUuidPattern)) {
        reader.Fail(value.Mark(), fmt::format("field 'model_uuid' must be 32 hex digits, got '{}'",
                                              meta.model_uuid));
      }
    } else if (key == "utc_time_created") {
      has_time = true;
      meta.utc_time_created = reader.String(value, key);
      if (!Matches(meta.utc_time_created, kTimePattern)) {
        reader.Fail(value.Mark(),
                    fmt::format("field 'utc_time_created' must have the form "
                                "'YYYY-MM-DD HH:MM:SS.ffffff', got '{}'",
                                meta.utc_time_created));
      }
    } else if (key == "flavors") {
      has_flavors = true;
      if (!value.IsMap()) reader.WrongType(value, "flavors", "a map of flavor name to settings");
      if (value.size() == 0) reader.Fail(value.Mark(), "field 'flavors' must name at least one flavor");
      for (const auto& flavor : value) {
        std::string name = flavor.first.Scalar();
        if (!flavor.second.IsMap()) {
          reader.WrongType(flavor.second, fmt::format("flavors.{}", name), "a map");
        }
        meta.flavors[name] = ToJson(flavor.second);
      }
    } else if (key == "signature") {
      if (!value.IsNull()) meta.signature = ReadSignature(reader, value);
    } else if (key == "saved_input_example_info") {
      if (!value.IsNull()) meta.saved_input_example_info = ReadInputExampleInfo(reader, value);
    } else {
      meta.other_fields[key] = ToJson(value);
    }
  }
  if (!has_flavors) reader.Fail("missing required field 'flavors'");
  if (!has_time) reader.Fail("missing required field 'utc_time_created'");
  return meta;
}

// --- writing --------------------------------------------------------------------------------

// Whether a plain scalar with this text would read back as something other than this string,
// or would not be a valid plain scalar. YAML 1.1 booleans (yes/no/on/off) are quoted too, so that
// PyYAML (MLflow) reads them as strings.
bool NeedsQuotes(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.back() == ':') return true;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s.front()) != std::string_view::npos) {
    return true;
  }
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  static const char* const kWords[] = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
                                       "on", "On", "ON", "off", "Off", "OFF"};
  for (const char* word : kWords) {
    if (s == word) return true;
  }
  YAML::Node plain(s);  // a plain scalar: ResolveScalar sees tag "?"
  return !ResolveScalar(plain).is_string();
}

void EmitString(YAML::Emitter& out, const std::string& s) {
  bool control = false;
  for (unsigned char c : s) control = control || c < 0x20 || c == 0x7f;
  if (control) {
    out << YAML::DoubleQuoted << s;
  } else if (NeedsQuotes(s)) {
    out << YAML::SingleQuoted << s;
  } else {
    out << s;
  }
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  std::string text = fmt::format("{}", v);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

void EmitJson(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) out << YAML::Flow;  // "key: {}" on one line, as PyYAML writes it
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        EmitString(out, key);
        out << YAML::Value;
        EmitJson(out, item);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      if (value.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : value) EmitJson(out, item);
      out << YAML::EndSeq;
      break;
    case json::value_t::string: EmitString(out, value.get<std::string>()); break;
    case json::value_t::boolean: out << (value.get<bool>() ? "true" : "false"); break;
    case json::value_t::number_integer: out << fmt::format("{}", value.get<int64_t>()); break;
    case json::value_t::number_unsigned: out << fmt::format("{}", value.get<uint64_t>()); break;
    case json::value_t::number_float: out << FormatDouble(value.get<double>()); break;
    default: out << YAML::Null; break;
  }
}

void CheckWritable(const ModelMeta& meta) {
  auto invalid = [](std::string message) {
    throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
  };
  if (meta.flavors.empty()) invalid("A model must have at least one flavor");
  for (const auto& [name, config] : meta.flavors) {
    if (!config.is_object()) invalid(fmt::format("Flavor '{}' settings must be a map", name));
  }
  if (!Matches(meta.utc_time_created, kTimePattern)) {
    invalid(fmt::format("utc_time_created must have the form 'YYYY-MM-DD HH:MM:SS.ffffff', got '{}'",
                        meta.utc_time_created));
  }
  if (!meta.model_uuid.empty() && !Matches(meta.model_uuid, kUuidPattern)) {
    invalid(fmt::format("model_uuid must be 32 hex digits, got '{}'", meta.model_uuid));
  }
}

}  // namespace

std::string FormatUtcTime(std::chrono::system_clock::time_point time) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(micros);
  std::time_t t = seconds.count();
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:06d}", buffer, (micros - seconds).count());
}

ModelMeta NewModelMeta() {
  ModelMeta meta;
  meta.utc_time_created = FormatUtcTime(std::chrono::system_clock::now());
  meta.model_uuid = NewRunId();
  meta.mltrack_version = MLT_VERSION;
  return meta;
}

namespace {

// The YAML of the MLmodel file at `path`; what both readers refuse before looking at fields.
YAML::Node LoadMlmodelYaml(const fs::path& path, const Reader& reader) {
  std::string text;
  try {
    text = ReadWholeFile(path);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kResourceDoesNotExist) throw;
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("No MLmodel file at '{}'", path.string()));
  }
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    reader.Fail(e.mark, fmt::format("YAML syntax error: {}", e.msg));
  }
}

}  // namespace

ModelMeta ReadMlmodel(const fs::path& path) {
  Reader reader(path);
  YAML::Node root = LoadMlmodelYaml(path, reader);
  try {
    return ParseMlmodel(reader, root);
  } catch (const YAML::Exception& e) {
    reader.Fail(e.mark, fmt::format("YAML syntax error: {}", e.msg));
  }
}

nlohmann::json ReadMlmodelAsWritten(const fs::path& path) {
  Reader reader(path);
  YAML::Node root = LoadMlmodelYaml(path, reader);
  if (!root.IsMap()) reader.Fail("it must be a YAML mapping of fields");
  return ToJson(root);
}

std::string MlmodelToYaml(const ModelMeta& meta) {
  CheckWritable(meta);
  // Every top-level key with how to write its value; std::map keeps them sorted.
  std::map<std::string, std::function<void(YAML::Emitter&)>> fields;
  auto string_field = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) fields[std::string(key)] = [&value](YAML::Emitter& out) { EmitString(out, value); };
  };
  for (const auto& [key, value] : meta.other_fields) {
    fields[key] = [&value](YAML::Emitter& out) { EmitJson(out, value); };
  }
  string_field("artifact_path", meta.artifact_path);
  string_field("run_id", meta.run_id);
  string_field("model_uuid", meta.model_uuid);
  string_field("mltrack_version", meta.mltrack_version);
  fields["utc_time_created"] = [&](YAML::Emitter& out) {
    out << YAML::SingleQuoted << meta.utc_time_created;  // as PyYAML quotes a timestamp-like text
  };
  fields["flavors"] = [&](YAML::Emitter& out) {
    out << YAML::BeginMap;
    for (const auto& [name, config] : meta.flavors) {
      out << YAML::Key;
      EmitString(out, name);
      out << YAML::Value;
      EmitJson(out, config);
    }
    out << YAML::EndMap;
  };
  if (meta.signature) {
    fields["signature"] = [&](YAML::Emitter& out) {
      const Signature& s = *meta.signature;
      out << YAML::BeginMap;
      out << YAML::Key << "inputs" << YAML::Value << YAML::SingleQuoted << SchemaToJson(s.inputs);
      out << YAML::Key << "outputs" << YAML::Value;
      if (s.outputs) {
        out << YAML::SingleQuoted << SchemaToJson(*s.outputs);
      } else {
        out << YAML::Null;
      }
      out << YAML::Key << "params" << YAML::Value;
      if (s.params_json) {
        EmitString(out, *s.params_json);
      } else {
        out << YAML::Null;
      }
      out << YAML::EndMap;
    };
  }
  if (meta.saved_input_example_info) {
    fields["saved_input_example_info"] = [&](YAML::Emitter& out) {
      const InputExampleInfo& info = *meta.saved_input_example_info;
      json all = info.other_fields.empty() ? json::object() : json(info.other_fields);
      all["artifact_path"] = info.artifact_path;
      all["type"] = info.type;
      if (!info.pandas_orient.empty()) all["pandas_orient"] = info.pandas_orient;
      EmitJson(out, all);
    };
  }

  YAML::Emitter out;
  out.SetNullFormat(YAML::LowerNull);
  out.SetIndent(2);
  out << YAML::BeginMap;
  for (const auto& [key, emit] : fields) {
    out << YAML::Key << key << YAML::Value;
    emit(out);
  }
  out << YAML::EndMap;
  if (!out.good()) {
    throw Error(ErrorCode::kInternalError,
                fmt::format("Cannot write the MLmodel file: {}", out.GetLastError()));
  }
  return std::string(out.c_str()) + "\n";
}

json MlmodelToJson(const ModelMeta& meta) {
  return ToJson(YAML::Load(MlmodelToYaml(meta)));
}

void WriteMlmodel(const fs::path& path, const ModelMeta& meta) {
  WriteFileAtomically(path, MlmodelToYaml(meta));
}

}  // namespace mltrack::models
