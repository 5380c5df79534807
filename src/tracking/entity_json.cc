#include "tracking/entity_json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack::tracking {
namespace {

using nlohmann::json;

std::string Join(std::string_view parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  return fmt::format("{}.{}", parent, name);
}

[[noreturn]] void ThrowMissing(std::string_view field) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Missing value for required field '{}'", field));
}

// The object being read, and the path that names it in errors.
class ObjectReader {
 public:
  ObjectReader(const json& value, std::string_view path) : value_(value), path_(path) {
    if (!value.is_object()) ThrowInvalidJsonField(path, "expected an object");
  }

  // nullptr when the field is absent or null (protobuf's JSON mapping reads null as absent).
  const json* Find(std::string_view name) const {
    auto it = value_.find(name);
    if (it == value_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string Path(std::string_view name) const { return Join(path_, name); }

  std::optional<std::string> String(std::string_view name) const {
    const json* v = Find(name);
    if (!v) return std::nullopt;
    if (!v->is_string()) ThrowInvalidJsonField(Path(name), "expected a string");
    return v->get<std::string>();
  }
  std::string RequiredString(std::string_view name) const {
    auto s = String(name);
    if (!s) ThrowMissing(Path(name));
    return *s;
  }
  std::optional<int64_t> Int64(std::string_view name) const {
    const json* v = Find(name);
    if (!v) return std::nullopt;
    return Int64FromJson(*v, Path(name));
  }
  std::optional<double> Double(std::string_view name) const {
    const json* v = Find(name);
    if (!v) return std::nullopt;
    return DoubleFromJson(*v, Path(name));
  }
  std::optional<bool> Bool(std::string_view name) const {
    const json* v = Find(name);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) ThrowInvalidJsonField(Path(name), "expected a boolean");
    return v->get<bool>();
  }
  template <class T>
  std::vector<T> Array(std::string_view name) const {
    const json* v = Find(name);
    if (!v) return {};
    return FromJsonArray<T>(*v, Path(name));
  }

 private:
  const json& value_;
  std::string path_;
};

// Adds `"name": [...]` unless `items` is empty: protobuf's JSON mapping leaves out empty
// repeated fields.
template <class T>
void PutArray(json& object, const char* name, const std::vector<T>& items) {
  if (items.empty()) return;
  json array = json::array();
  for (const auto& item : items) array.push_back(ToJson(item));
  object[name] = std::move(array);
}

LifecycleStage ParseStage(const ObjectReader& reader, std::string_view name) {
  auto text = reader.String(name);
  if (!text || *text == "active") return LifecycleStage::kActive;
  if (*text == "deleted") return LifecycleStage::kDeleted;
  ThrowInvalidJsonField(reader.Path(name),
                        fmt::format("unknown lifecycle stage '{}' (expected active or deleted)",
                                    *text));
}

RunStatus ParseStatus(const ObjectReader& reader, std::string_view name) {
  const json* v = reader.Find(name);
  if (!v) return RunStatus::kRunning;
  constexpr RunStatus kByNumber[] = {RunStatus::kRunning, RunStatus::kScheduled,
                                     RunStatus::kFinished, RunStatus::kFailed, RunStatus::kKilled};
  if (v->is_number_integer()) {  // the enum's number in service.proto: RUNNING = 1 ... KILLED = 5
    auto n = v->get<int64_t>();
    if (n >= 1 && n <= 5) return kByNumber[n - 1];
    ThrowInvalidJsonField(reader.Path(name), fmt::format("unknown run status {}", n));
  }
  if (!v->is_string()) ThrowInvalidJsonField(reader.Path(name), "expected a string");
  auto text = v->get<std::string>();
  for (RunStatus status : kByNumber) {
    if (RunStatusName(status) == text) return status;
  }
  ThrowInvalidJsonField(
      reader.Path(name),
      fmt::format("unknown run status '{}' (expected one of RUNNING, SCHEDULED, FINISHED, "
                  "FAILED, KILLED)",
                  text));
}

// Parses the whole of `text` as a double; protobuf accepts numbers in strings.
std::optional<double> ParseDoubleText(const std::string& text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

void ThrowInvalidJsonField(std::string_view field, std::string_view problem) {
  if (field.empty()) {
    throw Error(ErrorCode::kInvalidParameterValue, fmt::format("Invalid JSON value: {}", problem));
  }
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid value for field '{}': {}", field, problem));
}

std::string IndexedJsonField(std::string_view field, size_t index) {
  return fmt::format("{}[{}]", field, index);
}

json DoubleToJson(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

double DoubleFromJson(const json& value, std::string_view field) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    if (auto parsed = ParseDoubleText(value.get<std::string>())) return *parsed;
  }
  ThrowInvalidJsonField(field, "expected a number");
}

int64_t Int64FromJson(const json& value, std::string_view field) {
  if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<int64_t>();
  if (value.is_number_unsigned()) {
    auto u = value.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(u);
    }
  } else if (value.is_number_float()) {
    // 1e3 is an integer written as a float; protobuf accepts it, and so do we.
    double d = value.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && d >= -9.2233720368547758e18 &&
        d < 9.2233720368547758e18) {
      return static_cast<int64_t>(d);
    }
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    int64_t n = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec == std::errc() && ptr == end && !text.empty()) return n;
  }
  ThrowInvalidJsonField(field, "expected an integer");
}

