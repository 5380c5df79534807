// Signatures, array files and flavors. MLmodel: mlmodel_test.cc; archives: archive_test.cc.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/bundle/archive.h"
#include "models/bundle/array_file.h"
#include "models/bundle/flavor_registry.h"
#include "models/bundle/mlmodel.h"
#include "models/bundle/signature.h"
#include "support/scale_bundle.h"
#include "support/test_support.h"

namespace mltrack::models {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::ScaleLoader;
using ::mltrack::testing::WriteScaleBundle;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::Eq;
using ::testing::HasSubstr;

// --- signatures ---

TEST(Signature, SchemaJsonIsMlflowsText) {
  Schema schema{{.name = "age", .type = DataType::kLong},
                {.name = "name \"quoted\"", .type = DataType::kString, .required = false}};
  EXPECT_EQ(SchemaToJson(schema),
            R"([{"type": "long", "name": "age", "required": true}, )"
            R"({"type": "string", "name": "name \"quoted\"", "required": false}])");
  EXPECT_EQ(SchemaFromJson(SchemaToJson(schema)), schema);
  EXPECT_EQ(SchemaToJson({{.type = DataType::kDouble}}), R"([{"type": "double", "required": true}])");
}

TEST(Signature, ReadsEveryMlflowColumnType) {
  Schema schema = SchemaFromJson(
      R"([{"type": "boolean", "name": "a"}, {"type": "integer", "name": "b"},
          {"type": "long", "name": "c"}, {"type": "float", "name": "d"},
          {"type": "double", "name": "e"}, {"type": "string", "name": "f"},
          {"type": "binary", "name": "g"}, {"type": "datetime", "name": "h", "required": false}])");
  ASSERT_EQ(schema.size(), 8u);
  std::vector<std::string> names;
  for (const ColumnSpec& spec : schema) names.emplace_back(DataTypeName(spec.type));
  EXPECT_THAT(names, ::testing::ElementsAre("boolean", "integer", "long", "float", "double",
                                            "string", "binary", "datetime"));
  EXPECT_TRUE(schema[0].required);
  EXPECT_FALSE(schema[7].required);
}

TEST(Signature, RefusesMixedNamedAndUnnamedColumns) {
  EXPECT_ERROR(SchemaFromJson(R"([{"type": "long", "name": "a"}, {"type": "long"}])"),
               ErrorCode::kInvalidParameterValue, Eq("named and unnamed columns cannot be mixed"));
}

Table SampleTable() {
  Table table;
  table.AddColumn("age", std::vector<int64_t>{31, 47});
  table.AddColumn("name", std::vector<std::string>{"ann", "bob"});
  table.AddColumn("score", std::vector<double>{0.5, 1.5});
  return table;
}

TEST(Signature, InfersTheSchemaOfATable) {
  Table out;
  out.AddColumn("ok", std::vector<bool>{true, false});
  Signature signature = InferSignature(SampleTable(), out);
  EXPECT_EQ(SchemaToJson(signature.inputs),
            R"([{"type": "long", "name": "age", "required": true}, )"
            R"({"type": "string", "name": "name", "required": true}, )"
            R"({"type": "double", "name": "score", "required": true}])");
  EXPECT_EQ(signature.outputs, (Schema{{.name = "ok", .type = DataType::kBoolean}}));
  EXPECT_EQ(InferSchema({{"user", DataType::kLong}, {"rating", DataType::kFloat}}),
            (Schema{{.name = "user", .type = DataType::kLong},
                    {.name = "rating", .type = DataType::kFloat}}));
}

TEST(Table, RefusesColumnsOfDifferentLengthsAndDuplicateNames) {
  Table table = SampleTable();
  EXPECT_ERROR(table.AddColumn("x", std::vector<double>{1, 2, 3}),
               ErrorCode::kInvalidParameterValue, Eq("Column 'x' has 3 rows, expected 2"));
  EXPECT_ERROR(table.AddColumn("age", std::vector<double>{1, 2}),
               ErrorCode::kInvalidParameterValue, Eq("Duplicate column 'age'"));
}

