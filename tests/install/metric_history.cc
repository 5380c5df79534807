// Prints the whole history of metrics of a run, one "<key> <step> <value>" line per point, read
// through the installed client: the program the install test builds with pkg-config.
//   metric_history <run id> <key>...      (the tracking URI comes from MLT_TRACKING_URI)
#include <mltrack/client.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: metric_history <run id> <key>...\n");
    return 2;
  }
  try {
    mltrack::Client client;
    for (int i = 2; i < argc; ++i) {
      for (const mltrack::Metric& m : client.GetMetricHistory(argv[1], argv[i])) {
        std::printf("%s %lld %.17g\n", m.key.c_str(), static_cast<long long>(m.step), m.value);
      }
    }
    return 0;
  } catch (const mltrack::Error& e) {
    std::fprintf(stderr, "metric_history: error: %s\n", e.what());
    return 1;
  }
}
