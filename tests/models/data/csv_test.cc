// ReadCsv, WriteCsv and CsvWriter: the dialect, type inference, sharded reads and the errors.
#include "models/data/csv.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack::data {
namespace {

using models::DataType;
using models::Table;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using mltrack::testing::TempDir;
using mltrack::testing::WriteFile;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class CsvTest : public ::testing::Test {
 protected:
  // Writes `text` as `name` in the temp folder and reads it.
  CsvData Read(const std::string& text, const CsvOptions& options = {},
               const std::string& name = "t.csv") {
    WriteFile(dir_ / name, text);
    return ReadCsv(dir_ / name, options);
  }
  std::string PathOf(const std::string& name) const { return (dir_ / name).string(); }

  TempDir dir_;
};

template <class T>
const std::vector<T>& Values(const CsvData& data, const std::string& name) {
  const models::Column* column = data.table.Find(name);
  EXPECT_NE(column, nullptr) << name;
  return std::get<std::vector<T>>(column->values);
}

std::vector<std::string> Names(const Table& table) {
  std::vector<std::string> names;
  for (const auto& c : table.columns()) names.push_back(c.name);
  return names;
}

TEST_F(CsvTest, ReadsAHeaderAndInfersTypes) {
  CsvData data = Read("id,x,name,flag\n1,1.5,a,true\n2,-2,b,false\n3,1e3,c,TRUE\n");
  EXPECT_EQ(data.path, PathOf("t.csv"));
  EXPECT_THAT(Names(data.table), ElementsAre("id", "x", "name", "flag"));
  EXPECT_THAT(Values<int64_t>(data, "id"), ElementsAre(1, 2, 3));
  EXPECT_THAT(Values<double>(data, "x"), ElementsAre(1.5, -2.0, 1000.0));
  EXPECT_THAT(Values<std::string>(data, "name"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Values<bool>(data, "flag"), ElementsAre(true, false, true));
  EXPECT_THAT(data.lines, ElementsAre(2, 3, 4));
}

TEST_F(CsvTest, WithoutAHeaderNamesColumnsOrTakesTheGivenNames) {
  CsvData data = Read("1,a\n2,b\n", {.has_header = false});
  EXPECT_THAT(Names(data.table), ElementsAre("c0", "c1"));
  EXPECT_THAT(Values<int64_t>(data, "c0"), ElementsAre(1, 2));
  EXPECT_THAT(data.lines, ElementsAre(1, 2));

  CsvData named = Read("1,a\n2,b\n", {.has_header = false, .column_names = {"n", "s"}});
  EXPECT_THAT(Names(named.table), ElementsAre("n", "s"));
  EXPECT_THAT(Values<std::string>(named, "s"), ElementsAre("a", "b"));
}

TEST_F(CsvTest, OtherDelimiter) {
  CsvData data = Read("a;b\n1,5;x,y\n", {.delimiter = ';'});
  EXPECT_THAT(Values<std::string>(data, "a"), ElementsAre("1,5"));
  EXPECT_THAT(Values<std::string>(data, "b"), ElementsAre("x,y"));

  CsvData tabs = Read("a\tb\n1\t2\n", {.delimiter = '\t'});
  EXPECT_THAT(Values<int64_t>(tabs, "b"), ElementsAre(2));
}

TEST_F(CsvTest, Quoting) {
  CsvData data = Read(
      "name,text\n"
      "1,\"a,b\"\n"
      "2,\"say \"\"hi\"\"\"\n"
      "3,\"two\nlines\"\n"
      "4, \"spaced\" \n"
      "5,\"NA\"\n");
  EXPECT_THAT(Values<std::string>(data, "text"),
              ElementsAre("a,b", "say \"hi\"", "two\nlines", "spaced", "NA"));
  // The row after the two-line field starts on line 6.
  EXPECT_THAT(data.lines, ElementsAre(2, 3, 4, 6, 7));
}

TEST_F(CsvTest, QuotedHeaderNames) {
  CsvData data = Read("\"a,1\",\"b\"\"\"\n1,2\n");
  EXPECT_THAT(Names(data.table), ElementsAre("a,1", "b\""));
}

TEST_F(CsvTest, SpacesAfterTheDelimiterAreIgnored) {
  // The Adult style: ", " between fields, "?" for missing.
  CsvData data = Read("39, State-gov, 77516, ?\n50, ?, 83311, 13\n",
                      {.has_header = false, .column_names = {"age", "work", "fnlwgt", "n"}});
  EXPECT_THAT(Values<int64_t>(data, "age"), ElementsAre(39, 50));
  EXPECT_THAT(Values<std::string>(data, "work"), ElementsAre("State-gov", ""));
  EXPECT_THAT(Values<int64_t>(data, "fnlwgt"), ElementsAre(77516, 83311));
  const auto& n = Values<double>(data, "n");
  ASSERT_EQ(n.size(), 2u);
  EXPECT_TRUE(std::isnan(n[0]));
  EXPECT_EQ(n[1], 13.0);
}

TEST_F(CsvTest, CrlfBomBlankLinesAndNoFinalNewline) {
  CsvData data = Read("\xEF\xBB\xBF" "a,b\r\n\r\n1,x\r\n   \n\n2,y\r\n3,z");
  EXPECT_THAT(Names(data.table), ElementsAre("a", "b"));
  EXPECT_THAT(Values<int64_t>(data, "a"), ElementsAre(1, 2, 3));
  EXPECT_THAT(Values<std::string>(data, "b"), ElementsAre("x", "y", "z"));
  EXPECT_THAT(data.lines, ElementsAre(3, 6, 7));
}

TEST_F(CsvTest, MissingTokens) {
  CsvData data = Read("x,s\n1.5,NA\n,?\n?,\nNA,b\n");
  const auto& x = Values<double>(data, "x");
  EXPECT_EQ(x[0], 1.5);
  EXPECT_TRUE(std::isnan(x[1]) && std::isnan(x[2]) && std::isnan(x[3]));
  EXPECT_THAT(Values<std::string>(data, "s"), ElementsAre("", "", "", "b"));

  CsvData custom = Read("x\n-1\n5\n", {.missing_tokens = {"-1"}});
  EXPECT_TRUE(std::isnan(Values<double>(custom, "x")[0]));
}

TEST_F(CsvTest, TypeInference) {
  CsvData data = Read(
      "l,d,withmissing,b,mixed,empty,big\n"
      "1,1,1,true,1,,1\n"
      "-2,2.5,,false,true,?,99999999999999999999\n");
  EXPECT_EQ(models::ValueType(data.table.Find("l")->values), DataType::kLong);
  EXPECT_EQ(models::ValueType(data.table.Find("d")->values), DataType::kDouble);
  // Longs with a missing value: double (NaN).
  EXPECT_EQ(models::ValueType(data.table.Find("withmissing")->values), DataType::kDouble);
  EXPECT_EQ(models::ValueType(data.table.Find("b")->values), DataType::kBoolean);
  EXPECT_EQ(models::ValueType(data.table.Find("mixed")->values), DataType::kString);
  // Only missing values: double.
  EXPECT_EQ(models::ValueType(data.table.Find("empty")->values), DataType::kDouble);
  EXPECT_EQ(models::ValueType(data.table.Find("big")->values), DataType::kDouble);
}

TEST_F(CsvTest, InferenceUsesOnlyTheFirstRows) {
  std::string text = "x\n1\n2\n3.5\n";
  CsvData data = Read(text, {.inference_rows = 3});
  EXPECT_EQ(models::ValueType(data.table.Find("x")->values), DataType::kDouble);
  EXPECT_ERROR(Read(text, {.inference_rows = 2}), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": line 4, column 'x': '3.5' is not an integer (the column "
                                    "is long; override its type to read it as a double)"));
}

TEST_F(CsvTest, TypeOverride) {
  CsvData data = Read("zip,n,b\n02134,1,true\n10001,2,false\n",
                      {.types = {{"zip", DataType::kString},
                                 {"n", DataType::kDouble},
                                 {"b", DataType::kString}}});
  EXPECT_THAT(Values<std::string>(data, "zip"), ElementsAre("02134", "10001"));
  EXPECT_THAT(Values<double>(data, "n"), ElementsAre(1.0, 2.0));
  EXPECT_THAT(Values<std::string>(data, "b"), ElementsAre("true", "false"));
}

TEST_F(CsvTest, UnknownOverrideColumn) {
  EXPECT_ERROR(Read("a,b\n1,2\n", {.types = {{"c", DataType::kString}}}),
               ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") +
                  ": type override for unknown column 'c' (the columns are 'a', 'b')"));
  EXPECT_ERROR(Read("a,b\n1,2\n", {.types = {{"a", DataType::kFloat}}}),
               ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": type override for column 'a' is float; it must be long, "
                                    "double, boolean or string"));
}

