// FeatureEncoder, LabelEncoder, NumericColumn and DropColumn.
#include "models/data/encoding.h"

#include <cmath>
#include <limits>
#include <mutex>
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

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Table People() {
  Table t;
  t.AddColumn("age", std::vector<int64_t>{39, 50, 38});
  t.AddColumn("work", std::vector<std::string>{"State-gov", "Private", "State-gov"});
  t.AddColumn("hours", std::vector<double>{40.0, 13.5, 40.0});
  t.AddColumn("income", std::vector<std::string>{"<=50K", ">50K", "<=50K"});
  return t;
}

FeatureEncoder FitSingle(const Table& table, const std::vector<std::string>& features,
                         const std::vector<std::string>& exclude,
                         UnknownCategory unknown = UnknownCategory::kError) {
  auto comm = dist::MakeSingleCommunicator();
  return FeatureEncoder::Fit(table, features, exclude, unknown, *comm);
}

TEST(FeatureEncoderTest, OneHotLayoutAndNames) {
  FeatureEncoder e = FitSingle(People(), {}, {"income"});
  ASSERT_EQ(e.columns().size(), 3u);
  EXPECT_EQ(e.columns()[0].type, DataType::kLong);
  EXPECT_FALSE(e.columns()[0].categorical);
  EXPECT_TRUE(e.columns()[1].categorical);
  EXPECT_THAT(e.columns()[1].vocabulary, ElementsAre("Private", "State-gov"));
  EXPECT_EQ(e.width(), 4u);
  EXPECT_THAT(e.EncodedNames(), ElementsAre("age", "work=Private", "work=State-gov", "hours"));
  EXPECT_EQ(e.InputSchema(), models::InferSchema({{"age", DataType::kLong},
                                                  {"work", DataType::kString},
                                                  {"hours", DataType::kDouble}}));

  DenseMatrix m = e.Encode(People());
  EXPECT_EQ(m.rows, 3u);
  EXPECT_EQ(m.cols, 4u);
  EXPECT_THAT(m.values, ElementsAre(39, 0, 1, 40.0,  //
                                    50, 1, 0, 13.5,  //
                                    38, 0, 1, 40.0));
}

TEST(FeatureEncoderTest, ChosenFeaturesInTheirOrder) {
  FeatureEncoder e = FitSingle(People(), {"hours", "age"}, {});
  EXPECT_THAT(e.EncodedNames(), ElementsAre("hours", "age"));
  EXPECT_THAT(e.Encode(People()).values, ElementsAre(40.0, 39, 13.5, 50, 40.0, 38));
}

TEST(FeatureEncoderTest, UnknownFeatureColumn) {
  auto comm = dist::MakeSingleCommunicator();
  EXPECT_ERROR(FeatureEncoder::Fit(People(), {"age", "sex"}, {}, UnknownCategory::kError, *comm),
               ErrorCode::kInvalidParameterValue,
               Eq("feature column 'sex' does not exist (the columns are 'age', 'work', 'hours', "
                  "'income')"));
}

Table WorkOnly(std::vector<std::string> work) {
  Table t;
  t.AddColumn("work", std::move(work));
  return t;
}

TEST(FeatureEncoderTest, UnknownCategoryIsAnErrorOrGoesToTheUnknownSlot) {
  Table unseen = WorkOnly({"Private", "Never-worked"});
  std::vector<int64_t> lines = {7, 9};

  FeatureEncoder strict = FitSingle(People(), {"work"}, {});
  EXPECT_ERROR(strict.Encode(unseen, {"test.csv", &lines}), ErrorCode::kInvalidParameterValue,
               Eq("test.csv: line 9, column 'work': unknown category 'Never-worked' (not seen "
                  "in training)"));
  EXPECT_ERROR(strict.Encode(unseen), ErrorCode::kInvalidParameterValue,
               Eq("row 1, column 'work': unknown category 'Never-worked' (not seen in "
                  "training)"));

  FeatureEncoder slot = FitSingle(People(), {"work"}, {}, UnknownCategory::kUnknownSlot);
  EXPECT_EQ(slot.width(), 3u);
  EXPECT_THAT(slot.EncodedNames(),
              ElementsAre("work=Private", "work=State-gov", "work=<unknown>"));
  EXPECT_THAT(slot.Encode(unseen).values, ElementsAre(1, 0, 0, 0, 0, 1));
}

