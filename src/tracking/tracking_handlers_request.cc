// Reading requests and writing responses for the tracking handlers (tracking_handlers_internal.h).
#include <algorithm>
#include <cctype>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "common/text.h"
#include "tracking/entity_json.h"
#include "tracking/tracking_handlers_internal.h"

namespace mltrack::tracking::handlers {
namespace {

using nlohmann::json;

constexpr std::string_view kSeeDocs =
    "See the API docs for more information about request parameters.";

// Python's json.dumps(value, sort_keys=True, separators=(",", ":")), which MLflow's
// invalid_value() uses: compact, keys sorted (nlohmann's objects are), non-ASCII escaped.
std::string DumpLikePython(const json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
}

// Query parameters arrive as raw bytes; JSON strings must be UTF-8. Invalid sequences are
// replaced (as Flask decodes query strings), so they can be echoed in messages safely.
std::string ValidUtf8(const std::string& text) {
  return json::parse(json(text).dump(-1, ' ', false, json::error_handler_t::replace))
      .get<std::string>();
}

bool IsJsonContentType(std::string_view header) {
  std::string_view type = header.substr(0, header.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) {
    type.remove_suffix(1);
  }
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) {
    type.remove_prefix(1);
  }
  return AsciiLower(type) == "application/json";
}

json ParseBody(const std::string& body) {
  bool blank = std::all_of(body.begin(), body.end(),
                           [](unsigned char c) { return std::isspace(c) != 0; });
  if (blank) return json::object();
  json parsed;
  try {
    parsed = json::parse(body);
    // Older clients post their JSON double-encoded as a string; MLflow decodes it once more.
    if (parsed.is_string()) parsed = json::parse(parsed.get<std::string>());
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 9: ...".
    std::string_view what = e.what();
    if (auto close = what.find("] "); close != std::string_view::npos) {
      what.remove_prefix(close + 2);
    }
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Malformed JSON in request body: {}", what));
  }
  if (parsed.is_null()) return json::object();
  if (!parsed.is_object()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Malformed JSON in request body: expected an object, got {}",
                            parsed.type_name()));
  }
  return parsed;
}

int64_t ReadInt64(const json& value, std::string_view name) {
  try {
    return Int64FromJson(value, name);
  } catch (const Error&) {
    ThrowInvalid(value, name, TypeHint(value));
  }
}

}  // namespace

void ThrowMissing(std::string_view field) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Missing value for required parameter '{}'. {}", field, kSeeDocs));
}

void ThrowInvalid(const json& value, std::string_view field, std::string_view problem) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid value {} for parameter '{}' supplied: {} {}",
                          DumpLikePython(value), field, problem, kSeeDocs));
}

std::string TypeHint(const json& value) {
  const char* type = "NoneType";
  switch (value.type()) {
    case json::value_t::string: type = "str"; break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: type = "int"; break;
    case json::value_t::number_float: type = "float"; break;
    case json::value_t::boolean: type = "bool"; break;
    case json::value_t::array: type = "list"; break;
    case json::value_t::object: type = "dict"; break;
    default: break;
  }
  return fmt::format(" Hint: Value was of type '{}'.", type);
}

RequestFields::RequestFields(const http::Request& request,
                             std::initializer_list<std::string_view> list_fields) {
  // As MLflow: a GET reads its query string when it has one, and its body otherwise.
  if (request.method == "GET" && !request.query.empty()) {
    fields_ = json::object();
    for (const auto& [name, value] : request.query) {
      bool is_list = std::find(list_fields.begin(), list_fields.end(), name) != list_fields.end();
      if (is_list) {
        fields_[name].push_back(ValidUtf8(value));
      } else if (!fields_.contains(name)) {
        fields_[name] = ValidUtf8(value);  // the first of repeated values, as Flask's args.get
      }
    }
    return;
  }
  if (request.method == "POST" || request.method == "PUT") {
    // MLflow refuses other content types: a browser form cannot post JSON across origins.
    std::string content_type = request.Header("content-type");
    if (content_type.empty()) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  "Bad Request. Content-Type header is missing.");
    }
    if (!IsJsonContentType(content_type)) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  "Bad Request. Content-Type must be one of ['application/json'].");
    }
  }
  fields_ = ParseBody(request.body);
}