TEST_F(CsvTest, RaggedRow) {
  EXPECT_ERROR(Read("a,b,c\n1,2,3\n\n4,5\n"), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": line 4: expected 3 fields, found 2"));
  // A first line of one field without a header, like adult.test's comment line.
  EXPECT_ERROR(Read("|1x3 Cross validator\n25, Private, 226802\n", {.has_header = false}),
               ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": line 2: expected 1 field, found 3"));
}

TEST_F(CsvTest, UnparseableNumberInALongColumn) {
  std::string text = "age,b\n";
  for (int i = 0; i < 20; ++i) text += std::to_string(i) + ",x\n";
  text += "x1,y\n";
  EXPECT_ERROR(Read(text, {.inference_rows = 5}), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": line 22, column 'age': 'x1' is not a number (the column "
                                    "is long; override its type to read it as a string)"));
  CsvOptions as_string{.types = {{"age", DataType::kString}}, .inference_rows = 5};
  EXPECT_EQ(Values<std::string>(Read(text, as_string), "age").back(), "x1");
}

TEST_F(CsvTest, OtherBadValues) {
  std::string path = PathOf("t.csv");
  EXPECT_ERROR(Read("x\n1.5\nabc\n", {.inference_rows = 1}), ErrorCode::kInvalidParameterValue,
               Eq(path + ": line 3, column 'x': 'abc' is not a number (the column is double; "
                         "override its type to read it as a string)"));
  EXPECT_ERROR(Read("x\n1\n\n?\n", {.inference_rows = 1}), ErrorCode::kInvalidParameterValue,
               Eq(path + ": line 4, column 'x': missing value in a long column (override its "
                         "type to read it as a double)"));
  EXPECT_ERROR(Read("x\ntrue\nyes\n", {.inference_rows = 1}), ErrorCode::kInvalidParameterValue,
               Eq(path + ": line 3, column 'x': 'yes' is not true or false (the column is "
                         "boolean; override its type to read it as a string)"));
  EXPECT_ERROR(Read("x\n\"a\"b\n"), ErrorCode::kInvalidParameterValue,
               Eq(path + ": line 2: unexpected 'b' after the closing quote of field 1"));
}