// --- ToJson -------------------------------------------------------------------------------------

json ToJson(const Tag& tag) { return {{"key", tag.key}, {"value", tag.value}}; }

json ToJson(const Param& param) { return {{"key", param.key}, {"value", param.value}}; }

json ToJson(const Metric& metric) {
  return {{"key", metric.key},
          {"value", DoubleToJson(metric.value)},
          {"timestamp", metric.timestamp},
          {"step", metric.step}};
}

namespace {

// A double as nlohmann::json dumps it: the shortest round-trip form, with ".0" on integral
// values; NaN and infinities as protobuf's JSON strings.
void AppendDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "\"NaN\"";
  } else if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    std::string_view text(buf, static_cast<size_t>(end - buf));
    out += text;
    if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
  }
}

}  // namespace

void AppendMetricsJson(std::string& out, const std::vector<Metric>& metrics) {
  out += '[';
  std::string_view last_key;
  std::string escaped_key;  // histories repeat one key: escape it once
  for (size_t i = 0; i < metrics.size(); ++i) {
    const Metric& m = metrics[i];
    if (i == 0 || m.key != last_key) {
      escaped_key = json(m.key).dump(-1, ' ', false, json::error_handler_t::replace);
      last_key = m.key;
    }
    if (i) out += ',';
    out += "{\"key\":";
    out += escaped_key;
    out += ",\"step\":";
    out += std::to_string(m.step);
    out += ",\"timestamp\":";
    out += std::to_string(m.timestamp);
    out += ",\"value\":";
    AppendDouble(out, m.value);
    out += '}';
  }
  out += ']';
}

json ToJson(const Experiment& experiment) {
  json j = {{"experiment_id", experiment.experiment_id},
            {"name", experiment.name},
            {"artifact_location", experiment.artifact_location},
            {"lifecycle_stage", LifecycleStageName(experiment.lifecycle_stage)}};
  // As MLflow's Experiment.to_proto: times are set only when known (non-zero).
  if (experiment.last_update_time != 0) j["last_update_time"] = experiment.last_update_time;
  if (experiment.creation_time != 0) j["creation_time"] = experiment.creation_time;
  PutArray(j, "tags", experiment.tags);
  return j;
}

json ToJson(const RunInfo& info) {
  json j = {{"run_id", info.run_id},
            {"run_uuid", info.run_id},
            {"run_name", info.run_name},
            {"experiment_id", info.experiment_id},
            {"user_id", info.user_id},
            {"status", RunStatusName(info.status)},
            {"start_time", info.start_time},
            {"lifecycle_stage", LifecycleStageName(info.lifecycle_stage)}};
  // As MLflow's RunInfo.to_proto: end_time and artifact_uri are set only when there is one.
  if (info.end_time) j["end_time"] = *info.end_time;
  if (!info.artifact_uri.empty()) j["artifact_uri"] = info.artifact_uri;
  return j;
}