Schema PeopleSchema() {
  return {{.name = "name", .type = DataType::kString},
          {.name = "age", .type = DataType::kLong},
          {.name = "score", .type = DataType::kDouble},
          {.name = "note", .type = DataType::kString, .required = false}};
}

TEST(CheckAgainstSignature, ReturnsColumnsInSchemaOrder) {
  Table checked = CheckAgainstSignature(SampleTable(), PeopleSchema());
  ASSERT_EQ(checked.columns().size(), 3u);
  EXPECT_EQ(checked.columns()[0].name, "name");
  EXPECT_EQ(checked.columns()[1].name, "age");
  EXPECT_EQ(checked.columns()[2].name, "score");
}

TEST(CheckAgainstSignature, NamesAMissingColumn) {
  Table table;
  table.AddColumn("name", std::vector<std::string>{"ann"});
  table.AddColumn("score", std::vector<double>{1});
  EXPECT_ERROR(CheckAgainstSignature(table, PeopleSchema()), ErrorCode::kInvalidParameterValue,
               Eq("Missing required column 'age'"));
}

TEST(CheckAgainstSignature, NamesAColumnOfTheWrongType) {
  Table table;
  table.AddColumn("name", std::vector<std::string>{"ann"});
  table.AddColumn("age", std::vector<std::string>{"31"});
  table.AddColumn("score", std::vector<double>{1});
  EXPECT_ERROR(CheckAgainstSignature(table, PeopleSchema()), ErrorCode::kInvalidParameterValue,
               Eq("Column 'age' has type string, expected long"));
  Table doubles;
  doubles.AddColumn("name", std::vector<std::string>{"ann"});
  doubles.AddColumn("age", std::vector<double>{31.5});
  doubles.AddColumn("score", std::vector<double>{1});
  EXPECT_ERROR(CheckAgainstSignature(doubles, PeopleSchema()), ErrorCode::kInvalidParameterValue,
               Eq("Column 'age' has type double, expected long"));
}

TEST(CheckAgainstSignature, NamesAnExtraColumn) {
  Table table = SampleTable();
  table.AddColumn("zip", std::vector<std::string>{"1", "2"});
  EXPECT_ERROR(CheckAgainstSignature(table, PeopleSchema()), ErrorCode::kInvalidParameterValue,
               Eq("Unexpected column 'zip': the schema has columns 'name', 'age', 'score', "
                  "'note'"));
}

TEST(CheckAgainstSignature, ConvertsLongsToDoublesWhenExact) {
  Table table;
  table.AddColumn("name", std::vector<std::string>{"ann", "bob"});
  table.AddColumn("age", std::vector<int64_t>{31, 47});
  table.AddColumn("score", std::vector<int64_t>{3, -4});
  Table checked = CheckAgainstSignature(table, PeopleSchema());
  EXPECT_EQ(checked.Find("score")->values, ColumnValues(std::vector<double>{3.0, -4.0}));

  Table inexact;
  inexact.AddColumn("name", std::vector<std::string>{"ann", "bob"});
  inexact.AddColumn("age", std::vector<int64_t>{31, 47});
  inexact.AddColumn("score", std::vector<int64_t>{1, (int64_t{1} << 53) + 1});
  EXPECT_ERROR(CheckAgainstSignature(inexact, PeopleSchema()), ErrorCode::kInvalidParameterValue,
               Eq("Column 'score' has value 9007199254740993 at row 1, which does not fit in "
                  "double"));
}

