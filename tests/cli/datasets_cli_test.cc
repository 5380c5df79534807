// `mlt datasets generate ...` end to end: the built binary, with exact stdout, stderr and exit
// codes, and the files it writes read back.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/data/csv.h"
#include "models/data/generators.h"
#include "cli/cli_expect.h"
#include "support/test_support.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ExpectOutput;
using ::mltrack::testing::ExpectError;
using ::mltrack::testing::ExpectUsageError;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::RunMlt;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> DirEntries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class DatasetsCli : public ::testing::Test {
 protected:
  ProcessResult Mlt(const std::vector<std::string>& args) {
    ::mltrack::testing::ProcessOptions options;
    options.cwd = dir_.path();
    return RunMlt(args, options);
  }

  TempDir dir_;
};

TEST_F(DatasetsCli, GeneratesClassificationWithTheDefaults) {
  ExpectOutput(Mlt({"datasets", "generate", "classification", "-o", "data.csv"}),
               "Wrote 1000 rows x 21 columns to data.csv\n");
  std::vector<std::string> lines = Lines(ReadFile(dir_ / "data.csv"));
  ASSERT_EQ(lines.size(), 1001u);
  EXPECT_EQ(lines[0],
            "f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,label");
  // Nothing but the file was left behind (no temporary file, no tracking store).
  EXPECT_EQ(DirEntries(dir_.path()), std::vector<std::string>{"data.csv"});
}

TEST_F(DatasetsCli, TheFileHoldsTheGeneratorsRows) {
  // More rows than one chunk of the writer, so chunk boundaries are covered.
  ExpectOutput(Mlt({"datasets", "generate", "classification", "-o", "big.csv", "--rows", "70000",
                    "--features", "4", "--informative", "2", "--redundant", "1", "--classes",
                    "2", "--clusters-per-class", "1", "--class-sep", "1.5", "--flip-y", "0.05",
                    "--seed", "12"}),
               "Wrote 70000 rows x 5 columns to big.csv\n");
  data::ClassificationSpec spec;
  spec.rows = 70000;
  spec.features = 4;
  spec.informative = 2;
  spec.redundant = 1;
  spec.clusters_per_class = 1;
  spec.class_sep = 1.5;
  spec.flip_y = 0.05;
  spec.seed = 12;
  data::CsvData read = data::ReadCsv(dir_ / "big.csv");
  EXPECT_EQ(read.table, data::MakeClassification(spec));
}

TEST_F(DatasetsCli, TheSameSeedWritesTheSameBytes) {
  const std::vector<std::string> base = {"datasets", "generate", "regression", "--rows", "300",
                                         "--features", "5", "--informative", "3", "--noise",
                                         "0.5"};
  auto run = [&](const std::string& file, const std::string& seed) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--seed", seed, "--output", file});
    ExpectOutput(Mlt(args), fmt::format("Wrote 300 rows x 6 columns to {}\n", file));
    return ReadFile(dir_ / file);
  };
  std::string a = run("a.csv", "7");
  std::string b = run("b.csv", "7");
  std::string c = run("c.csv", "8");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(Lines(a)[0], "f0,f1,f2,f3,f4,label");
  EXPECT_EQ(Lines(a).size(), 301u);
}

TEST_F(DatasetsCli, GeneratesRatings) {
  ExpectOutput(Mlt({"datasets", "generate", "ratings", "-o", "ratings.csv", "--users", "50",
                    "--items", "40", "--ratings", "600", "--rank", "4", "--noise", "0.3"}),
               "Wrote 600 rows x 4 columns to ratings.csv\n");
  data::CsvData read = data::ReadCsv(dir_ / "ratings.csv");
  data::RatingsSpec spec;
  spec.users = 50;
  spec.items = 40;
  spec.ratings = 600;
  spec.rank = 4;
  spec.noise = 0.3;
  EXPECT_EQ(read.table, data::MakeRatings(spec));
  EXPECT_EQ(Lines(ReadFile(dir_ / "ratings.csv"))[0], "user,item,rating,timestamp");
}

