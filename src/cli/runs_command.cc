#include "cli/runs_command.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/clock.h"
#include "mltrack/error.h"
#include "tracking/entity_json.h"

namespace mltrack::cli {
namespace {

constexpr int kPageSize = 1000;

bool IsAllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An experiment given by id or by name. A purely numeric token is tried as an id first (of an
// experiment in any stage), then as a name; anything else is a name.
std::string ResolveExperimentId(tracking::TrackingStore& store, const std::string& token) {
  if (IsAllDigits(token)) {
    try {
      return store.GetExperiment(token).experiment_id;
    } catch (const Error& e) {
      // Not an id: fall through to the name. Any other failure is the caller's to report.
      if (e.code() != ErrorCode::kResourceDoesNotExist) throw;
    }
    try {
      return store.GetExperimentByName(token).experiment_id;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kResourceDoesNotExist) throw;
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("No experiment with id or name '{}'", token));
    }
  }
  return store.GetExperimentByName(token).experiment_id;
}

std::string Duration(const RunInfo& info) {
  return info.end_time ? FormatDuration(*info.end_time - info.start_time) : "";
}

// A column of the runs table chosen with --columns: `metrics.<key>` (or a bare key),
// `params.<key>` or `tags.<key>`. A key may be quoted as in filters (`tags."a b"`, `tags.\`k\``,
// `tags.'k'`); the header keeps what was written.
struct ValueColumn {
  enum class Kind { kMetric, kParam, kTag };
  std::string header;
  Kind kind = Kind::kMetric;
  std::string key;
};

ValueColumn ParseColumn(const std::string& spec) {
  static const std::pair<const char*, ValueColumn::Kind> kPrefixes[] = {
      {"metrics.", ValueColumn::Kind::kMetric}, {"metric.", ValueColumn::Kind::kMetric},
      {"params.", ValueColumn::Kind::kParam},   {"param.", ValueColumn::Kind::kParam},
      {"tags.", ValueColumn::Kind::kTag},       {"tag.", ValueColumn::Kind::kTag},
  };
  auto unquote = [](std::string key) {
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '`' || key.front() == '\'') &&
        key.back() == key.front()) {
      return key.substr(1, key.size() - 2);
    }
    return key;
  };
  for (const auto& [prefix, kind] : kPrefixes) {
    std::string_view p(prefix);
    if (spec.size() > p.size() && spec.compare(0, p.size(), p) == 0) {
      return {spec, kind, unquote(spec.substr(p.size()))};
    }
  }
  return {spec, ValueColumn::Kind::kMetric, unquote(spec)};
}

std::string CellValue(const Run& run, const ValueColumn& column) {
  switch (column.kind) {
    case ValueColumn::Kind::kMetric:
      for (const auto& m : run.data.metrics) {
        if (m.key == column.key) return FormatMetricValue(m.value);
      }
      break;
    case ValueColumn::Kind::kParam:
      for (const auto& p : run.data.params) {
        if (p.key == column.key) return p.value;
      }
      break;
    case ValueColumn::Kind::kTag:
      for (const auto& t : run.data.tags) {
        if (t.key == column.key) return t.value;
      }
      break;
  }
  return "";
}

// --- list ---------------------------------------------------------------------------------------

