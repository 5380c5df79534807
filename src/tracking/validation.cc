#include "tracking/validation.h"

#include <set>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "tracking/tracking_store.h"

namespace mltrack::tracking {
namespace {

constexpr std::string_view kBadCharacters =
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), "
    "and slashes (/).";

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

bool IsNameChar(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == ' ' || c == '/' || c >= 0x80;
}

// posixpath.normpath, enough to tell whether a name would resolve to another name as a file path.
std::string NormPath(std::string_view name) {
  bool absolute = !name.empty() && name[0] == '/';
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string_view::npos) j = name.size();
    std::string part(name.substr(i, j - i));
    if (part.empty() || part == ".") {
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) out += (k ? "/" : "") + parts[k];
  return out.empty() ? "." : out;
}

// MLflow refuses names that, used as file paths, would resolve to another name.
bool PathNotUnique(std::string_view name) {
  std::string norm = NormPath(name);
  return norm != name || norm == "." || norm.starts_with("..") || norm.starts_with("/");
}

void ValidateName(std::string_view kind, std::string_view name) {
  if (name.empty()) {
    Invalid(fmt::format("Invalid {} name: ''. A key name must be provided.", kind));
  }
  for (unsigned char c : name) {
    if (!IsNameChar(c)) Invalid(fmt::format("Invalid {} name: '{}'. {}", kind, name, kBadCharacters));
  }
  if (PathNotUnique(name)) {
    Invalid(fmt::format(
        "Invalid {} name: '{}'. Names may be treated as files in certain cases, and must not "
        "resolve to other names when treated as such. This name would resolve to '{}'",
        kind, name, NormPath(name)));
  }
}

void ValidateLength(std::string_view entity, size_t limit, std::string_view value) {
  if (value.size() <= limit) return;
  Invalid(fmt::format("{} '{}' had length {}, which exceeded length limit of {}", entity,
                      value.substr(0, 250), value.size(), limit));
}

void ValidateBatchLimit(std::string_view entity, int limit, size_t length) {
  if (length <= static_cast<size_t>(limit)) return;
  Invalid(fmt::format(
      "A batch logging request can contain at most {} {}. Got {} {}. Please split up {} across "
      "multiple requests and try again.",
      limit, entity, length, entity, entity));
}

}  // namespace

void ValidateMetricName(std::string_view name) { ValidateName("metric", name); }
void ValidateParamName(std::string_view name) { ValidateName("parameter", name); }
void ValidateTagName(std::string_view name) { ValidateName("tag", name); }

void ValidateMetric(const Metric& metric) {
  ValidateMetricName(metric.key);
  if (metric.timestamp < 0) {
    Invalid(fmt::format("Got invalid timestamp {} for metric '{}' (value={}). Timestamp must be a "
                        "nonnegative long (64-bit integer) ",
                        metric.timestamp, metric.key, metric.value));
  }
  ValidateLength("Metric name", kMaxEntityKeyLength, metric.key);
}

void ValidateParam(const Param& param) {
  ValidateParamName(param.key);
  ValidateLength("Param key", kMaxEntityKeyLength, param.key);
  ValidateLength("Param value", kMaxParamValueLength, param.value);
}

void ValidateTag(const Tag& tag) {
  ValidateTagName(tag.key);
  ValidateLength("Tag key", kMaxEntityKeyLength, tag.key);
  ValidateLength("Tag value", kMaxTagValueLength, tag.value);
}

void ValidateExperimentTag(const Tag& tag) {
  ValidateTagName(tag.key);
  ValidateLength("Tag key", kMaxEntityKeyLength, tag.key);
  ValidateLength("Tag value", kMaxTagValueLength, tag.value);
}

void ValidateExperimentName(std::string_view name) {
  if (name.empty()) Invalid("Invalid experiment name: ''");
  if (name.size() > kMaxExperimentNameLength) {
    Invalid(fmt::format("Experiment name exceeds the maximum length of {} characters",
                        kMaxExperimentNameLength));
  }
}

void ValidateRunId(std::string_view run_id) {
  // MLflow: ^[a-zA-Z0-9][\w\-]{0,255}$
  bool ok = !run_id.empty() && run_id.size() <= 256 && std::isalnum((unsigned char)run_id[0]);
  for (unsigned char c : run_id) ok = ok && (std::isalnum(c) || c == '_' || c == '-');
  if (!ok) Invalid(fmt::format("Invalid run ID: '{}'", run_id));
}

void ValidateExperimentId(std::string_view experiment_id) {
  bool ok = !experiment_id.empty() && experiment_id.size() <= 19;
  for (unsigned char c : experiment_id) ok = ok && std::isdigit(c);
  if (!ok) Invalid(fmt::format("Invalid experiment ID: '{}'", experiment_id));
}

void ValidateBatch(const std::vector<Metric>& metrics, const std::vector<Param>& params,
                   const std::vector<Tag>& tags) {
  ValidateBatchLimit("metrics", kMaxMetricsPerBatch, metrics.size());
  ValidateBatchLimit("params", kMaxParamsTagsPerBatch, params.size());
  ValidateBatchLimit("tags", kMaxParamsTagsPerBatch, tags.size());
  ValidateBatchLimit("metrics, params, and tags", kMaxEntitiesPerBatch,
                     metrics.size() + params.size() + tags.size());
  for (const auto& m : metrics) ValidateMetric(m);
  for (const auto& p : params) ValidateParam(p);
  for (const auto& t : tags) ValidateTag(t);
  std::set<std::string_view> seen;
  std::vector<std::string_view> dupes;
  for (const auto& p : params) {
    if (!seen.insert(p.key).second) dupes.push_back(p.key);
  }
  if (!dupes.empty()) {
    std::string list;
    for (size_t i = 0; i < dupes.size(); ++i) list += fmt::format("{}'{}'", i ? ", " : "", dupes[i]);
    Invalid(fmt::format("Duplicate parameter keys have been submitted: [{}]. Please ensure the "
                        "request contains only one param value per param key.",
                        list));
  }
}

void ValidateMaxResults(int max_results, int max) {
  if (max_results < 1 || max_results > max) {
    Invalid(fmt::format("Invalid value {} for parameter 'max_results' supplied. It must be "
                        "between 1 and {}",
                        max_results, max));
  }
}

}  // namespace mltrack::tracking
