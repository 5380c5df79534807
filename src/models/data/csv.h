// Reading real CSV files into a models::Table (the same column types a scoring request carries),
// remembering each row's line number so that later errors can point at the file and line.
//
// Dialect: RFC 4180 quoting ("a,b" and "" escapes, quoted fields may span lines), a chosen
// one-character delimiter, optional header, spaces after the delimiter ignored (the ", "-style of
// UCI files such as Adult), CRLF or LF line ends, a UTF-8 BOM skipped, blank lines skipped, a
// last line without a newline. Missing-value tokens (after trimming) become NaN in numeric
// columns and the empty string in string columns.
// There are no comment lines: a first line such as adult.test's "|1x3 Cross validator" is a row
// like any other (without a header it sets the number of fields, so the next line is reported as
// ragged: "adult.test: line 2: expected 1 field, found 15"); callers skip such lines themselves.
//
// Types: each column is inferred from the first `inference_rows` data rows of the whole file
// (the same rows on every rank, so that all ranks agree): all values integers -> kLong, all
// numbers -> kDouble, "true"/"false" -> kBoolean, else kString; a column of only missing values
// is kDouble. `types` overrides a column's type. A later value that does not parse as the
// column's type is an error (naming the file, line, column and value, and suggesting the
// override), never a silent NaN.
//
// Sharding: with num_shards > 1, shard s reads only the rows whose first byte lies in
// [s * size / num_shards, (s + 1) * size / num_shards) of the file (the header is read by all):
// the shards partition the rows, and each rank reads about 1/num_shards of the bytes. A quoted
// field spanning lines cannot be sharded reliably: such a file is refused when sharded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/bundle/signature.h"

namespace mltrack::data {

struct CsvOptions {
  char delimiter = ',';
  bool has_header = true;
  // Without a header: the column names (empty: "c0", "c1", ...). With one: ignored.
  std::vector<std::string> column_names;
  std::vector<std::string> missing_tokens = {"", "?", "NA"};
  // Type overrides by column name: kLong, kDouble, kBoolean or kString. Unknown names are an
  // error naming them.
  std::map<std::string, models::DataType> types;
  size_t inference_rows = 10'000;
  int shard = 0;
  int num_shards = 1;
};

struct CsvData {
  std::string path;               // as given, for messages
  models::Table table;            // columns: vector<int64_t>, vector<double>, vector<bool> or
                                  // vector<std::string>
  std::vector<int64_t> lines;     // 1-based line number of each row in the file
};

// Throws Error(kInvalidParameterValue) naming the file and line (and column where it applies):
//   "train.csv: line 7: expected 15 fields, found 14"
//   "train.csv: line 9, column 'age': 'x1' is not a number (the column is long; override its type
//    to read it as a string)"
//   "train.csv: the file is empty" / "train.csv: line 3: unterminated quoted field"
// Error(kResourceDoesNotExist) when the file does not exist.
CsvData ReadCsv(const std::filesystem::path& path, const CsvOptions& options = {});

// Writes `table` as CSV with a header (numbers in their shortest round-trip form, NaN as empty,
// strings quoted when they need it), through a temporary file renamed into place.
void WriteCsv(const std::filesystem::path& path, const models::Table& table);

// WriteCsv in pieces, for tables too large to hold at once (e.g. generated data sets written
// chunk by chunk): the header comes from the first Append, every later table must have the same
// column names and types. Nothing appears at `path` until Commit; a writer destroyed without
// Commit leaves no file. Throws Error(kIoError) when the file cannot be written.
class CsvWriter {
 public:
  explicit CsvWriter(const std::filesystem::path& path);
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  void Append(const models::Table& table);
  void Commit();
  uint64_t rows_written() const { return rows_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t rows_ = 0;
};

}  // namespace mltrack::data