const json* RequestFields::Find(std::string_view name) const {
  auto it = fields_.find(name);
  if (it == fields_.end() || it->is_null()) return nullptr;
  return &*it;
}

namespace {

// Typed readers of one value (nullptr: absent), named `path` in errors.
std::optional<std::string> ReadString(const json* value, std::string_view path) {
  if (!value) return std::nullopt;
  if (!value->is_string()) ThrowInvalid(*value, path, TypeHint(*value));
  return value->get<std::string>();
}

std::string ReadRequiredString(const json* value, std::string_view path) {
  auto text = ReadString(value, path);
  if (!text || text->empty()) ThrowMissing(path);
  return *text;
}

std::optional<int64_t> ReadOptionalInt64(const json* value, std::string_view path) {
  if (!value) return std::nullopt;
  return ReadInt64(*value, path);
}

std::optional<double> ReadDouble(const json* value, std::string_view path) {
  if (!value) return std::nullopt;
  try {
    return DoubleFromJson(*value, path);
  } catch (const Error&) {
    ThrowInvalid(*value, path, TypeHint(*value));
  }
}

// A member of an object, nullptr when absent or null.
const json* Member(const json& object, std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// The elements of a list of objects, for `read(element, path)`.
template <class T, class Read>
std::vector<T> ReadObjectList(const json* list, std::string_view name, Read read) {
  std::vector<T> items;
  if (!list) return items;
  if (!list->is_array()) ThrowInvalid(*list, name, TypeHint(*list));
  items.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    std::string path = IndexedJsonField(name, i);
    const json& element = (*list)[i];
    if (!element.is_object()) ThrowInvalid(element, path, TypeHint(element));
    items.push_back(read(element, path));
  }
  return items;
}

}  // namespace

std::optional<std::string> RequestFields::String(std::string_view name) const {
  return ReadString(Find(name), name);
}

std::string RequestFields::RequiredString(std::string_view name) const {
  return ReadRequiredString(Find(name), name);
}

std::optional<int64_t> RequestFields::Int64(std::string_view name) const {
  return ReadOptionalInt64(Find(name), name);
}

std::optional<int32_t> RequestFields::Int32(std::string_view name) const {
  const json* value = Find(name);
  if (!value) return std::nullopt;
  int64_t n = ReadInt64(*value, name);
  if (n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) {
    ThrowInvalid(*value, name, "It is out of range for a 32-bit integer.");
  }
  return static_cast<int32_t>(n);
}

std::optional<double> RequestFields::Double(std::string_view name) const {
  return ReadDouble(Find(name), name);
}

std::vector<Tag> RequestFields::TagList(std::string_view name) const {
  return ReadObjectList<Tag>(Find(name), name, [](const json& element, const std::string& path) {
    return Tag{ReadRequiredString(Member(element, "key"), path + ".key"),
               ReadString(Member(element, "value"), path + ".value").value_or("")};
  });
}

std::vector<Param> RequestFields::ParamList(std::string_view name) const {
  return ReadObjectList<Param>(Find(name), name, [](const json& element,
                                                    const std::string& path) {
    return Param{ReadRequiredString(Member(element, "key"), path + ".key"),
                 ReadString(Member(element, "value"), path + ".value").value_or("")};
  });
}

