#include "serving/scoring_server.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_server.h"
#include "mltrack/error.h"
#include "models/bundle/flavor_registry.h"
#include "registry/model_uri.h"
#include "serving/request_codec.h"
#include "serving/scorer.h"
#include "serving/serving_metrics.h"
#include "serving/v2_protocol.h"

namespace mltrack::serving {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Bodies up to this size are decoded and scored on the HTTP worker itself: a thread hand-off
// would cost more than the work, and such work takes microseconds, so the deadline is checked
// after it. Larger bodies go to the scoring pool and the worker waits only until the deadline.
constexpr size_t kInlineBodyBytes = 64 << 10;
// The HTTP layer never refuses a scoring body by itself: the routes check the limit, so that the
// refusal is counted in /metrics and v2 routes answer it in their own error format. (Far below
// 2^64, so the server's drain arithmetic cannot overflow.)
constexpr size_t kUncheckedRouteLimit = size_t{1} << 62;
constexpr char kV2Prefix[] = "/v2/models/";

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// An Error answered with a status of its own instead of HttpStatusFor(code) (413 for a body over
// the limit, which MLflow's error table maps to 400).
class StatusError : public Error {
 public:
  StatusError(int status, ErrorCode code, std::string message)
      : Error(code, std::move(message)), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// How a route writes its errors: MLflow's {"error_code", "message"} (and 415 as text/plain), or
// the Open Inference Protocol's {"error": "<message>"}.
enum class ErrorStyle { kMlflow, kV2 };

void SetError(http::Response& response, ErrorStyle style, int status, ErrorCode code,
              std::string_view message) {
  if (style == ErrorStyle::kMlflow) {
    http::SetErrorResponse(response, status, ErrorCodeName(code), message);
    return;
  }
  response = http::Response{};
  response.status = status;
  response.body = Dump({{"error", message}});
}

// Input problems are the client's: whatever code the layer that found them used, MLflow's
// scoring server answers them 400 BAD_REQUEST.
ErrorCode ClientCode(ErrorCode code) {
  return code == ErrorCode::kInvalidParameterValue ? ErrorCode::kBadRequest : code;
}

// One loaded version of the model, with what the routes answer about it computed once.
// Immutable once built; requests share it through a shared_ptr taken when they start.
struct ServedModel {
  std::unique_ptr<Scorer> scorer;
  std::optional<models::Schema> inputs;  // the signature's inputs, for positional rows
  std::string flavor;
  std::string version;  // the registered version, "" for a URI that is not one
  std::string v2_name;  // the name in /v2/models/<name>: the registered name, or "model"
  double load_seconds = 0;
  std::string metadata_body;     // GET /metadata
  std::string v2_metadata_body;  // GET /v2/models/<name>

  const models::Schema* schema() const { return inputs ? &*inputs : nullptr; }
};

// Loads what `resolved` points at. A registered version is fetched by its number, so that an
// alias moving meanwhile cannot mix two versions.
std::shared_ptr<const ServedModel> LoadServed(registry::ModelResolver& resolver,
                                              const std::string& model_uri,
                                              const registry::ResolvedModel& resolved,
                                              Clock::time_point started) {
  std::shared_ptr<const models::Model> model;
  json input_example = nullptr;
  auto load = [&](const fs::path& bundle) {
    model = models::LoadModel(bundle);
    if (const auto& info = model->meta().saved_input_example_info) {
      std::ifstream in(bundle / info->artifact_path, std::ios::binary);
      if (in) {
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        input_example = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (input_example.is_discarded()) input_example = nullptr;
      }
    }
  };
  resolver.WithBundleFolder(resolved.name.empty()
                                ? model_uri
                                : fmt::format("models:/{}/{}", resolved.name, resolved.version),
                            load);
  auto served = std::make_shared<ServedModel>();
  const models::ModelMeta& meta = model->meta();
  served->flavor = model->flavor();
  served->version = resolved.version;
  served->v2_name = resolved.name.empty() ? "model" : resolved.name;
  if (meta.signature) served->inputs = meta.signature->inputs;
  served->scorer = Scorer::ForModel(model);

  auto or_null = [](const std::string& text) { return text.empty() ? json(nullptr) : json(text); };
  json signature = nullptr;
  json v2_inputs = json::array(), v2_outputs = json::array();
  if (meta.signature) {
    signature = {{"inputs", json::parse(models::SchemaToJson(meta.signature->inputs))},
                 {"outputs", meta.signature->outputs
                                 ? json::parse(models::SchemaToJson(*meta.signature->outputs))
                                 : json(nullptr)}};
    v2_inputs = V2TensorSpecs(meta.signature->inputs, "input");
    if (meta.signature->outputs) v2_outputs = V2TensorSpecs(*meta.signature->outputs, "prediction");
  }
  served->metadata_body =
      Dump({{"model_uri", model_uri},
            {"flavor", served->flavor},
            {"run_id", or_null(meta.run_id.empty() ? resolved.run_id : meta.run_id)},
            {"model_name", or_null(resolved.name)},
            {"model_version", or_null(resolved.version)},
            {"signature", signature},
            {"input_example", input_example}});
  json versions = json::array();
  if (!resolved.version.empty()) versions.push_back(resolved.version);
  served->v2_metadata_body = Dump({{"name", served->v2_name},
                                   {"versions", versions},
                                   {"platform", "mltrack"},
                                   {"inputs", v2_inputs},
                                   {"outputs", v2_outputs}});
  served->load_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return served;
}

// Threads that score large requests, so that their HTTP worker can stop waiting at the deadline.
// A job abandoned before it starts is skipped; one abandoned while it runs finishes unseen.
class ScoringPool {
 public:
  explicit ScoringPool(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~ScoringPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& thread : threads_) thread.join();
  }