TEST(FeatureEncoderTest, MissingStringIsACategory) {
  FeatureEncoder e = FitSingle(WorkOnly({"b", "", "a"}), {}, {});
  EXPECT_THAT(e.EncodedNames(), ElementsAre("work=", "work=a", "work=b"));
}

TEST(FeatureEncoderTest, NaNFeatureNamesFileLineAndColumn) {
  Table t;
  t.AddColumn("age", std::vector<double>{39.0, kNaN});
  FeatureEncoder e = FitSingle(t, {}, {});
  std::vector<int64_t> lines = {2, 12};
  EXPECT_ERROR(e.Encode(t, {"train.csv", &lines}), ErrorCode::kInvalidParameterValue,
               Eq("train.csv: line 12, column 'age': missing value; features must be numbers"));
  EXPECT_ERROR(e.Encode(t), ErrorCode::kInvalidParameterValue,
               Eq("row 1, column 'age': missing value; features must be numbers"));
}

TEST(FeatureEncoderTest, MissingColumnAndWrongTypes) {
  FeatureEncoder e = FitSingle(People(), {}, {"income"});
  std::vector<int64_t> lines = {2, 3, 4};
  EXPECT_ERROR(e.Encode(DropColumn(People(), "hours"), {"test.csv", &lines}),
               ErrorCode::kInvalidParameterValue,
               Eq("test.csv: missing column 'hours' (the columns are 'age', 'work', 'income')"));

  Table strings = People();
  strings = DropColumn(strings, "age");
  strings.AddColumn("age", std::vector<std::string>{"a", "b", "c"});
  EXPECT_ERROR(e.Encode(strings), ErrorCode::kInvalidParameterValue,
               Eq("column 'age' holds strings; the encoder expects numbers (it was fit on a long "
                  "column)"));

  Table numbers = DropColumn(People(), "work");
  numbers.AddColumn("work", std::vector<int64_t>{1, 2, 3});
  EXPECT_ERROR(e.Encode(numbers), ErrorCode::kInvalidParameterValue,
               Eq("column 'work' holds long values; the encoder expects strings (it is "
                  "categorical)"));
}

TEST(FeatureEncoderTest, ConvertsOtherNumericTypesAndIgnoresExtraColumns) {
  FeatureEncoder e = FitSingle(People(), {"age", "hours"}, {});
  Table t;
  t.AddColumn("extra", std::vector<std::string>{"x", "y"});
  t.AddColumn("hours", std::vector<int64_t>{10, 20});
  t.AddColumn("age", std::vector<bool>{true, false});
  EXPECT_THAT(e.Encode(t).values, ElementsAre(1, 10, 0, 20));
}

// Rank r's part of the data: rows r, r + 3, ... of the whole.
Table Part(const Table& whole, int rank, int ranks) {
  Table part;
  for (const auto& column : whole.columns()) {
    std::visit(
        [&](const auto& values) {
          std::decay_t<decltype(values)> mine;
          for (size_t i = rank; i < values.size(); i += ranks) mine.push_back(values[i]);
          part.AddColumn(column.name, std::move(mine));
        },
        column.values);
  }
  return part;
}

