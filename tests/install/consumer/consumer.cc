// Logs one run, with a model, through the installed client: the proof that
// find_package(mltrack) works, models and registry included.
#include <mltrack/client.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

int main() {
  namespace fs = std::filesystem;
  mltrack::Client client;
  auto run = client.StartRun({.experiment = "outside", .run_name = "consumer-run"});
  run.LogParam("source", "find_package");
  for (int step = 0; step < 10; ++step) run.LogMetric("loss", 1.0 / (step + 1), step);

  // A minimal bundle written by hand: an MLmodel naming a flavor and its data file.
  fs::path bundle = fs::temp_directory_path() / ("consumer-bundle-" + run.run_id());
  fs::create_directories(bundle);
  std::ofstream(bundle / "MLmodel") << "flavors:\n  outside.flavor:\n    data: weights.txt\n"
                                       "    format_version: 1\n"
                                       "utc_time_created: '2026-11-22 10:00:00.000000'\n";
  std::ofstream(bundle / "weights.txt") << "1 2 3\n";
  auto logged = run.LogModel(bundle, "model", {.registered_model_name = "outside-model"});
  fs::remove_all(bundle);
  std::printf("%s %s\n", run.run_id().c_str(), logged.registered_version.c_str());
  return 0;
}