  void Submit(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

struct Scored {
  ScoringResult result;
  size_t rows = 0;
};

// Reads a scoring route's body up to `limit` bytes, until `deadline`. A body over the limit is
// still read and discarded up to kMaxDrainBytes more, so that the client reads the 413 rather
// than a reset connection (as the HTTP layer does for its own limits).
std::string ReadBody(const http::Request& request, size_t limit, Clock::time_point deadline,
                     std::chrono::milliseconds timeout) {
  constexpr uint64_t kMaxDrainBytes = 64 << 20;
  auto too_large = [limit](std::optional<uint64_t> size) {
    return StatusError(
        413, ErrorCode::kResourceLimitExceeded,
        size ? fmt::format("Request body of {} bytes exceeds the limit of {} bytes", *size, limit)
             : fmt::format("Request body exceeds the limit of {} bytes", limit));
  };
  std::string body;
  if (std::string length_text = request.Header("content-length"); !length_text.empty()) {
    uint64_t length = std::stoull(length_text);  // the HTTP layer has refused malformed ones
    if (length > limit) throw too_large(length);
    body.reserve(length);
  }
  uint64_t received = 0;
  bool late = false;
  bool ok = request.read_body([&](const char* data, size_t size) {
    received += size;
    if (Clock::now() > deadline) return !(late = true);
    if (received > limit) return received <= limit + kMaxDrainBytes;
    body.append(data, size);
    return true;
  });
  if (late) {
    throw Error(ErrorCode::kTemporarilyUnavailable,
                fmt::format("The request body did not arrive within the timeout of {} ms",
                            timeout.count()));
  }
  if (received > limit) throw too_large(ok ? std::optional<uint64_t>(received) : std::nullopt);
  if (!ok) throw Error(ErrorCode::kBadRequest, "Could not read the request body");
  return body;
}

}  // namespace

struct ScoringServer::Impl {
  explicit Impl(ScoringServerOptions options_in);

  http::Handler Instrument(MetricsRoute route, ErrorStyle style,
                           void (Impl::*handle)(const http::Request&, http::Response&));
  Scored Score(std::shared_ptr<const ServedModel> served, std::string body,
               std::function<ScoringRequest(const ServedModel&, std::string_view)> decode,
               Clock::time_point deadline);
  void Invocations(const http::Request& request, http::Response& response);
  void V2Get(const http::Request& request, http::Response& response);
  void V2Infer(const http::Request& request, http::Response& response);
  void Metrics(const http::Request& request, http::Response& response);
  // The served model for /v2/models/<name>[/versions/<v>]<rest>; 404 for another name or version.
  std::shared_ptr<const ServedModel> V2Target(const std::string& path, std::string& rest) const;
  void WatchLoop();
  void CheckForNewVersion();

