#include "cli/datasets_command.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "models/data/csv.h"
#include "models/data/generators.h"

namespace mltrack::cli {
namespace {

// Rows generated and written at a time: memory stays bounded whatever --rows is.
constexpr uint64_t kChunkRows = 65'536;

// A CLI11 validator for a decimal integer >= min that fits in T, e.g. "expected an integer >= 0,
// got 'x'".
template <typename T>
CLI::Validator IntegerValidator(T min) {
  std::string expected = min == 1 ? "a positive integer" : fmt::format("an integer >= {}", min);
  return CLI::Validator(
      [min, expected](std::string& text) -> std::string {
        T value{};
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc() || ptr != end || value < min) {
          return fmt::format("expected {}, got '{}'", expected, text);
        }
        return {};
      },
      min == 1 ? "POSITIVE" : "INT");
}

// A CLI11 validator for a finite decimal number in [min, max], e.g. "expected a number from 0
// to 1, got '2'".
CLI::Validator NumberValidator(double min, double max = std::numeric_limits<double>::infinity()) {
  std::string expected = std::isinf(max) ? fmt::format("a number >= {}", min)
                                         : fmt::format("a number from {} to {}", min, max);
  return CLI::Validator(
      [min, max, expected](std::string& text) -> std::string {
        double value = 0.0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value) ||
            value < min || value > max) {
          return fmt::format("expected {}, got '{}'", expected, text);
        }
        return {};
      },
      "NUMBER");
}

void AddOutputOption(CLI::App& command, std::string* output) {
  command.add_option("-o,--output", *output, "The CSV file to write (replaced if it exists)")
      ->required()
      ->type_name("FILE");
}

// --rows and --features of the classification and regression sets (both default 1000 x 20).
void AddShapeOptions(CLI::App& command, uint64_t* rows, int* features) {
  command.add_option("--rows", *rows, "Number of rows (default 1000)")
      ->type_name("N")
      ->check(IntegerValidator<uint64_t>(1));
  command.add_option("--features", *features, "Number of feature columns (default 20)")
      ->type_name("N")
      ->check(PositiveIntValidator());
}

void AddSeedOption(CLI::App& command, uint64_t* seed) {
  command.add_option("--seed", *seed, "Seed of the random streams (default 0)")
      ->type_name("N")
      ->check(IntegerValidator<uint64_t>(0));
}

// Writes rows [0, rows) of `generate(first, count)` to `path` in chunks. The spec is checked
// (by generating no rows) before the file is opened, so nothing is written for a bad spec; the
// writer renames its temporary file into place only at Commit.
void WriteGenerated(const std::string& path, uint64_t rows,
                    const std::function<models::Table(uint64_t first, uint64_t count)>& generate) {
  models::Table header = generate(0, 0);
  data::CsvWriter writer(path);
  if (rows == 0) writer.Append(header);
  for (uint64_t first = 0; first < rows; first += std::min(kChunkRows, rows - first)) {
    writer.Append(generate(first, std::min(kChunkRows, rows - first)));
  }
  writer.Commit();
  Print(fmt::format("Wrote {} rows x {} columns to {}\n", writer.rows_written(),
                    header.columns().size(), path));
}

// --- generate classification ---------------------------------------------------------------------

void SetupClassification(CLI::App& command, GlobalOptions&) {
  struct Options {
    std::string output;
    data::ClassificationSpec spec;
  };
  auto options = std::make_shared<Options>();
  data::ClassificationSpec& spec = options->spec;
  AddOutputOption(command, &options->output);
  AddShapeOptions(command, &spec.rows, &spec.features);
  command.add_option("--informative", spec.informative,
                     "Features that carry the classes (default 2)")
      ->type_name("N")
      ->check(PositiveIntValidator());
  command.add_option("--redundant", spec.redundant,
                     "Features that are linear combinations of the informative ones (default 2)")
      ->type_name("N")
      ->check(IntegerValidator<int>(0));
  command.add_option("--classes", spec.classes, "Number of classes (default 2)")
      ->type_name("N")
      ->check(IntegerValidator<int>(2));
  command.add_option("--clusters-per-class", spec.clusters_per_class,
                     "Gaussian clusters per class (default 2)")
      ->type_name("N")
      ->check(PositiveIntValidator());
  command.add_option("--class-sep", spec.class_sep,
                     "Half the side of the hypercube the clusters sit on (default 1.0)")
      ->type_name("X")
      ->check(NumberValidator(0.0));
  command.add_option("--flip-y", spec.flip_y,
                     "Fraction of labels replaced by a random class (default 0.01)")
      ->type_name("P")
      ->check(NumberValidator(0.0, 1.0));
  AddSeedOption(command, &spec.seed);
  command.callback([options] {
    WriteGenerated(options->output, options->spec.rows, [&](uint64_t first, uint64_t count) {
      return data::MakeClassification(options->spec, first, count);
    });
  });
}