std::vector<Metric> RequestFields::MetricList(std::string_view name) const {
  return ReadObjectList<Metric>(Find(name), name, [](const json& element,
                                                     const std::string& path) {
    Metric metric;
    metric.key = ReadRequiredString(Member(element, "key"), path + ".key");
    auto value = ReadDouble(Member(element, "value"), path + ".value");
    if (!value) ThrowMissing(path + ".value");
    metric.value = *value;
    auto timestamp = ReadOptionalInt64(Member(element, "timestamp"), path + ".timestamp");
    if (!timestamp) ThrowMissing(path + ".timestamp");
    metric.timestamp = *timestamp;
    metric.step = ReadOptionalInt64(Member(element, "step"), path + ".step").value_or(0);
    return metric;
  });
}

std::vector<std::string> RequestFields::StringList(std::string_view name) const {
  const json* value = Find(name);
  if (!value) return {};
  if (!value->is_array()) ThrowInvalid(*value, name, TypeHint(*value));
  std::vector<std::string> items;
  items.reserve(value->size());
  for (const auto& item : *value) {
    if (!item.is_string()) ThrowInvalid(*value, name, "Every item must be a string.");
    items.push_back(item.get<std::string>());
  }
  return items;
}

namespace {

// A proto enum from its name or its number (protobuf's JSON parser takes both).
template <class Enum, size_t N>
std::optional<Enum> ParseEnum(const json* value, std::string_view name,
                              const std::pair<std::string_view, Enum> (&values)[N]) {
  if (!value) return std::nullopt;
  if (value->is_string()) {
    const auto& text = value->get_ref<const std::string&>();
    for (const auto& [enum_name, enum_value] : values) {
      if (text == enum_name) return enum_value;
    }
    // A GET query carries the number as text.
    bool digits = std::all_of(text.begin(), text.end(),
                              [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!text.empty() && digits && text.size() < 4) {
      int n = std::stoi(text);
      if (n >= 1 && n <= static_cast<int>(N)) return values[n - 1].second;
    }
  } else if (value->is_number_integer()) {
    int64_t n = value->get<int64_t>();
    if (n >= 1 && n <= static_cast<int64_t>(N)) return values[n - 1].second;
  } else {
    ThrowInvalid(*value, name, TypeHint(*value));
  }
  std::string accepted;
  for (size_t i = 0; i < N; ++i) {
    accepted += fmt::format("{}{}", i == 0 ? "" : ", ", values[i].first);
  }
  ThrowInvalid(*value, name, fmt::format("It must be one of {}.", accepted));
}

// In the order of their numbers in service.proto (from 1).
constexpr std::pair<std::string_view, ViewType> kViewTypes[] = {
    {"ACTIVE_ONLY", ViewType::kActiveOnly},
    {"DELETED_ONLY", ViewType::kDeletedOnly},
    {"ALL", ViewType::kAll},
};
constexpr std::pair<std::string_view, RunStatus> kRunStatuses[] = {
    {"RUNNING", RunStatus::kRunning},   {"SCHEDULED", RunStatus::kScheduled},
    {"FINISHED", RunStatus::kFinished}, {"FAILED", RunStatus::kFailed},
    {"KILLED", RunStatus::kKilled},
};

}  // namespace

std::optional<ViewType> RequestFields::View(std::string_view name) const {
  return ParseEnum(Find(name), name, kViewTypes);
}

std::optional<RunStatus> RequestFields::Status(std::string_view name) const {
  return ParseEnum(Find(name), name, kRunStatuses);
}

std::string RequestFields::RunId() const {
  auto run_id = String("run_id");
  if (!run_id || run_id->empty()) run_id = String("run_uuid");
  if (!run_id || run_id->empty()) ThrowMissing("run_id");
  return *run_id;
}

void SetJson(http::Response& response, const json& body) {
  response.status = 200;
  response.content_type = "application/json";
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void RouteBoth(http::Server& server, const std::string& method, const std::string& path,
               const http::Handler& handler, http::RouteOptions options) {
  server.Route(method, "/api/2.0/mlflow/" + path, handler, options);
  server.Route(method, "/ajax-api/2.0/mlflow/" + path, handler, options);
}

}  // namespace mltrack::tracking::handlers