void SetupList(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::vector<std::string> experiments;
    std::string filter;
    std::vector<std::string> order_by;
    int max_results = 100;
    std::string view = "active";
    std::vector<std::string> columns;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  command
      .add_option("-e,--experiment", options->experiments,
                  "Experiment id or name; may be repeated (default: 0)")
      ->allow_extra_args(false)
      ->type_name("NAME_OR_ID");
  command
      .add_option("--filter", options->filter,
                  "Search filter, e.g. \"metrics.rmse < 0.9 and params.rank = '20'\"")
      ->type_name("FILTER");
  command
      .add_option("--order-by", options->order_by,
                  "Order by a column, e.g. \"metrics.rmse\" or \"start_time DESC\"; may be "
                  "repeated")
      ->allow_extra_args(false)
      ->type_name("COLUMN");
  command.add_option("--max-results", options->max_results, "List at most N runs (default: 100)")
      ->check(PositiveIntValidator())
      ->type_name("N");
  AddViewOption(command, &options->view, "runs");
  command
      .add_option("--columns", options->columns,
                  "Value columns to show instead of every metric, e.g. "
                  "metrics.rmse,params.rank,tags.team")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("COLUMN,...");
  command.add_flag("--json", options->json, "Print {\"runs\": [...]} as MLflow's REST API writes it");
  command.callback([options, &global] {
    auto store = OpenStore(global);
    RunSearch search;
    if (options->experiments.empty()) {
      search.experiment_ids = {"0"};
    } else {
      for (const auto& token : options->experiments) {
        search.experiment_ids.push_back(ResolveExperimentId(*store, token));
      }
    }
    search.filter = options->filter;
    search.order_by = options->order_by;
    search.view = ParseViewOption(options->view);

    std::vector<Run> runs;
    std::string next_page_token;
    while (static_cast<int>(runs.size()) < options->max_results) {
      search.max_results =
          std::min(options->max_results - static_cast<int>(runs.size()), kPageSize);
      Page<Run> page = store->SearchRuns(search);
      for (auto& run : page.items) runs.push_back(std::move(run));
      next_page_token = page.next_page_token;
      if (next_page_token.empty()) break;
      search.page_token = next_page_token;
    }

    if (options->json) {
      nlohmann::json out = {{"runs", nlohmann::json::array()}};
      for (const auto& run : runs) out["runs"].push_back(tracking::ToJson(run));
      if (!next_page_token.empty()) out["next_page_token"] = next_page_token;
      PrintJson(out);
      return;
    }

    std::vector<ValueColumn> value_columns;
    if (!options->columns.empty()) {
      for (const auto& spec : options->columns) value_columns.push_back(ParseColumn(spec));
    } else {
      std::set<std::string> keys;
      for (const auto& run : runs) {
        for (const auto& m : run.data.metrics) keys.insert(m.key);
      }
      for (const auto& key : keys) value_columns.push_back({key, ValueColumn::Kind::kMetric, key});
    }
    std::vector<Table::Column> columns = {{"RUN ID"}, {"NAME"}, {"STATUS"}, {"START"},
                                          {"DURATION", Align::kRight}};
    for (const auto& column : value_columns) {
      columns.push_back({column.header, column.kind == ValueColumn::Kind::kMetric
                                            ? Align::kRight
                                            : Align::kLeft});
    }
    Table table(std::move(columns));
    for (const auto& run : runs) {
      std::vector<std::string> row = {run.info.run_id, run.info.run_name,
                                      std::string(RunStatusName(run.info.status)),
                                      FormatUtcTime(run.info.start_time), Duration(run.info)};
      for (const auto& column : value_columns) row.push_back(CellValue(run, column));
      table.AddRow(std::move(row));
    }
    Print(table.Render());
  });
}

// --- get ----------------------------------------------------------------------------------------

template <class T>
std::vector<T> SortedByKey(std::vector<T> items) {
  std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.key < b.key; });
  return items;
}

void PrintRun(const Run& run) {
  const RunInfo& info = run.info;
  Print(RenderFields({
      {"Run ID", info.run_id},
      {"Name", info.run_name},
      {"Experiment ID", info.experiment_id},
      {"Status", std::string(RunStatusName(info.status))},
      {"User", info.user_id},
      {"Start", FormatUtcTime(info.start_time)},
      {"End", info.end_time ? FormatUtcTime(*info.end_time) : ""},
      {"Duration", Duration(info)},
      {"Artifact URI", info.artifact_uri},
      {"Stage", std::string(LifecycleStageName(info.lifecycle_stage))},
  }));
  if (!run.data.params.empty()) {
    Table table({{"KEY"}, {"VALUE"}});
    for (const auto& p : SortedByKey(run.data.params)) table.AddRow({p.key, p.value});
    Print("\nParams:\n" + table.Render("  "));
  }
  if (!run.data.metrics.empty()) {
    Table table({{"KEY"}, {"VALUE", Align::kRight}, {"STEP", Align::kRight}});
    for (const auto& m : SortedByKey(run.data.metrics)) {
      table.AddRow({m.key, FormatMetricValue(m.value), std::to_string(m.step)});
    }
    Print("\nMetrics:\n" + table.Render("  "));
  }
  if (!run.data.tags.empty()) {
    Table table({{"KEY"}, {"VALUE"}});
    for (const auto& t : SortedByKey(run.data.tags)) table.AddRow({t.key, t.value});
    Print("\nTags:\n" + table.Render("  "));
  }
}