TEST(CheckAgainstSignature, ChecksTheRangeOfIntegerColumns) {
  Schema schema{{.name = "n", .type = DataType::kInteger}};
  Table ok;
  ok.AddColumn("n", std::vector<int64_t>{-2147483648, 2147483647});
  EXPECT_EQ(CheckAgainstSignature(ok, schema), ok);
  Table big;
  big.AddColumn("n", std::vector<int64_t>{1, 3000000000});
  EXPECT_ERROR(CheckAgainstSignature(big, schema), ErrorCode::kInvalidParameterValue,
               Eq("Column 'n' has value 3000000000 at row 1, which does not fit in integer"));
}

TEST(CheckAgainstSignature, MatchesAnUnnamedSchemaByPosition) {
  Schema schema{{.type = DataType::kDouble}, {.type = DataType::kBoolean}};
  Table table;
  table.AddColumn("0", std::vector<int64_t>{1});
  table.AddColumn("1", std::vector<bool>{true});
  EXPECT_EQ(CheckAgainstSignature(table, schema).columns()[0].values,
            ColumnValues(std::vector<double>{1.0}));
  Table short_table;
  short_table.AddColumn("0", std::vector<double>{1});
  EXPECT_ERROR(CheckAgainstSignature(short_table, schema), ErrorCode::kInvalidParameterValue,
               Eq("The input has 1 columns, the schema has 2"));
}

// --- array files ---

TEST(ArrayFile, Crc32MatchesTheStandardCheckValue) {
  std::string text = "123456789";
  EXPECT_EQ(Crc32({reinterpret_cast<const unsigned char*>(text.data()), text.size()}),
            0xCBF43926u);
}

template <typename T>
void ExpectRoundTrip(const fs::path& path, std::vector<uint64_t> shape, std::vector<T> values) {
  WriteArrayFile(path, shape, std::span<const T>(values));
  Array<T> read = ReadArrayFile<T>(path);
  EXPECT_EQ(read.shape, shape);
  EXPECT_EQ(read.values, values);
}

TEST(ArrayFile, RoundTripsEveryType) {
  TempDir dir;
  ExpectRoundTrip<double>(dir / "d.bin", {2, 3}, {1.5, -2, 3e300, 0, -0.0,
                                                  std::numeric_limits<double>::infinity()});
  ExpectRoundTrip<float>(dir / "f.bin", {4}, {1.5f, -2, 3e30f, 0});
  ExpectRoundTrip<int32_t>(dir / "i.bin", {1, 2, 1}, {-2147483647 - 1, 2147483647});
  ExpectRoundTrip<int64_t>(dir / "l.bin", {3}, {INT64_MIN, 0, INT64_MAX});
  ExpectRoundTrip<double>(dir / "empty.bin", {0, 5}, {});
  ExpectRoundTrip<double>(dir / "scalar.bin", {}, {42});
}

TEST(ArrayFile, WritesTheDocumentedLayout) {
  TempDir dir;
  std::vector<uint64_t> shape{2};
  std::vector<int32_t> values{1, 2};
  WriteArrayFile(dir / "a.bin", shape, std::span<const int32_t>(values));
  std::string bytes = ReadFile(dir / "a.bin");
  ASSERT_EQ(bytes.size(), 32u + 8u + 8u);
  EXPECT_EQ(bytes.substr(0, 4), "MLTA");
  EXPECT_EQ(bytes.substr(4, 12), std::string("\1\0\0\0\3\0\0\0\1\0\0\0", 12));  // v1, int32, r1
  EXPECT_EQ(bytes.substr(16, 8), std::string("\2\0\0\0\0\0\0\0", 8));            // shape
  EXPECT_EQ(bytes.substr(24, 8), std::string("\x8\0\0\0\0\0\0\0", 8));           // payload size
  std::string payload = bytes.substr(40);
  EXPECT_EQ(payload, std::string("\1\0\0\0\2\0\0\0", 8));
  uint32_t crc;
  std::memcpy(&crc, bytes.data() + 32, 4);
  EXPECT_EQ(crc, Crc32({reinterpret_cast<const unsigned char*>(payload.data()), payload.size()}));
}

