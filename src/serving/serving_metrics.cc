#include "serving/serving_metrics.h"

#include <string_view>

#include <fmt/format.h>

namespace mltrack::serving {
namespace {

constexpr std::array<const char*, kMetricsRouteCount> kRouteLabels = {
    "/invocations",
    "/ping",
    "/health",
    "/version",
    "/metadata",
    "/metrics",
    "/v2",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/{name}",
    "/v2/models/{name}/infer",
    "other",
};

// A label value as the exposition format writes it: backslash, double quote and newline escaped.
std::string EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The routes whose latency is measured: the others answer constants.
bool IsScoring(MetricsRoute route) {
  return route == MetricsRoute::kInvocations || route == MetricsRoute::kV2Infer;
}

// Prometheus' float text: shortest round-trip form, "+Inf" for infinity.
std::string FloatText(double value) { return fmt::format("{}", value); }

template <typename... Args>
void Append(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

const char* MetricsRouteLabel(MetricsRoute route) {
  return kRouteLabels[static_cast<size_t>(route)];
}

size_t ServingMetrics::StatusSlot(int status) {
  for (size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kStatuses.size() - 1;
}

void ServingMetrics::Record(MetricsRoute route, int status, std::chrono::nanoseconds elapsed) {
  RouteCounters& counters = routes_[static_cast<size_t>(route)];
  counters.by_status[StatusSlot(status)].fetch_add(1, std::memory_order_relaxed);
  if (!IsScoring(route)) return;
  double seconds = std::chrono::duration<double>(elapsed).count();
  size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  counters.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  counters.nanoseconds.fetch_add(static_cast<uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

std::string ServingMetrics::Render(const ServedModelGauges& model) const {
  std::string out;
  out.reserve(8192);
  auto status_label = [](size_t slot) {
    return kStatuses[slot] == 0 ? std::string("other") : std::to_string(kStatuses[slot]);
  };

  Header(out, "mlt_serving_requests_total", "counter", "Requests answered, by route and status.");
  for (size_t r = 0; r < kMetricsRouteCount; ++r) {
    for (size_t s = 0; s < kStatuses.size(); ++s) {
      uint64_t count = routes_[r].by_status[s].load(std::memory_order_relaxed);
      if (count == 0) continue;
      Append(out, "mlt_serving_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", kRouteLabels[r],
             status_label(s), count);
    }
  }

  Header(out, "mlt_serving_request_errors_total", "counter",
         "Requests answered with a status of 400 or more, by route and status.");
  for (size_t r = 0; r < kMetricsRouteCount; ++r) {
    for (size_t s = 0; s < kStatuses.size(); ++s) {
      if (kStatuses[s] != 0 && kStatuses[s] < 400) continue;
      uint64_t count = routes_[r].by_status[s].load(std::memory_order_relaxed);
      if (count == 0) continue;
      Append(out, "mlt_serving_request_errors_total{{route=\"{}\",status=\"{}\"}} {}\n",
             kRouteLabels[r], status_label(s), count);
    }
  }

  Header(out, "mlt_serving_request_duration_seconds", "histogram",
         "Time from the start of a scoring request's handling to its answer, by route.");
  for (size_t r = 0; r < kMetricsRouteCount; ++r) {
    if (!IsScoring(static_cast<MetricsRoute>(r))) continue;
    const RouteCounters& counters = routes_[r];
    std::array<uint64_t, kLatencyBounds.size() + 1> buckets;
    uint64_t total = 0;
    for (size_t b = 0; b < buckets.size(); ++b) {
      buckets[b] = counters.buckets[b].load(std::memory_order_relaxed);
      total += buckets[b];
    }
    if (total == 0) continue;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < buckets.size(); ++b) {
      cumulative += buckets[b];
      std::string le = b < kLatencyBounds.size() ? FloatText(kLatencyBounds[b]) : "+Inf";
      Append(out, "mlt_serving_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
             kRouteLabels[r], le, cumulative);
    }
    double seconds =
        static_cast<double>(counters.nanoseconds.load(std::memory_order_relaxed)) / 1e9;
    Append(out, "mlt_serving_request_duration_seconds_sum{{route=\"{}\"}} {}\n", kRouteLabels[r],
           FloatText(seconds));
    Append(out, "mlt_serving_request_duration_seconds_count{{route=\"{}\"}} {}\n", kRouteLabels[r],
           total);
  }

  Header(out, "mlt_serving_rows_scored_total", "counter",
         "Rows scored by answered /invocations and v2 infer requests.");
  Append(out, "mlt_serving_rows_scored_total {}\n", rows_scored_.load(std::memory_order_relaxed));
  Header(out, "mlt_serving_requests_in_flight", "gauge", "Scoring requests being handled now.");
  Append(out, "mlt_serving_requests_in_flight {}\n", in_flight_.load(std::memory_order_relaxed));

  Header(out, "mlt_serving_model_info", "gauge",
         "The model being served (always 1; its URI, flavor and registered version as labels).");
  Append(out, "mlt_serving_model_info{{model_uri=\"{}\",flavor=\"{}\",version=\"{}\"}} 1\n",
         EscapeLabel(model.model_uri), EscapeLabel(model.flavor), EscapeLabel(model.version));
  Header(out, "mlt_serving_model_load_seconds", "gauge",
         "Seconds it took to fetch and load the model being served.");
  Append(out, "mlt_serving_model_load_seconds {}\n", FloatText(model.load_seconds));
  Header(out, "mlt_serving_model_reloads_total", "counter",
         "Times --watch swapped in another version of the model.");
  Append(out, "mlt_serving_model_reloads_total {}\n", model.reloads);
  Header(out, "mlt_serving_model_reload_failures_total", "counter",
         "Times --watch could not resolve or load the model's new version.");
  Append(out, "mlt_serving_model_reload_failures_total {}\n", model.reload_failures);
  return out;
}

}  // namespace mltrack::serving
