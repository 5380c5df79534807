// The scoring server's counters, rendered as Prometheus text (exposition format 0.0.4) for
// GET /metrics.
//
// Recording is lock-free (relaxed atomics: a scrape may see one request's counter before its
// histogram bucket, never a torn value), so that every request can be counted without the
// workers contending on a lock. Rendering reads the atomics while requests keep arriving.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace mltrack::serving {

// The routes counted apart. kOther is every request no route matched.
enum class MetricsRoute {
  kInvocations,
  kPing,
  kHealth,
  kVersion,
  kMetadata,
  kMetrics,
  kV2Server,
  kV2Live,
  kV2Ready,
  kV2Model,
  kV2Infer,
  kOther,
};
inline constexpr size_t kMetricsRouteCount = static_cast<size_t>(MetricsRoute::kOther) + 1;

// The label value of a route in the exposition ("/invocations", "/v2/models/{name}/infer", ...).
const char* MetricsRouteLabel(MetricsRoute route);

// What the gauges of the served model say at the time of a scrape.
struct ServedModelGauges {
  std::string model_uri;
  std::string flavor;
  std::string version;      // "" when the URI is not a registered version
  double load_seconds = 0;  // of the model being served
  uint64_t reloads = 0;     // swaps done by --watch
  uint64_t reload_failures = 0;
};

class ServingMetrics {
 public:
  // The upper bounds (seconds) of the latency histogram's buckets; +Inf follows them.
  static constexpr std::array<double, 14> kLatencyBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

  // Counts one answered request: its status, and for the scoring routes (/invocations, v2 infer)
  // how long it took, from the handler's start to the answer's being ready. Lock-free.
  void Record(MetricsRoute route, int status, std::chrono::nanoseconds elapsed);
  // Rows scored by answered /invocations and v2 infer requests.
  void AddRowsScored(uint64_t rows) { rows_scored_.fetch_add(rows, std::memory_order_relaxed); }
  // Counts a scoring request as being served for its lifetime (a handler's start to its answer).
  class InFlight {
   public:
    explicit InFlight(ServingMetrics& metrics) : metrics_(metrics) {
      metrics_.in_flight_.fetch_add(1, std::memory_order_relaxed);
    }
    ~InFlight() { metrics_.in_flight_.fetch_sub(1, std::memory_order_relaxed); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    ServingMetrics& metrics_;
  };

  // The whole exposition: requests and errors by route and status, the latency histograms of the
  // scoring routes, rows scored, requests in flight, and the served model's gauges.
  std::string Render(const ServedModelGauges& model) const;

 private:
  // The statuses the server answers with, counted apart; any other falls in the last slot,
  // labelled status="other".
  static constexpr std::array<int, 9> kStatuses = {200, 400, 404, 405, 413, 415, 500, 503, 0};
  static size_t StatusSlot(int status);

  struct RouteCounters {
    std::array<std::atomic<uint64_t>, kStatuses.size()> by_status{};
    // Not cumulative: the count of requests in each bucket alone (the last is +Inf).
    std::array<std::atomic<uint64_t>, kLatencyBounds.size() + 1> buckets{};
    std::atomic<uint64_t> nanoseconds{0};
  };

  std::array<RouteCounters, kMetricsRouteCount> routes_{};
  std::atomic<uint64_t> rows_scored_{0};
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace mltrack::serving