TEST_F(DatasetsCli, ReplacesAnExistingFile) {
  WriteFile(dir_ / "data.csv", "old\n");
  ExpectOutput(Mlt({"datasets", "generate", "regression", "-o", "data.csv", "--rows", "2"}),
               "Wrote 2 rows x 21 columns to data.csv\n");
  EXPECT_EQ(Lines(ReadFile(dir_ / "data.csv")).size(), 3u);
}

TEST_F(DatasetsCli, RejectsBadOptionsAsUsageErrors) {
  ExpectUsageError(Mlt({"datasets", "generate", "classification", "-o", "x.csv", "--rows", "0"}),
                   "--rows: expected a positive integer, got '0'");
  ExpectUsageError(
      Mlt({"datasets", "generate", "classification", "-o", "x.csv", "--features", "many"}),
      "--features: expected a positive integer, got 'many'");
  ExpectUsageError(
      Mlt({"datasets", "generate", "classification", "-o", "x.csv", "--classes", "1"}),
      "--classes: expected an integer >= 2, got '1'");
  ExpectUsageError(
      Mlt({"datasets", "generate", "classification", "-o", "x.csv", "--flip-y", "2"}),
      "--flip-y: expected a number from 0 to 1, got '2'");
  ExpectUsageError(
      Mlt({"datasets", "generate", "classification", "-o", "x.csv", "--class-sep", "abc"}),
      "--class-sep: expected a number >= 0, got 'abc'");
  ExpectUsageError(Mlt({"datasets", "generate", "regression", "-o", "x.csv", "--noise", "nan"}),
                   "--noise: expected a number >= 0, got 'nan'");
  ExpectUsageError(Mlt({"datasets", "generate", "ratings", "-o", "x.csv", "--seed", "-1"}),
                   "--seed: expected an integer >= 0, got '-1'");
  ExpectUsageError(Mlt({"datasets", "generate", "ratings"}), "--output is required");
  ExpectUsageError(Mlt({"datasets", "generate", "images", "-o", "x.csv"}),
                   "The following arguments were not expected: x.csv -o images");
  EXPECT_TRUE(DirEntries(dir_.path()).empty());
}

TEST_F(DatasetsCli, AnInconsistentSpecIsRefusedAndWritesNothing) {
  ExpectError(Mlt({"datasets", "generate", "classification", "-o", "x.csv", "--features", "28",
                   "--informative", "30", "--redundant", "4"}),
              1, "Invalid classification spec: informative (30) + redundant (4) exceeds "
                 "features (28)");
  ExpectError(Mlt({"datasets", "generate", "regression", "-o", "x.csv", "--informative", "21"}),
              1, "Invalid regression spec: informative (21) exceeds features (20)");
  ExpectError(Mlt({"datasets", "generate", "ratings", "-o", "x.csv", "--users", "10",
                   "--items", "10", "--ratings", "101"}),
              1, "Invalid ratings spec: ratings (101) exceeds users (10) * items (10)");
  EXPECT_TRUE(DirEntries(dir_.path()).empty());
  // An existing file is left as it was.
  WriteFile(dir_ / "keep.csv", "old\n");
  ExpectError(Mlt({"datasets", "generate", "classification", "-o", "keep.csv", "--classes",
                   "3"}),
              1, "Invalid classification spec: classes (3) * clusters_per_class (2) exceeds "
                 "2^informative (4)");
  EXPECT_EQ(ReadFile(dir_ / "keep.csv"), "old\n");
  EXPECT_EQ(DirEntries(dir_.path()), std::vector<std::string>{"keep.csv"});
}

TEST_F(DatasetsCli, HelpListsTheGenerators) {
  ProcessResult r = Mlt({"datasets", "generate", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, ::testing::HasSubstr("classification"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("regression"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("ratings"));
  EXPECT_THAT(Mlt({"--help"}).out, ::testing::HasSubstr("  datasets  "));
}

}  // namespace
}  // namespace mltrack
