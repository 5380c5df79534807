// runs/export-csv (ui_handlers.h): every run of a search as CSV, streamed a page of runs at a
// time. The request is checked, and the first page read, before the answer starts: a bad filter
// is a JSON error, not a cut-off download.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "server/ui_handlers_internal.h"
#include "tracking/tracking_handlers_internal.h"

namespace mltrack::server::ui {
namespace {

using tracking::handlers::RequestFields;
using tracking::handlers::ThrowMissing;

// A page's rows are sent in slices of this many rows.
constexpr size_t kRowsPerChunk = 1000;

enum class Attribute {
  kRunId, kRunName, kStatus, kStartTime, kEndTime, kDuration, kUserId, kExperimentId,
};

constexpr std::pair<std::string_view, Attribute> kAttributes[] = {
    {"run_id", Attribute::kRunId},         {"run_name", Attribute::kRunName},
    {"status", Attribute::kStatus},        {"start_time", Attribute::kStartTime},
    {"end_time", Attribute::kEndTime},     {"duration", Attribute::kDuration},
    {"user_id", Attribute::kUserId},       {"experiment_id", Attribute::kExperimentId},
};

// The columns of an export without `columns`, before the runs' params and metrics.
constexpr std::string_view kDefaultColumns[] = {
    "attributes.run_id",     "attributes.run_name", "attributes.status",
    "attributes.start_time", "attributes.duration", "attributes.user_id",
};

struct Column {
  enum class Kind { kAttribute, kParam, kMetric, kTag };
  Kind kind = Kind::kAttribute;
  Attribute attribute = Attribute::kRunId;  // kAttribute
  std::string key;                          // kParam, kMetric, kTag
  std::string id;                           // as requested: the header cell
};

Column ParseColumn(const std::string& id) {
  constexpr std::pair<std::string_view, Column::Kind> kPrefixes[] = {
      {"attributes.", Column::Kind::kAttribute},
      {"params.", Column::Kind::kParam},
      {"metrics.", Column::Kind::kMetric},
      {"tags.", Column::Kind::kTag},
  };
  for (const auto& [prefix, kind] : kPrefixes) {
    if (!id.starts_with(prefix) || id.size() == prefix.size()) continue;
    Column column{.kind = kind, .key = id.substr(prefix.size()), .id = id};
    if (kind != Column::Kind::kAttribute) return column;
    for (const auto& [name, attribute] : kAttributes) {
      if (column.key == name) {
        column.attribute = attribute;
        return column;
      }
    }
    std::string valid;
    for (const auto& [name, attribute] : kAttributes) {
      valid += fmt::format("{}{}", valid.empty() ? "" : ", ", name);
    }
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid column '{}': valid attributes are {}", id, valid));
  }
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid column '{}': expected attributes.<name>, params.<key>, "
                          "metrics.<key> or tags.<key>",
                          id));
}

// "2026-11-26T14:03:07.123Z" for milliseconds since the epoch.
std::string IsoTime(int64_t millis) {
  int64_t seconds = millis / 1000;
  int64_t rest = millis % 1000;
  if (rest < 0) {  // before 1970: floor, so that the milliseconds count forward
    rest += 1000;
    seconds -= 1;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rest);
}

// Milliseconds as seconds, exactly and without trailing zeros: 12500 -> "12.5", 3000 -> "3".
std::string Seconds(int64_t millis) {
  uint64_t magnitude = millis < 0 ? 0 - static_cast<uint64_t>(millis)
                                  : static_cast<uint64_t>(millis);
  std::string text = fmt::format("{}{}", millis < 0 ? "-" : "", magnitude / 1000);
  if (uint64_t fraction = magnitude % 1000; fraction != 0) {
    std::string digits = fmt::format("{:03}", fraction);
    while (digits.back() == '0') digits.pop_back();
    text += "." + digits;
  }
  return text;
}

// The shortest text that reads back as the same double; non-finite values as MLflow's JSON
// writes them.
std::string MetricText(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", value);
}

