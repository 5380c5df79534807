// Logs one run through the installed client: the proof that find_package(mltrack) works.
#include <mltrack/client.h>

#include <cstdio>

int main() {
  mltrack::Client client;
  auto run = client.StartRun({.experiment = "outside", .run_name = "consumer-run"});
  run.LogParam("source", "find_package");
  for (int step = 0; step < 10; ++step) run.LogMetric("loss", 1.0 / (step + 1), step);
  std::printf("%s\n", run.run_id().c_str());
  return 0;
}