TEST(ArrayFile, RefusesAShapeThatDoesNotMatchTheValues) {
  TempDir dir;
  std::vector<uint64_t> shape{2, 2};
  std::vector<double> values{1, 2, 3};
  EXPECT_ERROR(WriteArrayFile(dir / "a.bin", shape, std::span<const double>(values)),
               ErrorCode::kInvalidParameterValue,
               Eq(fmt::format("Cannot write '{}': the shape holds 4 values, 3 were given",
                              (dir / "a.bin").string())));
  EXPECT_FALSE(fs::exists(dir / "a.bin"));
}

std::string WriteFactors(const TempDir& dir) {
  std::vector<uint64_t> shape{3, 4};
  std::vector<double> values(12);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.25 * static_cast<double>(i) - 1;
  WriteArrayFile(dir / "factors.bin", shape, std::span<const double>(values));
  return ReadFile(dir / "factors.bin");
}

TEST(ArrayFile, DetectsAFlippedPayloadByte) {
  TempDir dir;
  std::string good = WriteFactors(dir);
  constexpr size_t kHeader = 32 + 16;
  for (size_t i = kHeader; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x01;
    SCOPED_TRACE(fmt::format("byte {}", i));
    WriteFile(dir / "factors.bin", bad);
    EXPECT_ERROR(ReadArrayFile<double>(dir / "factors.bin"), ErrorCode::kInvalidParameterValue,
                 Eq("checksum mismatch in 'factors.bin': the file is corrupted"));
  }
}

TEST(ArrayFile, DetectsAFlippedByteAnywhere) {
  TempDir dir;
  std::string good = WriteFactors(dir);
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      SCOPED_TRACE(fmt::format("byte {} mask {}", i, int{mask}));
      WriteFile(dir / "factors.bin", bad);
      EXPECT_ERROR(ReadArrayFile<double>(dir / "factors.bin"), ErrorCode::kInvalidParameterValue,
                   HasSubstr("'factors.bin'"));
    }
  }
}

TEST(ArrayFile, DetectsTruncationAtEveryLength) {
  TempDir dir;
  std::string good = WriteFactors(dir);
  for (size_t size = 0; size < good.size(); ++size) {
    SCOPED_TRACE(fmt::format("size {}", size));
    WriteFile(dir / "factors.bin", good.substr(0, size));
    EXPECT_ERROR(ReadArrayFile<double>(dir / "factors.bin"), ErrorCode::kInvalidParameterValue,
                 HasSubstr("'factors.bin'"));
  }
  WriteFile(dir / "factors.bin", good.substr(0, good.size() - 10));
  EXPECT_ERROR(ReadArrayFile<double>(dir / "factors.bin"), ErrorCode::kInvalidParameterValue,
               Eq("'factors.bin' is truncated: its header says 96 payload bytes, the file holds 86"));
  WriteFile(dir / "factors.bin", good.substr(0, 20));
  EXPECT_ERROR(ReadArrayFile<double>(dir / "factors.bin"), ErrorCode::kInvalidParameterValue,
               Eq("'factors.bin' is truncated: it ends inside its header (20 bytes)"));
  WriteFile(dir / "factors.bin", good + "x");
  EXPECT_ERROR(ReadArrayFile<double>(dir / "factors.bin"), ErrorCode::kInvalidParameterValue,
               Eq("'factors.bin' has 1 unexpected bytes after its payload: the file is corrupted"));
}