  ScoringServerOptions options;
  registry::ModelResolver resolver;
  std::atomic<std::shared_ptr<const ServedModel>> served;
  ServingMetrics metrics;
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};
  std::string last_watch_error;  // watch thread only: a failure is reported once until it changes
  ScoringPool pool{std::max(2u, std::thread::hardware_concurrency())};
  http::Server server;

  std::mutex watch_mu;
  std::condition_variable watch_cv;
  bool stopping = false;  // guarded by watch_mu
  std::thread watcher;
};

ScoringServer::Impl::Impl(ScoringServerOptions options_in)
    : options(std::move(options_in)),
      resolver(options.tracking_uri),
      server(http::ServerOptions{.host = options.host,
                                 .port = options.port,
                                 .threads = options.workers,
                                 .max_body_bytes = 1 << 20}) {
  auto invalid = [](std::string message) {
    return Error(ErrorCode::kInvalidParameterValue, message);
  };
  if (options.workers < 1)
    throw invalid(fmt::format("workers must be at least 1, got {}", options.workers));
  if (options.max_body_bytes < 1) throw invalid("the body limit must be at least 1 byte");
  if (options.timeout.count() < 1) throw invalid("the timeout must be at least 1 ms");
  if (options.watch) {
    auto kind = registry::ParseModelUri(options.model_uri).kind;
    using Kind = registry::ModelUri::Kind;
    if (kind != Kind::kAlias && kind != Kind::kStage && kind != Kind::kLatest) {
      throw invalid(
          fmt::format("Cannot watch '{}': only models:/<name>@<alias>, "
                      "models:/<name>/<stage> and models:/<name>/latest can move to "
                      "another version",
                      options.model_uri));
    }
    if (options.watch_interval.count() < 1)
      throw invalid("the watch interval must be at least 1 ms");
  }
  auto started = Clock::now();
  served.store(
      LoadServed(resolver, options.model_uri, resolver.Resolve(options.model_uri), started));

  using R = MetricsRoute;
  auto text = [](std::string content_type, std::string body) {
    return [content_type, body](const http::Request&, http::Response& response) {
      response.content_type = content_type;
      response.body = body;
    };
  };
  auto counted = [this](MetricsRoute route, http::Handler handler) -> http::Handler {
    return [this, route, handler](const http::Request& request, http::Response& response) {
      auto start = Clock::now();
      handler(request, response);
      metrics.Record(route, response.status, Clock::now() - start);
    };
  };
  http::RouteOptions scoring_route{.max_body_bytes = kUncheckedRouteLimit, .stream_body = true};
  server.Route("POST", "/invocations",
               Instrument(R::kInvocations, ErrorStyle::kMlflow, &Impl::Invocations), scoring_route);
  server.Route("GET", "/ping", counted(R::kPing, text("application/json", "\n")));
  server.Route("GET", "/health", counted(R::kHealth, text("application/json", "\n")));
  server.Route("GET", "/version", counted(R::kVersion, text("text/plain", MLT_VERSION)));
  server.Route("GET", "/metadata", counted(R::kMetadata, [this](const auto&, auto& response) {
                 response.body = served.load()->metadata_body;
               }));
  server.Route("GET", "/metrics", Instrument(R::kMetrics, ErrorStyle::kMlflow, &Impl::Metrics));
  server.Route(
      "GET", "/v2",
      counted(R::kV2Server, text("application/json", Dump({{"name", "mltrack"},
                                                           {"version", MLT_VERSION},
                                                           {"extensions", json::array()}}))));
  server.Route("GET", "/v2/health/live", counted(R::kV2Live, text("", "")));
  server.Route("GET", "/v2/health/ready", counted(R::kV2Ready, text("", "")));
  server.RoutePrefix("GET", kV2Prefix, Instrument(R::kV2Model, ErrorStyle::kV2, &Impl::V2Get));
  server.RoutePrefix("POST", kV2Prefix, Instrument(R::kV2Infer, ErrorStyle::kV2, &Impl::V2Infer),
                     scoring_route);
  server.SetNotFound(counted(R::kOther, [](const http::Request& request, http::Response& response) {
    http::SetErrorResponse(response, 404, ErrorCodeName(ErrorCode::kEndpointNotFound),
                           fmt::format("No endpoint for {} {}", request.method, request.path));
  }));
}

// Runs a route with the error wrapper of its protocol and counts its answer.
http::Handler ScoringServer::Impl::Instrument(MetricsRoute route, ErrorStyle style,
                                              void (Impl::*handle)(const http::Request&,
                                                                   http::Response&)) {
  return [this, route, style, handle](const http::Request& request, http::Response& response) {
    auto start = Clock::now();
    try {
      (this->*handle)(request, response);
    } catch (const StatusError& e) {
      SetError(response, style, e.status(), e.code(), e.what());
    } catch (const Error& e) {
      ErrorCode code = ClientCode(e.code());
      SetError(response, style, HttpStatusFor(code), code, e.what());
    } catch (const ContentTypeError& e) {
      if (style == ErrorStyle::kMlflow) {
        response = http::Response{};
        response.status = 415;
        response.content_type = "text/plain";
        response.body = e.what();
      } else {
        SetError(response, style, 415, ErrorCode::kBadRequest, e.what());
      }
    } catch (const std::exception& e) {
      SetError(response, style, 500, ErrorCode::kInternalError, e.what());
    }
    metrics.Record(route, response.status, Clock::now() - start);
  };
}

// Decodes and scores `body` against `served`: inline when it is small, otherwise on the pool,
// waiting until `deadline`. Throws 503 past the deadline, and whatever decoding or scoring threw.
Scored ScoringServer::Impl::Score(
    std::shared_ptr<const ServedModel> served, std::string body,
    std::function<ScoringRequest(const ServedModel&, std::string_view)> decode,
    Clock::time_point deadline) {
  auto timed_out = [&] {
    return Error(
        ErrorCode::kTemporarilyUnavailable,
        fmt::format("Scoring did not finish within the timeout of {} ms", options.timeout.count()));
  };
  const bool inline_work = body.size() <= kInlineBodyBytes;
  auto work = [served = std::move(served), body = std::move(body), decode = std::move(decode)] {
    ScoringRequest request = decode(*served, body);
    return Scored{served->scorer->Score(request), request.table.num_rows()};
  };
  if (inline_work) {
    Scored scored = work();
    if (Clock::now() > deadline) throw timed_out();
    return scored;
  }
  auto task = std::make_shared<std::packaged_task<Scored()>>(std::move(work));
  auto abandoned = std::make_shared<std::atomic<bool>>(false);
  std::future<Scored> result = task->get_future();
  pool.Submit([task, abandoned] {
    if (!abandoned->load()) (*task)();
  });
  if (result.wait_until(deadline) != std::future_status::ready) {
    abandoned->store(true);
    throw timed_out();
  }
  return result.get();
}

void ScoringServer::Impl::Invocations(const http::Request& request, http::Response& response) {
  auto deadline = Clock::now() + options.timeout;
  BodyFormat format = BodyFormatOf(request.Header("content-type"));
  ServingMetrics::InFlight in_flight(metrics);
  std::string body = ReadBody(request, options.max_body_bytes, deadline, options.timeout);
  auto decode = [format](const ServedModel& model, std::string_view text) {
    return DecodeRequest(format, text, model.schema());
  };
  Scored scored = Score(served.load(), std::move(body), decode, deadline);
  response.body = PredictionsBody(scored.result);
  metrics.AddRowsScored(scored.rows);
}

std::shared_ptr<const ServedModel> ScoringServer::Impl::V2Target(const std::string& path,
                                                                 std::string& rest) const {
  std::string_view tail = std::string_view(path).substr(std::size(kV2Prefix) - 1);
  size_t slash = tail.find('/');
  std::string name(tail.substr(0, slash));
  rest = slash == std::string_view::npos ? "" : std::string(tail.substr(slash));
  auto current = served.load();
  if (name != current->v2_name) {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("Model '{}' is not served here; this server serves '{}'", name,
                            current->v2_name));
  }
  if (rest.starts_with("/versions/")) {
    std::string_view after = std::string_view(rest).substr(10);
    size_t end = after.find('/');
    std::string version(after.substr(0, end));
    if (version != current->version) {
      throw Error(
          ErrorCode::kResourceDoesNotExist,
          fmt::format("Version '{}' of model '{}' is not served here{}", version, name,
                      current->version.empty()
                          ? std::string()
                          : fmt::format("; this server serves version {}", current->version)));
    }
    rest = end == std::string_view::npos ? "" : std::string(after.substr(end));
  }
  return current;
}

