#include "mltrack/client.h"

#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "client/model_logging.h"
#include "common/tracking_uri.h"
#include "registry/model_uri.h"
#include "tracking/artifact_repository.h"
#include "tracking/store_factory.h"
#include "tracking/tracking_store.h"
#include "tracking/validation.h"

namespace mltrack {
namespace {

std::string EnvOr(std::initializer_list<const char*> names, std::string fallback = "") {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value && *value) return value;
  }
  return fallback;
}

std::string CurrentUser() {
  std::string user = EnvOr({"USER", "LOGNAME"});
  if (!user.empty()) return user;
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_name) return pw->pw_name;
  return "unknown";
}

std::string ProgramName() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("unknown") : exe.string();
}

// Failures worth retrying: the store may come back (a locked or unreachable database or server).
bool IsTransient(const Error& e) {
  return e.code() == ErrorCode::kTemporarilyUnavailable || e.code() == ErrorCode::kIoError;
}

// Sends key/value pairs as params or tags, in log_batch calls within MLflow's limit of 100.
template <class Entity>
void LogInBatches(tracking::TrackingStore& store, const std::string& run_id,
                  const std::map<std::string, std::string>& pairs) {
  std::vector<Entity> batch;
  auto send = [&] {
    if constexpr (std::is_same_v<Entity, Param>) {
      store.LogBatch(run_id, {}, batch, {});
    } else {
      store.LogBatch(run_id, {}, {}, batch);
    }
    batch.clear();
  };
  for (const auto& [key, value] : pairs) {
    batch.push_back(Entity{key, value});
    if (batch.size() == tracking::kMaxParamsTagsPerBatch) send();
  }
  if (!batch.empty()) send();
}

}  // namespace

std::string FormatParamValue(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, end);
}

// --- ActiveRun ---------------------------------------------------------------------------------

// Shared by the ActiveRun handle and its sender thread. Invariant: every metric accepted by
// LogMetric is in `queue`, in the batch being sent (`in_flight`), stored, or counted in
// `undelivered` with `error` set.
struct ActiveRun::State {
  std::shared_ptr<tracking::TrackingStore> store;
  ClientOptions options;
  RunInfo info;
  int uncaught_at_start = std::uncaught_exceptions();

  std::mutex mu;
  std::condition_variable wake_sender;
  std::condition_variable progress;  // queue shrank, a batch finished, or an error arrived
  std::deque<Metric> queue;
  size_t in_flight = 0;
  uint64_t flush_requests = 0;
  bool stopping = false;
  bool ended = false;
  std::exception_ptr error;
  size_t undelivered = 0;
  std::thread sender;

  // A batch worth sending at once: a full log_batch, or a full queue whose producer is waiting.
  size_t FullBatch() const {
    return std::min(options.max_queued_metrics, static_cast<size_t>(tracking::kMaxMetricsPerBatch));
  }
  void SenderLoop();
  void SendWithRetries(const std::vector<Metric>& batch);
  void CheckError() {
    if (error) std::rethrow_exception(error);
  }
};

