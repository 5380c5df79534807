// What the `mlt` subcommands share: the table of subcommands, the tracking URI option, opening
// the store, and the printed forms of tables, times, durations and metric values.
//
// Output conventions (tests compare them byte for byte):
// - results go to stdout, `mlt: error: <message>` to stderr (printed only by main);
// - tables are left-aligned columns (right-aligned where a column says so) separated by two
//   spaces, with a header row of capitals and no trailing spaces;
// - times are UTC `YYYY-MM-DD HH:MM:SS`; metric values `%.6g` (`nan`, `inf`, `-inf`).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mltrack/entities.h"
#include "tracking/tracking_store.h"

namespace mltrack::cli {

// Thrown by a subcommand whose exit code is not one of main's (e.g. `mlt run` ends with its
// command's code): main returns `code` once everything the subcommand held is released.
struct ExitStatus {
  int code;
};

// Options given on any level of the command line.
struct GlobalOptions {
  std::string tracking_uri;  // empty: from the environment
};

// One row of a subcommand table: `setup` adds the subcommand's options and its callback (or its
// own table of subcommands).
struct CommandSpec {
  const char* name;
  const char* description;
  void (*setup)(CLI::App& command, GlobalOptions& global);
};

// Adds each spec as a subcommand of `parent` (with --tracking-uri) and requires one of them.
void AddCommands(CLI::App& parent, GlobalOptions& global, const std::vector<CommandSpec>& specs);

// Adds `--tracking-uri URI` to `command`. Every subcommand has it, so it may be given before or
// after a subcommand's name; the last one given wins.
void AddTrackingUriOption(CLI::App& command, GlobalOptions& global);

// Opens the store for --tracking-uri, else MLT_TRACKING_URI, else MLFLOW_TRACKING_URI, else
// sqlite:///mlruns.db.
std::shared_ptr<tracking::TrackingStore> OpenStore(const GlobalOptions& global);

// Sets up a command that takes one required positional id (named `id_name`), calls
// `action(store, id)` and prints `done_format` with the id, e.g. "Deleted run {}\n".
void SetupIdCommand(CLI::App& command, GlobalOptions& global, const char* id_name,
                    const char* id_help,
                    void (*action)(tracking::TrackingStore& store, const std::string& id),
                    const char* done_format);

// A CLI11 validator for KEY=VALUE arguments with a non-empty key.
CLI::Validator KeyValueValidator();
// Splits a KEY=VALUE argument that KeyValueValidator accepted.
Tag ParseKeyValue(const std::string& text);

// A CLI11 validator for a count: a decimal integer from 1 to 2^31-1.
CLI::Validator PositiveIntValidator();

// ViewType for --view active|deleted|all.
ViewType ParseViewOption(const std::string& view);
// Adds `--view active|deleted|all` (default active).
void AddViewOption(CLI::App& command, std::string* view, std::string_view what);

enum class Align { kLeft, kRight };

// An aligned text table.
class Table {
 public:
  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  // `cells` has one entry per column.
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // The header (unless `with_header` is false) and the rows, each line starting with `indent` and
  // ending in '\n'.
  std::string Render(std::string_view indent = "", bool with_header = true) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Lines "<name>:<padding><value>" with every value starting in the same column.
std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields);

// 1700000000000 -> "2023-11-14 22:13:20" (UTC).
std::string FormatUtcTime(int64_t millis);
// A duration for people: "850ms", "12.3s", "4.5min", "2.0h", "3.1d".
std::string FormatDuration(int64_t millis);
// "%.6g", with "nan", "inf" and "-inf".
std::string FormatMetricValue(double value);

// Writes `value` indented by two spaces, followed by a newline, to stdout. Invalid UTF-8 in
// stored strings is replaced rather than refused.
void PrintJson(const nlohmann::json& value);
// Writes `text` to stdout as it is.
void Print(std::string_view text);

// --host, --port and --workers of a server command (`workers_help` says what a worker does).
void AddListenOptions(CLI::App& command, std::string* host, int* port, int* workers,
                      const std::string& workers_help);

// Runs a server until SIGINT or SIGTERM. Both signals are blocked first, so every thread `start`
// starts inherits the mask and the signals are taken by sigwait on a thread of our own instead of
// interrupting whichever thread the kernel picks. `start` builds and starts the server and
// returns the line to print (flushed: tests wait for it); on a signal `stop` is called (requests
// in flight finish); `wait` blocks until the server has stopped.
void ServeUntilStopSignal(const std::function<std::string()>& start,
                          const std::function<void()>& stop, const std::function<void()>& wait);

}  // namespace mltrack::cli