TEST(ArrayFile, NamesTheProblemWithAForeignOrMistypedFile) {
  TempDir dir;
  WriteFactors(dir);
  EXPECT_ERROR(ReadArrayFile<int32_t>(dir / "factors.bin"), ErrorCode::kInvalidParameterValue,
               Eq("'factors.bin' holds float64 values, expected int32"));
  WriteFile(dir / "other.bin", "PK\3\4 not an array");
  EXPECT_ERROR(ReadArrayFile<double>(dir / "other.bin"), ErrorCode::kInvalidParameterValue,
               Eq("'other.bin' is not an mltrack array file: it does not start with \"MLTA\""));
  EXPECT_ERROR(ReadArrayFile<double>(dir / "missing.bin"), ErrorCode::kResourceDoesNotExist,
               Eq(fmt::format("No such file: '{}'", (dir / "missing.bin").string())));
}

// --- flavors ---

TEST(FlavorRegistry, LoadsABundleFolderWithTheRegisteredFlavor) {
  TempDir dir;
  WriteScaleBundle(dir / "bundle", 3);
  FlavorRegistry registry;
  registry.Register("test.scale", ScaleLoader());
  std::unique_ptr<Model> model = LoadModel(dir / "bundle", registry);
  EXPECT_EQ(model->flavor(), "test.scale");
  EXPECT_EQ(model->meta().flavors.size(), 2u);
  Table input;
  input.AddColumn("x", std::vector<double>{1, 2});
  EXPECT_EQ(model->Predict(input).Find("y")->values, ColumnValues(std::vector<double>{3, 6}));
}

TEST(FlavorRegistry, LoadsABundleArchiveAndRemovesTheUnpackedCopy) {
  TempDir dir;
  WriteScaleBundle(dir / "bundle", 2);
  ExportBundle(dir / "bundle", dir / "bundle.tar.gz");
  fs::remove_all(dir / "bundle");
  FlavorRegistry registry;
  fs::path seen;
  registry.Register("test.scale", [&](const fs::path& bundle, const ModelMeta& meta) {
    seen = bundle;
    return ScaleLoader()(bundle, meta);
  });
  std::unique_ptr<Model> model = LoadModel(dir / "bundle.tar.gz", registry);
  Table input;
  input.AddColumn("x", std::vector<double>{5});
  EXPECT_EQ(model->Predict(input).Find("y")->values, ColumnValues(std::vector<double>{10}));
  EXPECT_FALSE(seen.empty());
  EXPECT_FALSE(fs::exists(seen));
}

TEST(FlavorRegistry, UnknownFlavorListsWhatWasFoundAndWhatIsKnown) {
  TempDir dir;
  WriteScaleBundle(dir / "bundle", 3);
  FlavorRegistry registry;
  registry.Register("mltrack.als", ScaleLoader());
  registry.Register("mltrack.random_forest", ScaleLoader());
  EXPECT_ERROR(LoadModel(dir / "bundle", registry), ErrorCode::kInvalidParameterValue,
               Eq(fmt::format("Cannot load the model at '{}': none of its flavors "
                              "(python_function, test.scale) has a loader here; known flavors: "
                              "mltrack.als, mltrack.random_forest",
                              (dir / "bundle").string())));
  FlavorRegistry empty;
  EXPECT_ERROR(LoadModel(dir / "bundle", empty), ErrorCode::kInvalidParameterValue,
               HasSubstr("known flavors: none"));
}

TEST(FlavorRegistry, RefusesASecondLoaderForAFlavor) {
  FlavorRegistry registry;
  registry.Register("test.scale", ScaleLoader());
  EXPECT_ERROR(registry.Register("test.scale", ScaleLoader()), ErrorCode::kResourceAlreadyExists,
               Eq("Flavor 'test.scale' already has a loader"));
  EXPECT_EQ(registry.Flavors(), std::vector<std::string>{"test.scale"});
}

TEST(FlavorRegistry, NamesAMissingBundle) {
  TempDir dir;
  FlavorRegistry registry;
  EXPECT_ERROR(LoadModel(dir / "nope", registry), ErrorCode::kResourceDoesNotExist,
               Eq(fmt::format("No model bundle at '{}'", (dir / "nope").string())));
}

}  // namespace
}  // namespace mltrack::models