void ScoringServer::Impl::V2Get(const http::Request& request, http::Response& response) {
  std::string rest;
  auto target = V2Target(request.path, rest);
  if (rest.empty()) {
    response.body = target->v2_metadata_body;
  } else if (rest == "/ready") {
    response.content_type = "";
  } else {
    throw Error(ErrorCode::kEndpointNotFound,
                fmt::format("No endpoint for {} {}", request.method, request.path));
  }
}

void ScoringServer::Impl::V2Infer(const http::Request& request, http::Response& response) {
  std::string rest;
  auto target = V2Target(request.path, rest);
  if (rest != "/infer") {
    throw Error(ErrorCode::kEndpointNotFound,
                fmt::format("No endpoint for {} {}", request.method, request.path));
  }
  auto deadline = Clock::now() + options.timeout;
  if (BodyFormatOf(request.Header("content-type")) != BodyFormat::kJson) {
    throw ContentTypeError("The inference protocol takes application/json only");
  }
  ServingMetrics::InFlight in_flight(metrics);
  std::string body = ReadBody(request, options.max_body_bytes, deadline, options.timeout);
  // Filled by the decoding, which may run on the pool and outlive this handler when it times out.
  auto extras = std::make_shared<V2Extras>();
  auto decode = [extras](const ServedModel&, std::string_view text) {
    return DecodeV2Request(text, *extras);
  };
  Scored scored = Score(target, std::move(body), decode, deadline);
  response.body = EncodeV2Response(scored.result.table, *extras, target->v2_name, target->version);
  metrics.AddRowsScored(scored.rows);
}