json ToJson(const RunData& data) {
  json j = json::object();
  PutArray(j, "metrics", data.metrics);
  PutArray(j, "params", data.params);
  PutArray(j, "tags", data.tags);
  return j;
}

json ToJson(const Run& run) {
  return {{"info", ToJson(run.info)}, {"data", ToJson(run.data)}, {"inputs", json::object()}};
}

json ToJson(const FileInfo& file) {
  json j = {{"path", file.path}, {"is_dir", file.is_dir}};
  if (!file.is_dir) j["file_size"] = file.file_size;  // "Unset for directories."
  return j;
}

// --- FromJson -----------------------------------------------------------------------------------

template <>
Tag FromJson<Tag>(const json& value, std::string_view field) {
  ObjectReader r(value, field);
  return Tag{r.RequiredString("key"), r.RequiredString("value")};
}

template <>
Param FromJson<Param>(const json& value, std::string_view field) {
  ObjectReader r(value, field);
  return Param{r.RequiredString("key"), r.RequiredString("value")};
}

template <>
Metric FromJson<Metric>(const json& value, std::string_view field) {
  ObjectReader r(value, field);
  Metric metric;
  metric.key = r.RequiredString("key");
  auto v = r.Double("value");
  if (!v) ThrowMissing(r.Path("value"));
  metric.value = *v;
  auto timestamp = r.Int64("timestamp");
  if (!timestamp) ThrowMissing(r.Path("timestamp"));
  metric.timestamp = *timestamp;
  metric.step = r.Int64("step").value_or(0);
  return metric;
}

template <>
Experiment FromJson<Experiment>(const json& value, std::string_view field) {
  ObjectReader r(value, field);
  Experiment e;
  e.experiment_id = r.RequiredString("experiment_id");
  e.name = r.RequiredString("name");
  e.artifact_location = r.String("artifact_location").value_or("");
  e.lifecycle_stage = ParseStage(r, "lifecycle_stage");
  e.last_update_time = r.Int64("last_update_time").value_or(0);
  e.creation_time = r.Int64("creation_time").value_or(0);
  e.tags = r.Array<Tag>("tags");
  return e;
}

template <>
RunInfo FromJson<RunInfo>(const json& value, std::string_view field) {
  ObjectReader r(value, field);
  RunInfo info;
  // run_uuid is the deprecated twin of run_id; either names the run.
  auto run_id = r.String("run_id");
  if (!run_id) run_id = r.String("run_uuid");
  if (!run_id) ThrowMissing(r.Path("run_id"));
  info.run_id = *run_id;
  info.experiment_id = r.RequiredString("experiment_id");
  info.run_name = r.String("run_name").value_or("");
  info.user_id = r.String("user_id").value_or("");
  info.status = ParseStatus(r, "status");
  info.start_time = r.Int64("start_time").value_or(0);
  info.end_time = r.Int64("end_time");
  info.artifact_uri = r.String("artifact_uri").value_or("");
  info.lifecycle_stage = ParseStage(r, "lifecycle_stage");
  return info;
}

template <>
RunData FromJson<RunData>(const json& value, std::string_view field) {
  ObjectReader r(value, field);
  RunData data;
  data.metrics = r.Array<Metric>("metrics");
  data.params = r.Array<Param>("params");
  data.tags = r.Array<Tag>("tags");
  return data;
}

template <>
Run FromJson<Run>(const json& value, std::string_view field) {
  ObjectReader r(value, field);
  Run run;
  const json* info = r.Find("info");
  if (!info) ThrowMissing(r.Path("info"));
  run.info = FromJson<RunInfo>(*info, r.Path("info"));
  if (const json* data = r.Find("data")) run.data = FromJson<RunData>(*data, r.Path("data"));
  return run;
}

template <>
FileInfo FromJson<FileInfo>(const json& value, std::string_view field) {
  ObjectReader r(value, field);
  FileInfo file;
  file.path = r.RequiredString("path");
  file.is_dir = r.Bool("is_dir").value_or(false);
  file.file_size = r.Int64("file_size").value_or(0);
  return file;
}

}  // namespace mltrack::tracking
