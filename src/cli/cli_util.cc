#include "cli/cli_util.h"

#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "common/tracking_uri.h"
#include "tracking/store_factory.h"

namespace mltrack::cli {
namespace {

// Terminal columns taken by UTF-8 text, counting one per code point.
size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

void RightTrim(std::string& line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
}

}  // namespace

void AddCommands(CLI::App& parent, GlobalOptions& global, const std::vector<CommandSpec>& specs) {
  for (const auto& spec : specs) {
    CLI::App* command = parent.add_subcommand(spec.name, spec.description);
    AddTrackingUriOption(*command, global);
    spec.setup(*command, global);
  }
  // Not require_subcommand(1): CLI11 checks that before unexpected arguments, so `mlt frob`
  // would say "A subcommand is required" instead of naming `frob`. Callbacks run after that
  // check, and a parent's after its subcommand's.
  parent.require_subcommand(0, 1);
  parent.callback([&parent] {
    if (parent.get_subcommands().empty()) throw CLI::RequiredError("A subcommand");
  });
}

void AddTrackingUriOption(CLI::App& command, GlobalOptions& global) {
  command.add_option("--tracking-uri", global.tracking_uri,
                     "Tracking URI (default: $MLT_TRACKING_URI, else $MLFLOW_TRACKING_URI, "
                     "else sqlite:///mlruns.db)")
      ->type_name("URI");
}

std::shared_ptr<tracking::TrackingStore> OpenStore(const GlobalOptions& global) {
  return tracking::OpenTrackingStore(global.tracking_uri.empty() ? TrackingUriFromEnvironment()
                                                                 : global.tracking_uri);
}

void SetupIdCommand(CLI::App& command, GlobalOptions& global, const char* id_name,
                    const char* id_help,
                    void (*action)(tracking::TrackingStore& store, const std::string& id),
                    const char* done_format) {
  auto id = std::make_shared<std::string>();
  command.add_option(id_name, *id, id_help)->required();
  command.callback([id, &global, action, done_format] {
    action(*OpenStore(global), *id);
    std::fputs(fmt::format(fmt::runtime(done_format), *id).c_str(), stdout);
  });
}

CLI::Validator KeyValueValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t eq = text.find('=');
        if (eq == std::string::npos || eq == 0) {
          return fmt::format("expected KEY=VALUE, got '{}'", text);
        }
        return {};
      },
      "KEY=VALUE");
}

CLI::Validator PositiveIntValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        int value = 0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc() || ptr != end || value < 1) {
          return fmt::format("expected a positive integer, got '{}'", text);
        }
        return {};
      },
      "POSITIVE");
}

Tag ParseKeyValue(const std::string& text) {
  size_t eq = text.find('=');
  return Tag{text.substr(0, eq), text.substr(eq + 1)};
}

ViewType ParseViewOption(const std::string& view) {
  if (view == "deleted") return ViewType::kDeletedOnly;
  if (view == "all") return ViewType::kAll;
  return ViewType::kActiveOnly;
}

void AddViewOption(CLI::App& command, std::string* view, std::string_view what) {
  command
      .add_option("--view", *view,
                  fmt::format("Which {} to list: active, deleted or all (default: active)", what))
      ->check(CLI::IsMember({"active", "deleted", "all"}))
      ->type_name("VIEW");
}

std::string Table::Render(std::string_view indent, bool with_header) const {
  std::vector<size_t> widths(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    widths[i] = with_header ? DisplayWidth(columns_[i].header) : 0;
  }
  for (const auto& row : rows_) {
    for (size_t i = 0; i < columns_.size() && i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  auto render_line = [&](auto cell_at) {
    std::string line(indent);
    for (size_t i = 0; i < columns_.size(); ++i) {
      const std::string& cell = cell_at(i);
      std::string padding(widths[i] - DisplayWidth(cell), ' ');
      if (i > 0) line += "  ";
      if (columns_[i].align == Align::kRight) {
        line += padding + cell;
      } else {
        line += cell + padding;
      }
    }
    RightTrim(line);
    out += line;
    out += '\n';
  };
  if (with_header) {
    render_line([&](size_t i) -> const std::string& { return columns_[i].header; });
  }
  static const std::string kEmpty;
  for (const auto& row : rows_) {
    render_line([&](size_t i) -> const std::string& { return i < row.size() ? row[i] : kEmpty; });
  }
  return out;
}

std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [name, value] : fields) width = std::max(width, DisplayWidth(name) + 1);
  std::string out;
  for (const auto& [name, value] : fields) {
    std::string line = name + ":" + std::string(width - DisplayWidth(name) - 1, ' ') + "  " +
                       value;
    RightTrim(line);
    out += line;
    out += '\n';
  }
  return out;
}

std::string FormatUtcTime(int64_t millis) {
  // Floor division, so that times before 1970 still round down to their second.
  int64_t seconds = millis / 1000 - (millis % 1000 < 0 ? 1 : 0);
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(millis);
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string FormatDuration(int64_t millis) {
  if (millis < 0) millis = 0;
  auto ms = static_cast<double>(millis);
  if (millis < 1000) return fmt::format("{}ms", millis);
  if (millis < 60'000) return fmt::format("{:.1f}s", ms / 1000);
  if (millis < 3'600'000) return fmt::format("{:.1f}min", ms / 60'000);
  if (millis < 86'400'000) return fmt::format("{:.1f}h", ms / 3'600'000);
  return fmt::format("{:.1f}d", ms / 86'400'000);
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "nan";
  return fmt::format("{:.6g}", value);
}

void PrintJson(const nlohmann::json& value) {
  Print(value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  Print("\n");
}

void Print(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

namespace {

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts afterwards)
// for its lifetime.
class BlockedStopSignals {
 public:
  BlockedStopSignals() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
  }
  ~BlockedStopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  BlockedStopSignals(const BlockedStopSignals&) = delete;
  BlockedStopSignals& operator=(const BlockedStopSignals&) = delete;
  const sigset_t& signals() const { return signals_; }

 private:
  sigset_t signals_;
  sigset_t previous_;
};

}  // namespace

void AddListenOptions(CLI::App& command, std::string* host, int* port, int* workers,
                      const std::string& workers_help) {
  command
      .add_option("--host", *host,
                  "The address to listen on (0.0.0.0 to accept connections from other machines)")
      ->type_name("HOST")
      ->capture_default_str();
  command.add_option("--port", *port, "The port to listen on (0: any free port)")
      ->type_name("PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  command.add_option("--workers", *workers, workers_help)
      ->type_name("N")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
}

void ServeUntilStopSignal(const std::function<std::string()>& start,
                          const std::function<void()>& stop, const std::function<void()>& wait) {
  BlockedStopSignals blocked;
  std::string line = start();
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&blocked.signals(), &signal);
    stop();
  });
  wait();  // returns once the stopper has called stop()
  stopper.join();
}

}  // namespace mltrack::cli