void ActiveRun::State::SenderLoop() {
  uint64_t flushes_seen = 0;
  std::unique_lock lock(mu);
  for (;;) {
    wake_sender.wait_for(lock, options.flush_interval, [&] {
      return stopping || flush_requests != flushes_seen || queue.size() >= FullBatch();
    });
    flushes_seen = flush_requests;
    if (queue.empty()) {
      if (stopping) return;
      continue;
    }
    size_t n = std::min(queue.size(), static_cast<size_t>(tracking::kMaxMetricsPerBatch));
    std::vector<Metric> batch(std::make_move_iterator(queue.begin()),
                              std::make_move_iterator(queue.begin() + static_cast<long>(n)));
    queue.erase(queue.begin(), queue.begin() + static_cast<long>(n));
    in_flight = n;
    progress.notify_all();
    lock.unlock();
    std::exception_ptr failure;
    try {
      SendWithRetries(batch);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    in_flight = 0;
    if (failure) {
      // A permanent failure: keep the first error, count what can no longer be delivered.
      if (!error) error = failure;
      undelivered += n + queue.size();
      queue.clear();
    }
    progress.notify_all();
  }
}

void ActiveRun::State::SendWithRetries(const std::vector<Metric>& batch) {
  const auto deadline = std::chrono::steady_clock::now() + options.retry_for;
  auto backoff = std::chrono::milliseconds(50);
  for (;;) {
    try {
      store->LogBatch(info.run_id, batch, {}, {});
      return;
    } catch (const Error& e) {
      if (!IsTransient(e) || std::chrono::steady_clock::now() + backoff > deadline) throw;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

ActiveRun::ActiveRun(std::unique_ptr<State> state) : state_(std::move(state)) {
  State* s = state_.get();
  s->sender = std::thread([s] { s->SenderLoop(); });
}

ActiveRun::ActiveRun(ActiveRun&&) noexcept = default;

ActiveRun::~ActiveRun() {
  if (!state_) return;
  bool unwinding = std::uncaught_exceptions() > state_->uncaught_at_start;
  try {
    End(unwinding ? RunStatus::kFailed : RunStatus::kFinished);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mlt: error: ending run %s: %s\n", state_->info.run_id.c_str(), e.what());
  }
  if (state_->sender.joinable()) {
    {
      std::lock_guard lock(state_->mu);
      state_->stopping = true;
    }
    state_->wake_sender.notify_all();
    state_->sender.join();
  }
}

const std::string& ActiveRun::run_id() const { return state_->info.run_id; }
const std::string& ActiveRun::experiment_id() const { return state_->info.experiment_id; }
const std::string& ActiveRun::artifact_uri() const { return state_->info.artifact_uri; }

void ActiveRun::LogParam(std::string_view key, std::string_view value) {
  state_->store->LogParam(state_->info.run_id, Param{std::string(key), std::string(value)});
}

void ActiveRun::LogParams(const std::map<std::string, std::string>& params) {
  LogInBatches<Param>(*state_->store, state_->info.run_id, params);
}

void ActiveRun::LogMetric(std::string_view key, double value, int64_t step, int64_t timestamp_ms) {
  Metric metric{std::string(key), value, timestamp_ms ? timestamp_ms : NowMillis(), step};
  tracking::ValidateMetric(metric);
  State& s = *state_;
  std::unique_lock lock(s.mu);
  if (s.ended) {
    throw Error(ErrorCode::kInvalidState,
                fmt::format("run {} has ended; it takes no more metrics", s.info.run_id));
  }
  s.progress.wait(lock, [&] { return s.error || s.queue.size() < s.options.max_queued_metrics; });
  s.CheckError();
  s.queue.push_back(std::move(metric));
  if (s.queue.size() >= s.FullBatch()) s.wake_sender.notify_one();
}

void ActiveRun::LogMetrics(const std::map<std::string, double>& metrics, int64_t step) {
  int64_t now = NowMillis();
  for (const auto& [key, value] : metrics) LogMetric(key, value, step, now);
}

void ActiveRun::SetTag(std::string_view key, std::string_view value) {
  state_->store->SetTag(state_->info.run_id, Tag{std::string(key), std::string(value)});
}

void ActiveRun::SetTags(const std::map<std::string, std::string>& tags) {
  LogInBatches<Tag>(*state_->store, state_->info.run_id, tags);
}

void ActiveRun::LogArtifact(const std::filesystem::path& local_file,
                            std::string_view artifact_dir) {
  tracking::OpenArtifactRepository(state_->info.artifact_uri, state_->options.tracking_uri)
      ->LogFile(local_file, artifact_dir);
}

void ActiveRun::LogArtifacts(const std::filesystem::path& local_dir,
                             std::string_view artifact_dir) {
  tracking::OpenArtifactRepository(state_->info.artifact_uri, state_->options.tracking_uri)
      ->LogDir(local_dir, artifact_dir);
}

LoggedModel ActiveRun::LogModel(const std::filesystem::path& bundle,
                                std::string_view artifact_path, const LogModelOptions& options) {
  {
    std::lock_guard lock(state_->mu);
    if (state_->ended) {
      throw Error(ErrorCode::kInvalidState,
                  fmt::format("run {} has ended; it takes no more models", state_->info.run_id));
    }
  }
  return client_internal::LogModelToRun(state_->store, state_->options.tracking_uri, state_->info,
                                        bundle, artifact_path, options);
}

void ActiveRun::Flush() {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  ++s.flush_requests;
  s.wake_sender.notify_one();
  s.progress.wait(lock, [&] { return s.error || (s.queue.empty() && s.in_flight == 0); });
  if (s.error) {
    std::string message;
    try {
      std::rethrow_exception(s.error);
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("{} metric(s) of run {} were not stored: {}",
                                        s.undelivered, s.info.run_id, e.what()));
    }
  }
}

void ActiveRun::End(RunStatus status) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    if (s.ended) return;
  }
  std::exception_ptr flush_error;
  try {
    Flush();
  } catch (...) {
    flush_error = std::current_exception();
  }
  {
    std::lock_guard lock(s.mu);
    s.ended = true;
    s.stopping = true;
  }
  s.wake_sender.notify_all();
  if (s.sender.joinable()) s.sender.join();
  RunUpdate update;
  // A run whose metrics could not all be stored did not finish as recorded: it ends FAILED.
  update.status = flush_error ? RunStatus::kFailed : status;
  update.end_time = NowMillis();
  try {
    s.store->UpdateRun(s.info.run_id, update);
  } catch (...) {
    if (!flush_error) throw;  // the flush failure is the one to report
  }
  if (flush_error) std::rethrow_exception(flush_error);
}

// --- Client ------------------------------------------------------------------------------------

Client::Client(ClientOptions options) : options_(std::move(options)) {
  if (options_.tracking_uri.empty()) options_.tracking_uri = TrackingUriFromEnvironment();
  store_ = tracking::OpenTrackingStore(options_.tracking_uri);
}

Client::~Client() = default;

const std::string& Client::tracking_uri() const { return options_.tracking_uri; }

std::filesystem::path Client::DownloadModel(std::string_view model_uri,
                                            const std::filesystem::path& dest_dir) {
  registry::ModelResolver resolver(store_, nullptr, options_.tracking_uri);
  return resolver.Download(model_uri, dest_dir);
}

std::string Client::RegisterModel(std::string_view model_uri, const std::string& name) {
  registry::ModelResolver resolver(store_, nullptr, options_.tracking_uri);
  return resolver.Register(model_uri, name).version;
}

ActiveRun Client::StartRun(const RunOptions& options) {
  auto state = std::make_unique<ActiveRun::State>();
  state->store = store_;
  state->options = options_;
  std::string run_id = options.run_id.empty() ? EnvOr({"MLT_RUN_ID", "MLFLOW_RUN_ID"})
                                              : options.run_id;
  if (!run_id.empty()) {
    // Resume, as MLflow's start_run(run_id=...) does: the run is RUNNING again until it ends.
    Run run = store_->GetRun(run_id);
    if (run.info.lifecycle_stage != LifecycleStage::kActive) {
      throw Error(ErrorCode::kInvalidState,
                  fmt::format("cannot resume run {}: it is deleted", run_id));
    }
    RunUpdate update;
    update.status = RunStatus::kRunning;
    state->info = store_->UpdateRun(run_id, update);
    if (!options.tags.empty()) store_->LogBatch(run_id, {}, {}, options.tags);
  } else {
    RunCreate create;
    create.experiment_id = ResolveExperiment(options);
    create.run_name = options.run_name;
    create.user_id = CurrentUser();
    create.tags = {{"mlflow.user", create.user_id},
                   {"mlflow.source.name", ProgramName()},
                   {"mlflow.source.type", "LOCAL"}};
    for (const auto& tag : options.tags) {
      std::erase_if(create.tags, [&](const Tag& t) { return t.key == tag.key; });
      create.tags.push_back(tag);
    }
    state->info = store_->CreateRun(create).info;
  }
  return ActiveRun(std::move(state));
}

std::string Client::CreateExperiment(const std::string& name) {
  return store_->CreateExperiment(name, "", {});
}

// An experiment named in the options wins over one given by id; then the environment
// (a name, then an id, as MLflow reads MLFLOW_EXPERIMENT_NAME before MLFLOW_EXPERIMENT_ID); then
// the Default experiment "0".
std::string Client::ResolveExperiment(const RunOptions& options) {
  if (!options.experiment.empty()) return GetOrCreateExperiment(options.experiment);
  if (!options.experiment_id.empty()) return options.experiment_id;
  std::string name = EnvOr({"MLT_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"});
  if (!name.empty()) return GetOrCreateExperiment(name);
  return EnvOr({"MLT_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"}, "0");
}

Experiment Client::GetExperimentByName(const std::string& name) {
  return store_->GetExperimentByName(name);
}

std::string Client::GetOrCreateExperiment(const std::string& name) {
  for (int attempt = 0;; ++attempt) {
    try {
      Experiment exp = store_->GetExperimentByName(name);
      if (exp.lifecycle_stage == LifecycleStage::kActive) return exp.experiment_id;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kResourceDoesNotExist) throw;
    }
    try {
      return store_->CreateExperiment(name, "", {});
    } catch (const Error& e) {
      // Another process created it between our look-up and our create: look it up again.
      if (e.code() != ErrorCode::kResourceAlreadyExists || attempt > 2) throw;
    }
  }
}

Run Client::GetRun(const std::string& run_id) { return store_->GetRun(run_id); }

Page<Run> Client::SearchRuns(const RunSearch& search) { return store_->SearchRuns(search); }

std::vector<Metric> Client::GetMetricHistory(const std::string& run_id, const std::string& key) {
  std::vector<Metric> all;
  std::string token;
  do {
    auto page = store_->GetMetricHistory(run_id, key, 0, token);
    all.insert(all.end(), std::make_move_iterator(page.items.begin()),
               std::make_move_iterator(page.items.end()));
    token = std::move(page.next_page_token);
  } while (!token.empty());
  return all;
}

}  // namespace mltrack