// --- generate regression -------------------------------------------------------------------------

void SetupRegression(CLI::App& command, GlobalOptions&) {
  struct Options {
    std::string output;
    data::RegressionSpec spec;
  };
  auto options = std::make_shared<Options>();
  data::RegressionSpec& spec = options->spec;
  AddOutputOption(command, &options->output);
  AddShapeOptions(command, &spec.rows, &spec.features);
  command.add_option("--informative", spec.informative,
                     "Features with a non-zero weight (default 10)")
      ->type_name("N")
      ->check(IntegerValidator<int>(0));
  command.add_option("--noise", spec.noise,
                     "Standard deviation of the noise added to the label (default 0.1)")
      ->type_name("X")
      ->check(NumberValidator(0.0));
  AddSeedOption(command, &spec.seed);
  command.callback([options] {
    WriteGenerated(options->output, options->spec.rows, [&](uint64_t first, uint64_t count) {
      return data::MakeRegression(options->spec, first, count);
    });
  });
}

// --- generate ratings ----------------------------------------------------------------------------

void SetupRatings(CLI::App& command, GlobalOptions&) {
  struct Options {
    std::string output;
    data::RatingsSpec spec;
  };
  auto options = std::make_shared<Options>();
  data::RatingsSpec& spec = options->spec;
  AddOutputOption(command, &options->output);
  command.add_option("--users", spec.users, "Number of users (default 1000)")
      ->type_name("N")
      ->check(PositiveIntValidator());
  command.add_option("--items", spec.items, "Number of items (default 500)")
      ->type_name("N")
      ->check(PositiveIntValidator());
  command.add_option("--ratings", spec.ratings,
                     "Number of ratings, at most users x items (default 50000)")
      ->type_name("N")
      ->check(IntegerValidator<uint64_t>(1));
  command.add_option("--rank", spec.rank, "Rank of the user and item factors (default 10)")
      ->type_name("N")
      ->check(PositiveIntValidator());
  command.add_option("--noise", spec.noise,
                     "Standard deviation of the noise added to a rating (default 0.5)")
      ->type_name("X")
      ->check(NumberValidator(0.0));
  AddSeedOption(command, &spec.seed);
  command.callback([options] {
    WriteGenerated(options->output, options->spec.ratings, [&](uint64_t first, uint64_t count) {
      return data::MakeRatings(options->spec, first, count);
    });
  });
}

void SetupGenerate(CLI::App& command, GlobalOptions& global) {
  AddCommands(command, global,
              {
                  {"classification",
                   "Gaussian clusters on hypercube vertices (like scikit-learn's "
                   "make_classification): f0.. (double), label (long)",
                   SetupClassification},
                  {"regression",
                   "y = X w + noise (like scikit-learn's make_regression): f0.., label (double)",
                   SetupRegression},
                  {"ratings",
                   "Low-rank user x item ratings with Zipf item popularity: user, item, rating, "
                   "timestamp",
                   SetupRatings},
              });
}

}  // namespace

void SetupDatasetsCommand(CLI::App& command, GlobalOptions& global) {
  AddCommands(command, global,
              {
                  {"generate", "Write a deterministic synthetic data set as CSV", SetupGenerate},
              });
}

}  // namespace mltrack::cli
