// What the `mlt train ...` end-to-end tests share: a reproducible random stream for the data the
// tests write, and a fixture with its own database that runs the built `mlt`, alone or under
// `mpirun`, and reads what the runs logged.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mltrack/entities.h"
#include "support/test_support.h"
#include "tracking/store_factory.h"

namespace mltrack::testing {

class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  double Uniform() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state_ >> 11) * 0x1.0p-53;
  }
  double Normal() {
    double u = Uniform(), v = Uniform();
    return std::sqrt(-2 * std::log(1 - u)) * std::cos(2 * M_PI * v);
  }

 private:
  uint64_t state_;
};

class TrainerCliTest : public ::testing::Test {
 protected:
  TrainerCliTest() : uri_("sqlite:///" + (dir_ / "mlruns.db").string()) {}

  ProcessOptions Options() const {
    ProcessOptions options;
    options.cwd = dir_.path();
    return options;
  }
  // mlt args... --tracking-uri <this test's database>
  ProcessResult Mlt(std::vector<std::string> args) {
    args.push_back("--tracking-uri");
    args.push_back(uri_);
    return RunMlt(args, Options());
  }
  // mpirun -np <ranks> mlt args... --tracking-uri <uri>
  ProcessResult MpiMlt(int ranks, std::vector<std::string> args) {
    std::vector<std::string> argv = {"mpirun", "-np", std::to_string(ranks), "--oversubscribe",
                                     "--allow-run-as-root", MLT_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--tracking-uri");
    argv.push_back(uri_);
    ProcessOptions options = Options();
    options.unset_env = {"MLT_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLT_RUN_ID"};
    return RunProcess(argv, options);
  }
  tracking::TrackingStore& Store() {
    if (!store_) store_ = tracking::OpenTrackingStore(uri_);
    return *store_;
  }
  // Every run of every experiment.
  std::vector<::mltrack::Run> Runs() {
    RunSearch search;
    for (const auto& e : Store().SearchExperiments({}).items) {
      search.experiment_ids.push_back(e.experiment_id);
    }
    if (search.experiment_ids.empty()) return {};
    return Store().SearchRuns(search).items;
  }

  TempDir dir_;
  std::string uri_;
  std::shared_ptr<tracking::TrackingStore> store_;
};

inline std::string Param(const ::mltrack::Run& run, const std::string& key) {
  for (const auto& p : run.data.params) {
    if (p.key == key) return p.value;
  }
  return "<absent>";
}

inline double MetricValue(const ::mltrack::Run& run, const std::string& key) {
  for (const auto& m : run.data.metrics) {
    if (m.key == key) return m.value;
  }
  return NAN;
}

}  // namespace mltrack::testing