Table Colors() {
  Table t;
  t.AddColumn("color", std::vector<std::string>{"red", "green", "blue", "red", "cyan", "teal",
                                                "amber", "red"});
  t.AddColumn("size", std::vector<std::string>{"s", "s", "s", "m", "s", "s", "l", "s"});
  t.AddColumn("x", std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  t.AddColumn("label", std::vector<int64_t>{10, 2, 2, 10, 1, 2, 2, 2});
  return t;
}

TEST(FeatureEncoderTest, VocabularyIsTheUnionOverRanks) {
  Table whole = Colors();
  FeatureEncoder single = FitSingle(whole, {}, {"label"}, UnknownCategory::kUnknownSlot);
  std::mutex mu;
  std::vector<nlohmann::json> fitted(3);
  dist::RunThreaded(3, [&](dist::Communicator& comm) {
    Table part = Part(whole, comm.rank(), comm.size());
    FeatureEncoder e =
        FeatureEncoder::Fit(part, {}, {"label"}, UnknownCategory::kUnknownSlot, comm);
    std::lock_guard lock(mu);
    fitted[comm.rank()] = e.ToJson();
  });
  for (const auto& j : fitted) EXPECT_EQ(j, single.ToJson());
  EXPECT_THAT(single.columns()[0].vocabulary,
              ElementsAre("amber", "blue", "cyan", "green", "red", "teal"));
}

TEST(FeatureEncoderTest, RanksWithDifferentColumnsAreRefused) {
  int refused = 0;
  std::mutex mu;
  EXPECT_ANY_THROW(dist::RunThreaded(2, [&](dist::Communicator& comm) {
    Table t = comm.rank() == 0 ? WorkOnly({"a"}) : Table();
    if (comm.rank() == 1) t.AddColumn("work", std::vector<double>{1.0});
    try {
      FeatureEncoder::Fit(t, {}, {}, UnknownCategory::kError, comm);
    } catch (const Error& e) {
      std::lock_guard lock(mu);
      ++refused;
      EXPECT_EQ(std::string(e.what()),
                "ranks 0 and 1 have different columns or column types: every rank must read "
                "the same columns");
      throw;
    }
  }));
  EXPECT_EQ(refused, 2);
}

TEST(FeatureEncoderTest, JsonRoundTrip) {
  FeatureEncoder e = FitSingle(Colors(), {}, {"label"}, UnknownCategory::kUnknownSlot);
  nlohmann::json j = e.ToJson();
  EXPECT_EQ(j["unknown"], "unknown_slot");
  EXPECT_EQ(j["columns"][0],
            nlohmann::json::parse(R"({"name": "color", "type": "string", "categorical": true,
               "vocabulary": ["amber", "blue", "cyan", "green", "red", "teal"]})"));
  EXPECT_EQ(j["columns"][2],
            nlohmann::json::parse(R"({"name": "x", "type": "double", "categorical": false})"));
  FeatureEncoder back = FeatureEncoder::FromJson(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.ToJson().dump(), j.dump());
  EXPECT_EQ(back.unknown(), UnknownCategory::kUnknownSlot);
  EXPECT_EQ(back.EncodedNames(), e.EncodedNames());
  EXPECT_EQ(back.Encode(Colors()).values, e.Encode(Colors()).values);
}

TEST(FeatureEncoderTest, MalformedJsonIsRefusedNamingTheField) {
  auto bad = [](const char* text, const char* message) {
    SCOPED_TRACE(text);
    EXPECT_ERROR(FeatureEncoder::FromJson(nlohmann::json::parse(text)),
                 ErrorCode::kInvalidParameterValue, Eq(message));
  };
  bad(R"([])", "invalid feature encoder JSON: field '' is not an object");
  bad(R"({"columns": []})", "invalid feature encoder JSON: field 'unknown' is missing");
  bad(R"({"unknown": "ignore", "columns": []})",
      "invalid feature encoder JSON: field 'unknown' is 'ignore'; expected 'error' or "
      "'unknown_slot'");
  bad(R"({"unknown": "error", "columns": {}})",
      "invalid feature encoder JSON: field 'columns' is not an array");
  bad(R"({"unknown": "error", "columns": [], "extra": 1})",
      "invalid feature encoder JSON: field 'extra' is not expected");
  bad(R"({"unknown": "error", "columns": [{"name": "a", "type": "double"}]})",
      "invalid feature encoder JSON: field 'columns[0].categorical' is missing");
  bad(R"({"unknown": "error", "columns": [{"name": 1, "type": "double", "categorical": false}]})",
      "invalid feature encoder JSON: field 'columns[0].name' is not a string");
  bad(R"({"unknown": "error", "columns": [{"name": "a", "type": "float", "categorical": false}]})",
      "invalid feature encoder JSON: field 'columns[0].type' has type 'float'; expected long, "
      "double, boolean or string");
  bad(R"({"unknown": "error", "columns": [{"name": "a", "type": "string", "categorical": false}]})",
      "invalid feature encoder JSON: field 'columns[0].categorical' must be true exactly for "
      "string columns");
  bad(R"({"unknown": "error", "columns": [{"name": "a", "type": "string", "categorical": true,
          "vocabulary": ["b", "a"]}]})",
      "invalid feature encoder JSON: field 'columns[0].vocabulary' is not sorted without "
      "repeats");
  bad(R"({"unknown": "error", "columns": [{"name": "a", "type": "string", "categorical": true,
          "vocabulary": ["a", 2]}]})",
      "invalid feature encoder JSON: field 'columns[0].vocabulary[1]' is not a string");
  bad(R"({"unknown": "error", "columns": [{"name": "a", "type": "long", "categorical": false},
          {"name": "a", "type": "long", "categorical": false}]})",
      "invalid feature encoder JSON: field 'columns[1].name' repeats the column 'a'");
}