// Whether `text` is a decimal number as a spreadsheet reads one: [+-]digits[.digits][e[+-]digits]
// (or starting with the '.').
bool IsDecimalNumber(std::string_view text) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i - start;
  };
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t whole = digits();
  size_t fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    fraction = digits();
  }
  if (whole + fraction == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

// Appends one cell: RFC 4180 quoting and, for text (not numbers mltrack formatted), a leading '
// before what a spreadsheet would take for a formula.
void AppendCell(std::string& out, std::string_view value, bool text) {
  std::string guarded;
  if (text && !value.empty() && std::string_view("=+-@\t\r").find(value.front()) !=
                                    std::string_view::npos &&
      !IsDecimalNumber(value)) {
    guarded = "'" + std::string(value);
    value = guarded;
  }
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// The value of `key` in a list sorted by key (as the store returns a run's data), or null.
template <class Entry>
const Entry* FindKey(const std::vector<Entry>& entries, const std::string& key) {
  auto it = std::lower_bound(
      entries.begin(), entries.end(), key,
      [](const Entry& entry, const std::string& k) { return entry.key < k; });
  return it != entries.end() && it->key == key ? &*it : nullptr;
}

void AppendRow(std::string& out, const Run& run, const std::vector<Column>& columns) {
  const RunInfo& info = run.info;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out += ',';
    const Column& column = columns[i];
    switch (column.kind) {
      case Column::Kind::kAttribute:
        switch (column.attribute) {
          case Attribute::kRunId: AppendCell(out, info.run_id, true); break;
          case Attribute::kRunName: AppendCell(out, info.run_name, true); break;
          case Attribute::kStatus: out += RunStatusName(info.status); break;
          case Attribute::kStartTime: out += IsoTime(info.start_time); break;
          case Attribute::kEndTime:
            if (info.end_time) out += IsoTime(*info.end_time);
            break;
          case Attribute::kDuration:
            if (info.end_time) out += Seconds(*info.end_time - info.start_time);
            break;
          case Attribute::kUserId: AppendCell(out, info.user_id, true); break;
          case Attribute::kExperimentId: AppendCell(out, info.experiment_id, true); break;
        }
        break;
      case Column::Kind::kParam:
        if (const Param* param = FindKey(run.data.params, column.key)) {
          AppendCell(out, param->value, true);
        }
        break;
      case Column::Kind::kMetric:
        if (const Metric* metric = FindKey(run.data.metrics, column.key)) {
          out += MetricText(metric->value);
        }
        break;
      case Column::Kind::kTag:
        if (const Tag* tag = FindKey(run.data.tags, column.key)) {
          AppendCell(out, tag->value, true);
        }
        break;
    }
  }
  out += "\r\n";
}

// What the stream provider needs once the handler has returned.
struct Export {
  std::shared_ptr<tracking::SqliteTrackingStore> store;
  RunSearch search;  // page_token: the page after `first_page`
  std::vector<Column> columns;
  std::vector<Run> first_page;
};

// Sends `runs` in slices of kRowsPerChunk rows; false when the client went away.
bool SendRuns(const Export& job, const std::vector<Run>& runs, const http::ChunkSink& sink,
              std::string& buffer) {
  for (size_t i = 0; i < runs.size(); ++i) {
    AppendRow(buffer, runs[i], job.columns);
    if ((i + 1) % kRowsPerChunk == 0 || i + 1 == runs.size()) {
      if (!sink(buffer.data(), buffer.size())) return false;
      buffer.clear();
    }
  }
  return true;
}

}  // namespace

void ExportCsv(const Context& context, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {"experiment_ids", "order_by", "columns"});
  auto job = std::make_shared<Export>();
  job->store = context.store;
  RunSearch& search = job->search;
  search.experiment_ids = fields.StringList("experiment_ids");
  if (search.experiment_ids.empty()) ThrowMissing("experiment_ids");
  search.filter = fields.String("filter").value_or("");
  search.order_by = fields.StringList("order_by");
  search.view = fields.View("run_view_type").value_or(ViewType::kActiveOnly);
  search.max_results = context.options.export_page_size;
  for (const auto& id : fields.StringList("columns")) job->columns.push_back(ParseColumn(id));
  for (const auto& id : search.experiment_ids) context.store->GetExperiment(id);

  Page<Run> first = context.store->SearchRuns(search);  // refuses a bad filter or order_by
  if (job->columns.empty()) {
    for (std::string_view id : kDefaultColumns) {
      job->columns.push_back(ParseColumn(std::string(id)));
    }
    tracking::RunKeys keys =
        context.store->SearchRunKeys(search.experiment_ids, search.filter, search.view);
    for (const auto& key : keys.params) job->columns.push_back(ParseColumn("params." + key));
    for (const auto& key : keys.metrics) job->columns.push_back(ParseColumn("metrics." + key));
  }
  job->first_page = std::move(first.items);
  search.page_token = std::move(first.next_page_token);

  response.status = 200;
  response.content_type = "text/csv; charset=utf-8";
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"runs.csv\"");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Later pages are read as the answer is sent; a failure then cuts the download short, which
  // the client sees as an incomplete body.
  response.stream = [job](const http::ChunkSink& sink) {
    std::string buffer;
    for (size_t i = 0; i < job->columns.size(); ++i) {
      if (i > 0) buffer += ',';
      AppendCell(buffer, job->columns[i].id, true);
    }
    buffer += "\r\n";
    if (!sink(buffer.data(), buffer.size())) return false;
    buffer.clear();
    if (!SendRuns(*job, job->first_page, sink, buffer)) return false;
    job->first_page.clear();
    RunSearch next = job->search;
    while (!next.page_token.empty()) {
      Page<Run> page = job->store->SearchRuns(next);
      if (!SendRuns(*job, page.items, sink, buffer)) return false;
      next.page_token = std::move(page.next_page_token);
    }
    return true;
  };
}

}  // namespace mltrack::server::ui