TEST_F(CsvTest, UnterminatedQuote) {
  EXPECT_ERROR(Read("a,b\n1,2\n3,\"open\n4,5\n"), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": line 3: unterminated quoted field"));
}

TEST_F(CsvTest, EmptyFileAndHeaderOnly) {
  EXPECT_ERROR(Read(""), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": the file is empty"));
  EXPECT_ERROR(Read("\n \r\n"), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": the file is empty"));
  EXPECT_ERROR(Read("a,b\n"), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": the file has a header but no rows"));
}

TEST_F(CsvTest, NonexistentFile) {
  EXPECT_ERROR(ReadCsv(dir_ / "nope.csv"), ErrorCode::kResourceDoesNotExist,
               Eq(PathOf("nope.csv") + ": no such file"));
}

TEST_F(CsvTest, DuplicateHeaderName) {
  EXPECT_ERROR(Read("a,b,a\n1,2,3\n"), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": line 1: duplicate column name 'a'"));
}

// A file with blank lines, CRLF, quotes (on one line), missing values and a header, whose
// shards must together give the whole read.
std::string ShardingText(int rows) {
  std::string text = "\xEF\xBB\xBF" "id,x,s,flag\r\n";
  for (int i = 0; i < rows; ++i) {
    if (i % 7 == 3) text += "\n";
    if (i % 11 == 5) text += "  \r\n";
    text += std::to_string(i) + ", " + (i % 5 == 0 ? "?" : std::to_string(i * 0.25)) + ", ";
    text += i % 3 == 0 ? "\"q,\"\"" + std::to_string(i) + "\"" : "plain" + std::to_string(i);
    text += i % 2 ? ",true" : ",false";
    text += i % 4 == 1 ? "\r\n" : "\n";
  }
  return text;
}