TEST(LabelEncoderTest, ClassesSortedAndIndices) {
  auto comm = dist::MakeSingleCommunicator();
  LabelEncoder strings = LabelEncoder::Fit(People(), "income", *comm);
  EXPECT_THAT(strings.classes(), ElementsAre("<=50K", ">50K"));
  EXPECT_EQ(strings.type(), DataType::kString);
  EXPECT_THAT(strings.Encode(People(), "income"), ElementsAre(0, 1, 0));

  // Numbers sort by value.
  LabelEncoder numbers = LabelEncoder::Fit(Colors(), "label", *comm);
  EXPECT_THAT(numbers.classes(), ElementsAre("1", "2", "10"));
  EXPECT_EQ(numbers.type(), DataType::kLong);
  EXPECT_THAT(numbers.Encode(Colors(), "label"), ElementsAre(2, 1, 1, 2, 0, 1, 1, 1));

  Table b;
  b.AddColumn("y", std::vector<bool>{true, false});
  EXPECT_THAT(LabelEncoder::Fit(b, "y", *comm).classes(), ElementsAre("false", "true"));
}

TEST(LabelEncoderTest, UnionOverRanks) {
  Table whole = Colors();
  std::mutex mu;
  std::vector<std::vector<std::string>> classes(3);
  dist::RunThreaded(3, [&](dist::Communicator& comm) {
    LabelEncoder e = LabelEncoder::Fit(Part(whole, comm.rank(), comm.size()), "color", comm);
    std::lock_guard lock(mu);
    classes[comm.rank()] = e.classes();
  });
  for (const auto& c : classes) {
    EXPECT_THAT(c, ElementsAre("amber", "blue", "cyan", "green", "red", "teal"));
  }
}

TEST(LabelEncoderTest, Errors) {
  auto comm = dist::MakeSingleCommunicator();
  EXPECT_ERROR(LabelEncoder::Fit(People(), "y", *comm), ErrorCode::kInvalidParameterValue,
               Eq("label column 'y' does not exist (the columns are 'age', 'work', 'hours', "
                  "'income')"));
  Table missing;
  missing.AddColumn("y", std::vector<double>{1.0, kNaN});
  EXPECT_ERROR(LabelEncoder::Fit(missing, "y", *comm), ErrorCode::kInvalidParameterValue,
               Eq("label column 'y' has a missing value at row 1"));

  LabelEncoder e = LabelEncoder::Fit(People(), "income", *comm);
  Table unseen;
  unseen.AddColumn("income", std::vector<std::string>{">50K.", ""});
  std::vector<int64_t> lines = {3, 4};
  EXPECT_ERROR(e.Encode(unseen, "income", {"adult.test", &lines}),
               ErrorCode::kInvalidParameterValue,
               Eq("adult.test: line 3, column 'income': unknown label '>50K.' (the classes are "
                  "'<=50K', '>50K')"));
  unseen = Table();
  unseen.AddColumn("income", std::vector<std::string>{""});
  EXPECT_ERROR(e.Encode(unseen, "income"), ErrorCode::kInvalidParameterValue,
               Eq("row 0, column 'income': missing value; labels must be present"));
}

