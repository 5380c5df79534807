// A child process for the client tests, so that "the process ends" is real.
//   client_child two-threads <tracking uri> <metrics per thread>   logs from two threads, exits
//   client_child throw <tracking uri>                              an exception unwinds the run
// Prints the run id on the first line of stdout.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "mltrack/client.h"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::string mode = argv[1];
  mltrack::Client client({.tracking_uri = argv[2]});
  if (mode == "two-threads" && argc == 4) {
    const int n = std::atoi(argv[3]);
    auto run = client.StartRun({.experiment = "child", .run_name = "two-threads"});
    std::printf("%s\n", run.run_id().c_str());
    std::fflush(stdout);
    run.LogParam("n", n);
    auto log = [&](const char* key) {
      for (int i = 0; i < n; ++i) run.LogMetric(key, i * 0.5, i);
    };
    std::thread a(log, "a");
    std::thread b(log, "b");
    a.join();
    b.join();
    return 0;  // ~ActiveRun flushes and ends the run FINISHED
  }
  if (mode == "throw") {
    try {
      auto run = client.StartRun({.experiment = "child", .run_name = "throws"});
      std::printf("%s\n", run.run_id().c_str());
      std::fflush(stdout);
      run.LogMetric("before", 1.0);
      throw std::runtime_error("training diverged");
    } catch (const std::runtime_error& e) {
      std::fprintf(stderr, "caught: %s\n", e.what());
      return 3;
    }
  }
  return 2;
}