void ExpectShardsEqualWhole(const std::filesystem::path& path, CsvOptions options) {
  CsvData whole = ReadCsv(path, options);
  for (int n = 1; n <= 7; ++n) {
    std::vector<int64_t> ids, lines;
    std::vector<std::string> strings;
    for (int s = 0; s < n; ++s) {
      options.shard = s;
      options.num_shards = n;
      CsvData part = ReadCsv(path, options);
      EXPECT_EQ(Names(part.table), Names(whole.table));
      const auto& id = std::get<std::vector<int64_t>>(part.table.Find("id")->values);
      ids.insert(ids.end(), id.begin(), id.end());
      lines.insert(lines.end(), part.lines.begin(), part.lines.end());
      const auto& s_values = std::get<std::vector<std::string>>(part.table.Find("s")->values);
      strings.insert(strings.end(), s_values.begin(), s_values.end());
      ASSERT_EQ(part.lines.size(), part.table.num_rows());
    }
    EXPECT_EQ(ids, std::get<std::vector<int64_t>>(whole.table.Find("id")->values)) << n;
    EXPECT_EQ(lines, whole.lines) << n;
    EXPECT_EQ(strings, std::get<std::vector<std::string>>(whole.table.Find("s")->values)) << n;
  }
}

TEST_F(CsvTest, ShardsTogetherEqualTheWholeRead) {
  WriteFile(dir_ / "s.csv", ShardingText(200));
  CsvData whole = ReadCsv(dir_ / "s.csv");
  ASSERT_EQ(whole.table.num_rows(), 200u);
  EXPECT_EQ(whole.lines.front(), 2);
  ExpectShardsEqualWhole(dir_ / "s.csv", {});
}

TEST_F(CsvTest, ShardsOfASmallFileIncludingMoreShardsThanRows) {
  WriteFile(dir_ / "s.csv", ShardingText(3));
  ExpectShardsEqualWhole(dir_ / "s.csv", {});
  WriteFile(dir_ / "n.csv", "id,s\n1,a\n\n2,b");
  ExpectShardsEqualWhole(dir_ / "n.csv", {});
}

TEST_F(CsvTest, ShardsAgreeOnTypesInferredFromTheWholeFile) {
  // Only the last rows have doubles: with inference over all rows every shard reads doubles.
  std::string text = "id,x,s\n";
  for (int i = 0; i < 50; ++i) text += std::to_string(i) + "," + (i < 45 ? "1" : "0.5") + ",a\n";
  WriteFile(dir_ / "t.csv", text);
  for (int s = 0; s < 4; ++s) {
    CsvData part = ReadCsv(dir_ / "t.csv", {.shard = s, .num_shards = 4});
    EXPECT_EQ(models::ValueType(part.table.Find("x")->values), DataType::kDouble) << s;
  }
  ExpectShardsEqualWhole(dir_ / "t.csv", {});
}

TEST_F(CsvTest, ShardedReadRefusesAQuotedFieldSpanningLines) {
  // In the inference rows: every shard refuses.
  std::string text = "id,s\n1,a\n2,\"two\nlines\"\n3,c\n";
  for (int s = 0; s < 3; ++s) {
    EXPECT_ERROR(Read(text, {.shard = s, .num_shards = 3}), ErrorCode::kInvalidParameterValue,
                 Eq(PathOf("t.csv") + ": line 3: a quoted field spans lines, which a sharded "
                                      "read cannot split reliably; read the file unsharded"));
  }
  EXPECT_EQ(Read(text).table.num_rows(), 3u);
}

TEST_F(CsvTest, ShardedReadRefusesAQuotedFieldSpanningLinesAfterInference) {
  std::string text = "id,s\n";
  for (int i = 0; i < 40; ++i) text += std::to_string(i) + ",a\n";
  text += "40,\"" + std::string(200, 'x') + "\n" + std::string(200, 'y') + "\"\n41,b\n";
  WriteFile(dir_ / "t.csv", text);
  EXPECT_EQ(ReadCsv(dir_ / "t.csv", {.inference_rows = 5}).table.num_rows(), 42u);
  int refused = 0;
  for (int s = 0; s < 2; ++s) {
    try {
      ReadCsv(dir_ / "t.csv", {.inference_rows = 5, .shard = s, .num_shards = 2});
    } catch (const Error& e) {
      ++refused;
      EXPECT_THAT(e.what(), HasSubstr("a quoted field spans lines"));
    }
  }
  EXPECT_GE(refused, 1);
}

