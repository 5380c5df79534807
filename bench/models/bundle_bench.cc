// Benchmarks of model bundles: array files (the layout trainers store weights in, CRC-32 checked
// on every read), bundle archives, and loading a registered model by URI.
//
//   BM_WriteArrayFile/64     64 MiB of float64 written (temp file + rename)      bytes/s
//   BM_ReadArrayFile/64      the same read back, header and payload CRC checked   bytes/s
//   BM_ExportBundle/64       a 64 MiB bundle as a deterministic .tar.gz           bytes/s
//   BM_ImportBundle/64       and extracted with every safety check                bytes/s
//   BM_LoadModelsUri         models:/bench@prod through a SQLite registry: resolve the alias,
//                            copy the bundle out of the run's artifacts, load it  latency
//
// Files go under $MLT_BENCH_DIR (default /var/tmp): the disk, not a tmpfs.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "mltrack/client.h"
#include "models/bundle/archive.h"
#include "models/bundle/array_file.h"
#include "models/bundle/flavor_registry.h"
#include "models/bundle/mlmodel.h"
#include "registry/model_uri.h"

namespace mltrack::models {
namespace {

namespace fs = std::filesystem;

class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("MLT_BENCH_DIR");
    path_ = fs::path(base ? base : "/var/tmp") /
            ("mlt-bundle-bench-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~BenchDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

std::vector<double> RandomValues(size_t n) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal;
  std::vector<double> values(n);
  for (auto& v : values) v = normal(rng);
  return values;
}

size_t Count(const benchmark::State& state) {
  return static_cast<size_t>(state.range(0)) << 20 >> 3;  // MiB of float64
}

// A bundle of one float64 matrix of `count` values under the flavor "bench.matrix".
void WriteMatrixBundle(const fs::path& dir, const std::vector<double>& values) {
  fs::create_directories(dir);
  ModelMeta meta = NewModelMeta();
  meta.flavors["bench.matrix"] = {{"data", "matrix.bin"}, {"format_version", 1}};
  WriteMlmodel(dir / "MLmodel", meta);
  std::vector<uint64_t> shape{values.size() / 64, 64};
  WriteArrayFile(dir / "matrix.bin", shape, std::span<const double>(values));
}

void BM_WriteArrayFile(benchmark::State& state) {
  BenchDir dir;
  auto values = RandomValues(Count(state));
  std::vector<uint64_t> shape{values.size()};
  for (auto _ : state) WriteArrayFile(dir.path() / "a.bin", shape, std::span<const double>(values));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(values.size() * 8));
}
BENCHMARK(BM_WriteArrayFile)->Arg(64)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ReadArrayFile(benchmark::State& state) {
  BenchDir dir;
  auto values = RandomValues(Count(state));
  std::vector<uint64_t> shape{values.size()};
  WriteArrayFile(dir.path() / "a.bin", shape, std::span<const double>(values));
  for (auto _ : state) benchmark::DoNotOptimize(ReadArrayFile<double>(dir.path() / "a.bin"));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(values.size() * 8));
}
BENCHMARK(BM_ReadArrayFile)->Arg(64)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ExportBundle(benchmark::State& state) {
  BenchDir dir;
  WriteMatrixBundle(dir.path() / "bundle", RandomValues(Count(state)));
  for (auto _ : state) ExportBundle(dir.path() / "bundle", dir.path() / "bundle.tar.gz");
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(Count(state) * 8));
}
BENCHMARK(BM_ExportBundle)->Arg(64)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ImportBundle(benchmark::State& state) {
  BenchDir dir;
  WriteMatrixBundle(dir.path() / "bundle", RandomValues(Count(state)));
  ExportBundle(dir.path() / "bundle", dir.path() / "bundle.tar.gz");
  for (auto _ : state) {
    ImportBundle(dir.path() / "bundle.tar.gz", dir.path() / "out");
    state.PauseTiming();
    fs::remove_all(dir.path() / "out");
    state.ResumeTiming();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(Count(state) * 8));
}
BENCHMARK(BM_ImportBundle)->Arg(64)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

class MatrixModel final : public Model {
 public:
  explicit MatrixModel(Array<double> matrix) : matrix_(std::move(matrix)) {}
  Table Predict(const Table& input) const override { return input; }
  std::string flavor() const override { return "bench.matrix"; }

 private:
  Array<double> matrix_;
};

void BM_LoadModelsUri(benchmark::State& state) {
  BenchDir dir;
  std::string uri = "sqlite:///" + (dir.path() / "mlruns.db").string();
  WriteMatrixBundle(dir.path() / "bundle", RandomValues(64 * 1024));  // 512 KiB of weights
  {
    Client client({.tracking_uri = uri});
    auto run = client.StartRun({.experiment = "bench"});
    run.LogModel(dir.path() / "bundle", "model", {.registered_model_name = "bench"});
  }
  registry::ModelResolver resolver(uri);
  resolver.registry().SetRegisteredModelAlias("bench", "prod", "1");
  FlavorRegistry flavors;
  flavors.Register("bench.matrix", [](const fs::path& bundle, const ModelMeta&) {
    return std::make_unique<MatrixModel>(ReadArrayFile<double>(bundle / "matrix.bin"));
  });
  for (auto _ : state) benchmark::DoNotOptimize(resolver.Load("models:/bench@prod", flavors));
}
BENCHMARK(BM_LoadModelsUri)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace
}  // namespace mltrack::models

BENCHMARK_MAIN();
