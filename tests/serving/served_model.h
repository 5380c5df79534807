// What the scoring server's tests share: the bundles they serve (real models trained here and
// saved to a temporary folder once per process) and a served model with a client.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/http_client.h"
#include "serving/scoring_server.h"
#include "support/test_support.h"

namespace mltrack::serving::test {

// Logistic regression and random forest classifiers of labels "no"/"yes" over columns x1, x2
// (the label is whether x1 + x2 > 0, with a wide empty margin), a forest regressor of 10 and
// -10 on the same rows, and an ALS model of a small checkerboard (cold start "drop").
struct Bundles {
  Bundles();
  ::mltrack::testing::TempDir dir;
  std::filesystem::path logistic = dir / "logistic", forest = dir / "forest";
  std::filesystem::path regression = dir / "regression", als = dir / "als";
};

// Saves the logistic regression of the bundles, with labels `negative` and `positive`, at `dir`.
void SaveLogistic(const std::filesystem::path& dir, const std::string& negative,
                  const std::string& positive);

// Trained once per process (and left for the process's lifetime).
const Bundles& TheBundles();

http::ClientOptions TestClientOptions();

// A ScoringServer on an ephemeral loopback port (tracking store in a temporary folder unless the
// options name one) and a client of it.
class Served {
 public:
  explicit Served(const std::filesystem::path& bundle, ScoringServerOptions options = {});
  explicit Served(ScoringServerOptions options);
  ScoringServer& server() { return *server_; }
  http::Client& client() { return *client_; }
  http::Result Post(const std::string& path, const std::string& body,
                    const std::string& content_type = "application/json");
  http::Result Invoke(const std::string& body,
                      const std::string& content_type = "application/json");
  // The value of one series of /metrics ("name{labels}"); -1 when absent.
  double Metric(const std::string& series);

 private:
  ::mltrack::testing::TempDir tracking_dir_;
  std::unique_ptr<ScoringServer> server_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace mltrack::serving::test