void SetupGet(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string run_id;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  command.add_option("RUN_ID", options->run_id, "Id of the run")->required();
  command.add_flag("--json", options->json, "Print {\"run\": {...}} as MLflow's REST API writes it");
  command.callback([options, &global] {
    Run run = OpenStore(global)->GetRun(options->run_id);
    if (options->json) {
      PrintJson({{"run", tracking::ToJson(run)}});
    } else {
      PrintRun(run);
    }
  });
}

// --- delete, restore ----------------------------------------------------------------------------

void SetupDelete(CLI::App& command, GlobalOptions& global) {
  SetupIdCommand(
      command, global, "RUN_ID", "Id of the run",
      [](tracking::TrackingStore& store, const std::string& id) { store.DeleteRun(id); },
      "Deleted run {}\n");
}

void SetupRestore(CLI::App& command, GlobalOptions& global) {
  SetupIdCommand(
      command, global, "RUN_ID", "Id of the run",
      [](tracking::TrackingStore& store, const std::string& id) { store.RestoreRun(id); },
      "Restored run {}\n");
}

// --- log-metric, log-param ----------------------------------------------------------------------

// --run-id, else the run `mlt run` gives its command (MLT_RUN_ID, then MLFLOW_RUN_ID).
std::string RunToLogTo(const std::string& run_id) {
  if (!run_id.empty()) return run_id;
  for (const char* name : {"MLT_RUN_ID", "MLFLOW_RUN_ID"}) {
    if (const char* value = std::getenv(name); value && *value) return value;
  }
  throw Error(ErrorCode::kInvalidParameterValue,
              "No run to log to: give --run-id, or set MLT_RUN_ID (`mlt run` sets it for the "
              "command it runs)");
}

// A metric value as MLflow takes it: a decimal or exponent number (a leading '+' allowed), nan,
// inf or -inf. A number beyond double's range (1e999) is refused, not rounded to infinity.
double ParseMetricValue(const std::string& key, const std::string& text) {
  double value = 0;
  bool plus = !text.empty() && text[0] == '+';
  const char* begin = text.data() + (plus ? 1 : 0);
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || (plus && begin != end && *begin == '-') || ec != std::errc() || ptr != end) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("The value of metric '{}' must be a number, got '{}'", key, text));
  }
  return value;
}

void SetupLogMetric(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string key;
    std::string value;
    int64_t step = 0;
    std::string run_id;
  };
  auto options = std::make_shared<Options>();
  command.add_option("KEY", options->key, "Name of the metric")->required();
  command.add_option("VALUE", options->value, "Its value: a number, nan, inf or -inf")
      ->required();
  command.add_option("--step", options->step, "The step the value belongs to (default: 0)")
      ->type_name("N");
  command
      .add_option("--run-id", options->run_id,
                  "The run (default: $MLT_RUN_ID, else $MLFLOW_RUN_ID)")
      ->type_name("RUN_ID");
  command.callback([options, &global] {
    double value = ParseMetricValue(options->key, options->value);
    std::string run_id = RunToLogTo(options->run_id);
    OpenStore(global)->LogMetric(run_id, Metric{options->key, value, NowMillis(), options->step});
  });
}

void SetupLogParam(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string key;
    std::string value;
    std::string run_id;
  };
  auto options = std::make_shared<Options>();
  command.add_option("KEY", options->key, "Name of the param")->required();
  command.add_option("VALUE", options->value, "Its value (a run's params cannot change)")
      ->required();
  command
      .add_option("--run-id", options->run_id,
                  "The run (default: $MLT_RUN_ID, else $MLFLOW_RUN_ID)")
      ->type_name("RUN_ID");
  command.callback([options, &global] {
    std::string run_id = RunToLogTo(options->run_id);
    OpenStore(global)->LogParam(run_id, Param{options->key, options->value});
  });
}

}  // namespace

void SetupRunsCommand(CLI::App& command, GlobalOptions& global) {
  AddCommands(command, global,
              {
                  {"list", "List runs with their latest metrics", SetupList},
                  {"get", "Show a run: info, params, latest metrics and tags", SetupGet},
                  {"delete", "Delete a run (it can be restored)", SetupDelete},
                  {"restore", "Restore a deleted run", SetupRestore},
                  {"log-metric", "Log a metric value to a run (default: the run of `mlt run`)",
                   SetupLogMetric},
                  {"log-param", "Log a param to a run (default: the run of `mlt run`)",
                   SetupLogParam},
              });
}

}  // namespace mltrack::cli