TEST_F(CsvTest, BadShard) {
  EXPECT_ERROR(Read("a\n1\n", {.shard = 2, .num_shards = 2}), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("t.csv") + ": shard 2 of 2 does not exist"));
}

// --- writing ------------------------------------------------------------------------------------

Table SampleTable() {
  Table t;
  t.AddColumn("id", std::vector<int64_t>{1, -2, 3, 4000000000000});
  t.AddColumn("x", std::vector<double>{1.0, kNaN, 0.1, -2.5e-300});
  t.AddColumn("s", std::vector<std::string>{"plain", "a,b", "say \"hi\"", "two\nlines"});
  t.AddColumn("more", std::vector<std::string>{" padded ", "NA", "?", ""});
  t.AddColumn("flag", std::vector<bool>{true, false, false, true});
  return t;
}

// NaN != NaN: compares doubles bit for bit for NaN.
void ExpectSameTable(const Table& a, const Table& b) {
  ASSERT_EQ(Names(a), Names(b));
  for (size_t c = 0; c < a.columns().size(); ++c) {
    const auto& x = a.columns()[c].values;
    const auto& y = b.columns()[c].values;
    ASSERT_EQ(x.index(), y.index()) << a.columns()[c].name;
    if (const auto* dx = std::get_if<std::vector<double>>(&x)) {
      const auto& dy = std::get<std::vector<double>>(y);
      ASSERT_EQ(dx->size(), dy.size());
      for (size_t i = 0; i < dx->size(); ++i) {
        EXPECT_TRUE((std::isnan((*dx)[i]) && std::isnan(dy[i])) || (*dx)[i] == dy[i]) << i;
      }
    } else {
      EXPECT_EQ(x, y) << a.columns()[c].name;
    }
  }
}

TEST_F(CsvTest, WriteCsvRoundTrip) {
  Table t = SampleTable();
  WriteCsv(dir_ / "w.csv", t);
  EXPECT_EQ(mltrack::testing::ReadFile(dir_ / "w.csv"),
            "id,x,s,more,flag\n"
            "1,1.0,plain,\" padded \",true\n"
            "-2,,\"a,b\",\"NA\",false\n"
            "3,0.1,\"say \"\"hi\"\"\",\"?\",false\n"
            "4000000000000,-2.5e-300,\"two\nlines\",,true\n");
  CsvData back = ReadCsv(dir_ / "w.csv");
  ExpectSameTable(back.table, t);
}

TEST_F(CsvTest, WriteCsvOneColumnWithMissingValues) {
  Table t;
  t.AddColumn("x", std::vector<double>{1.5, kNaN, 2.0});
  WriteCsv(dir_ / "w.csv", t);
  ExpectSameTable(ReadCsv(dir_ / "w.csv").table, t);
}

TEST_F(CsvTest, CsvWriterAppendsChunks) {
  Table t = SampleTable();
  {
    CsvWriter writer(dir_ / "w.csv");
    writer.Append(t);
    writer.Append(t);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "w.csv"));
    writer.Commit();
    EXPECT_EQ(writer.rows_written(), 8u);
  }
  CsvData back = ReadCsv(dir_ / "w.csv");
  ASSERT_EQ(back.table.num_rows(), 8u);
  EXPECT_EQ(std::get<std::vector<int64_t>>(back.table.Find("id")->values)[5], -2);
}

TEST_F(CsvTest, CsvWriterWithoutCommitLeavesNoFile) {
  {
    CsvWriter writer(dir_ / "w.csv");
    writer.Append(SampleTable());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(CsvTest, CsvWriterRefusesADifferentTable) {
  CsvWriter writer(dir_ / "w.csv");
  writer.Append(SampleTable());
  Table other;
  other.AddColumn("id", std::vector<double>{1.0});
  EXPECT_ERROR(writer.Append(other), ErrorCode::kInvalidParameterValue,
               Eq(PathOf("w.csv") + ": the table to append has columns (id double), expected "
                                    "(id long, x double, s string, more string, flag boolean)"));
}

TEST_F(CsvTest, CsvWriterCannotWrite) {
  EXPECT_ERROR(CsvWriter(dir_ / "no" / "such" / "w.csv"), ErrorCode::kIoError,
               HasSubstr("Cannot write '" + PathOf("no/such/w.csv") + "'"));
}

}  // namespace
}  // namespace mltrack::data