TEST(LabelEncoderTest, NumericLabelsGivenAsAnotherNumericType) {
  auto comm = dist::MakeSingleCommunicator();
  LabelEncoder e = LabelEncoder::Fit(Colors(), "label", *comm);
  Table t;
  t.AddColumn("label", std::vector<double>{10.0, 1.0});
  EXPECT_THAT(e.Encode(t, "label"), ElementsAre(2, 0));
}

TEST(LabelEncoderTest, JsonRoundTripAndMalformedJson) {
  auto comm = dist::MakeSingleCommunicator();
  LabelEncoder e = LabelEncoder::Fit(Colors(), "label", *comm);
  nlohmann::json j = e.ToJson();
  EXPECT_EQ(j, nlohmann::json::parse(R"({"type": "long", "classes": ["1", "2", "10"]})"));
  LabelEncoder back = LabelEncoder::FromJson(j);
  EXPECT_EQ(back.classes(), e.classes());
  EXPECT_EQ(back.type(), DataType::kLong);
  EXPECT_EQ(back.ToJson().dump(), j.dump());

  EXPECT_ERROR(LabelEncoder::FromJson(nlohmann::json::parse(R"({"type": "long"})")),
               ErrorCode::kInvalidParameterValue,
               Eq("invalid label encoder JSON: field 'classes' is missing"));
  EXPECT_ERROR(
      LabelEncoder::FromJson(nlohmann::json::parse(R"({"type": "long", "classes": ["1", "x"]})")),
      ErrorCode::kInvalidParameterValue,
      Eq("invalid label encoder JSON: field 'classes[1]' 'x' is not a long label"));
  EXPECT_ERROR(
      LabelEncoder::FromJson(nlohmann::json::parse(R"({"type": "long", "classes": ["2", "1"]})")),
      ErrorCode::kInvalidParameterValue,
      Eq("invalid label encoder JSON: field 'classes' is not sorted without repeats"));
}

TEST(NumericColumnTest, ConvertsAndRefusesMissingValues) {
  EXPECT_THAT(NumericColumn(People(), "age"), ElementsAre(39.0, 50.0, 38.0));
  Table t;
  t.AddColumn("y", std::vector<double>{1.0, kNaN});
  std::vector<int64_t> lines = {5, 8};
  EXPECT_ERROR(NumericColumn(t, "y", {"data.csv", &lines}), ErrorCode::kInvalidParameterValue,
               Eq("data.csv: line 8, column 'y': missing value; the column must be numbers"));
  EXPECT_ERROR(NumericColumn(People(), "work"), ErrorCode::kInvalidParameterValue,
               Eq("column 'work' holds strings; expected numbers"));
  EXPECT_ERROR(NumericColumn(People(), "nope"), ErrorCode::kInvalidParameterValue,
               Eq("missing column 'nope' (the columns are 'age', 'work', 'hours', 'income')"));
}

TEST(DropColumnTest, DropsOnlyThatColumn) {
  Table t = DropColumn(People(), "work");
  EXPECT_EQ(t.columns().size(), 3u);
  EXPECT_EQ(t.Find("work"), nullptr);
  EXPECT_EQ(DropColumn(People(), "absent"), People());
}

}  // namespace
}  // namespace mltrack::data