void ScoringServer::Impl::Metrics(const http::Request&, http::Response& response) {
  auto current = served.load();
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = metrics.Render({.model_uri = options.model_uri,
                                  .flavor = current->flavor,
                                  .version = current->version,
                                  .load_seconds = current->load_seconds,
                                  .reloads = reloads.load(),
                                  .reload_failures = reload_failures.load()});
}

void ScoringServer::Impl::WatchLoop() {
  std::unique_lock lock(watch_mu);
  while (!watch_cv.wait_for(lock, options.watch_interval, [&] { return stopping; })) {
    lock.unlock();
    CheckForNewVersion();
    lock.lock();
  }
}

// Resolves the URI again; when it leads to another version, loads that one beside the served
// one and swaps it in. Requests that started before keep the model they took.
void ScoringServer::Impl::CheckForNewVersion() {
  try {
    auto started = Clock::now();
    registry::ResolvedModel resolved = resolver.Resolve(options.model_uri);
    auto current = served.load();
    if (resolved.version != current->version) {
      served.store(LoadServed(resolver, options.model_uri, resolved, started));
      reloads.fetch_add(1);
      fmt::print(stderr, "mlt models serve: {} is now version {} (was version {})\n",
                 options.model_uri, resolved.version, current->version);
    }
    last_watch_error.clear();
  } catch (const std::exception& e) {
    reload_failures.fetch_add(1);
    if (last_watch_error != e.what()) {
      last_watch_error = e.what();
      fmt::print(stderr, "mlt models serve: cannot reload {} (still serving version {}): {}\n",
                 options.model_uri, served.load()->version, e.what());
    }
  }
}

ScoringServer::ScoringServer(ScoringServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ScoringServer::~ScoringServer() { Stop(); }

int ScoringServer::Start() {
  int port = impl_->server.Start();
  if (impl_->options.watch && !impl_->watcher.joinable()) {
    impl_->watcher = std::thread([this] { impl_->WatchLoop(); });
  }
  return port;
}

void ScoringServer::Stop() {
  impl_->server.Stop();
  {
    std::lock_guard lock(impl_->watch_mu);
    impl_->stopping = true;
  }
  impl_->watch_cv.notify_all();
  if (impl_->watcher.joinable()) impl_->watcher.join();
}

void ScoringServer::Wait() { impl_->server.Wait(); }

int ScoringServer::port() const { return impl_->server.port(); }

std::string ScoringServer::url() const {
  const std::string& host = impl_->options.host;
  return host.find(':') != std::string::npos ? fmt::format("http://[{}]:{}", host, port())
                                             : fmt::format("http://{}:{}", host, port());
}

std::string ScoringServer::served_version() const { return impl_->served.load()->version; }

}  // namespace mltrack::serving
