#include "models/bundle/mlmodel.h"

#include <chrono>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack::models {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::Eq;
using ::testing::HasSubstr;
using nlohmann::json;

ModelMeta SampleMeta() {
  ModelMeta meta;
  meta.artifact_path = "model";
  meta.run_id = "5a2c0e7d9b8f4a6e8c1d2b3a4f5e6d7c";
  meta.utc_time_created = "2026-11-22 05:21:19.123456";
  meta.model_uuid = "0b1f2e3d4c5b6a7988776655443322ff";
  meta.mltrack_version = "0.1.0";
  meta.flavors["mltrack.als"] = {{"data", "factors.bin"}, {"format_version", 1}, {"rank", 20},
                                 {"reg", 0.1}, {"implicit", false}};
  meta.signature = Signature{
      .inputs = {{.name = "user", .type = DataType::kLong}, {.name = "item", .type = DataType::kLong}},
      .outputs = Schema{{.type = DataType::kDouble}}};
  meta.saved_input_example_info = InputExampleInfo{};
  return meta;
}

TEST(Mlmodel, WritesMlflowFieldsInSortedOrder) {
  EXPECT_EQ(MlmodelToYaml(SampleMeta()),
            "artifact_path: model\n"
            "flavors:\n"
            "  mltrack.als:\n"
            "    data: factors.bin\n"
            "    format_version: 1\n"
            "    implicit: false\n"
            "    rank: 20\n"
            "    reg: 0.1\n"
            "mltrack_version: 0.1.0\n"
            "model_uuid: 0b1f2e3d4c5b6a7988776655443322ff\n"
            "run_id: 5a2c0e7d9b8f4a6e8c1d2b3a4f5e6d7c\n"
            "saved_input_example_info:\n"
            "  artifact_path: input_example.json\n"
            "  pandas_orient: split\n"
            "  type: dataframe\n"
            "signature:\n"
            "  inputs: '[{\"type\": \"long\", \"name\": \"user\", \"required\": true}, {\"type\": "
            "\"long\", \"name\": \"item\", \"required\": true}]'\n"
            "  outputs: '[{\"type\": \"double\", \"required\": true}]'\n"
            "  params: null\n"
            "utc_time_created: '2026-11-22 05:21:19.123456'\n");
}

TEST(Mlmodel, QuotesStringsThatWouldReadAsOtherTypes) {
  ModelMeta meta = SampleMeta();
  meta.flavors = {{"f", {{"a", "yes"}, {"b", "123"}, {"c", "a: b"}, {"d", "two\nlines"},
                         {"e", json::object()}, {"g", json::array()}, {"h", 2.0}}}};
  std::string yaml = MlmodelToYaml(meta);
  EXPECT_THAT(yaml, HasSubstr("flavors:\n"
                              "  f:\n"
                              "    a: 'yes'\n"
                              "    b: '123'\n"
                              "    c: 'a: b'\n"
                              "    d: \"two\\nlines\"\n"
                              "    e: {}\n"
                              "    g: []\n"
                              "    h: 2.0\n"));
}

TEST(Mlmodel, SaveLoadSaveIsByteIdentical) {
  TempDir dir;
  ModelMeta meta = SampleMeta();
  // Strings that would read back as other types, or are not valid plain YAML, unless quoted.
  meta.flavors["mltrack.als"]["notes"] = json::array(
      {"yes", "123", "1.5", "", "null", "true", "a: b", "#x", "- y", "multi\nline", "ünïcode"});
  meta.flavors["mltrack.als"]["nested"] = {{"empty_map", json::object()},
                                           {"empty_list", json::array()},
                                           {"whole_double", 2.0},
                                           {"big", 1e300},
                                           {"negative", -7}};
  meta.flavors["python_function"] = {{"loader_module", "mltrack"}, {"env", nullptr}};
  meta.signature->params_json = R"([{"name": "k", "type": "long", "default": 10, "shape": null}])";
  meta.other_fields["model_size_bytes"] = 12345;
  meta.other_fields["metadata"] = {{"owner", "recs team"}};
  meta.saved_input_example_info->other_fields["serving_input_path"] = "serving_input_example.json";

  WriteMlmodel(dir / "MLmodel", meta);
  std::string first = ReadFile(dir / "MLmodel");
  ModelMeta loaded = ReadMlmodel(dir / "MLmodel");
  EXPECT_EQ(loaded, meta);
  WriteMlmodel(dir / "MLmodel2", loaded);
  EXPECT_EQ(ReadFile(dir / "MLmodel2"), first);
}

TEST(Mlmodel, ReadsAFileWrittenByMlflow) {
  TempDir dir;
  WriteFile(dir / "MLmodel",
            "artifact_path: model\n"
            "flavors:\n"
            "  python_function:\n"
            "    env:\n"
            "      conda: conda.yaml\n"
            "      virtualenv: python_env.yaml\n"
            "    loader_module: mlflow.sklearn\n"
            "    model_path: model.pkl\n"
            "    predict_fn: predict\n"
            "    python_version: 3.11.2\n"
            "  sklearn:\n"
            "    code: null\n"
            "    pickled_model: model.pkl\n"
            "    serialization_format: cloudpickle\n"
            "    sklearn_version: 1.2.1\n"
            "mlflow_version: 2.17.0\n"
            "model_size_bytes: 1043\n"
            "model_uuid: 7d8e5a1f3c2b4e6a9f0d1c2b3a4e5f60\n"
            "run_id: 1a2b3c4d5e6f47889900aabbccddeeff\n"
            "saved_input_example_info:\n"
            "  artifact_path: input_example.json\n"
            "  pandas_orient: split\n"
            "  serving_input_path: serving_input_example.json\n"
            "  type: dataframe\n"
            "signature:\n"
            "  inputs: '[{\"type\": \"double\", \"name\": \"x\", \"required\": true}, {\"type\":\n"
            "    \"long\", \"name\": \"age\"}]'\n"
            "  outputs: '[{\"type\": \"long\", \"required\": true}]'\n"
            "  params: null\n"
            "utc_time_created: '2024-10-01 09:30:00.000001'\n");
  ModelMeta meta = ReadMlmodel(dir / "MLmodel");
  EXPECT_EQ(meta.artifact_path, "model");
  EXPECT_EQ(meta.run_id, "1a2b3c4d5e6f47889900aabbccddeeff");
  EXPECT_EQ(meta.model_uuid, "7d8e5a1f3c2b4e6a9f0d1c2b3a4e5f60");
  EXPECT_EQ(meta.utc_time_created, "2024-10-01 09:30:00.000001");
  EXPECT_EQ(meta.mltrack_version, "");
  ASSERT_EQ(meta.flavors.size(), 2u);
  EXPECT_EQ(meta.flavors["sklearn"]["code"], nullptr);
  EXPECT_EQ(meta.flavors["python_function"]["python_version"], "3.11.2");
  EXPECT_EQ(meta.flavors["python_function"]["env"]["conda"], "conda.yaml");
  ASSERT_TRUE(meta.signature.has_value());
  EXPECT_EQ(meta.signature->inputs,
            (Schema{{.name = "x", .type = DataType::kDouble},
                    {.name = "age", .type = DataType::kLong, .required = true}}));
  EXPECT_EQ(meta.signature->outputs, (Schema{{.type = DataType::kLong}}));
  EXPECT_FALSE(meta.signature->params_json.has_value());
  EXPECT_EQ(meta.other_fields["mlflow_version"], "2.17.0");
  EXPECT_EQ(meta.other_fields["model_size_bytes"], 1043);
  ASSERT_TRUE(meta.saved_input_example_info.has_value());
  EXPECT_EQ(meta.saved_input_example_info->pandas_orient, "split");
  EXPECT_EQ(meta.saved_input_example_info->other_fields["serving_input_path"],
            "serving_input_example.json");
  // What mltrack writes back reads as the same meta.
  WriteMlmodel(dir / "again", meta);
  EXPECT_EQ(ReadMlmodel(dir / "again"), meta);
}

TEST(Mlmodel, NewModelMetaHasAUuidAndTheCreationTime) {
  ModelMeta meta = NewModelMeta();
  EXPECT_THAT(meta.model_uuid, ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(meta.utc_time_created,
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}"));
  EXPECT_FALSE(meta.mltrack_version.empty());
  EXPECT_NE(NewModelMeta().model_uuid, meta.model_uuid);
}

TEST(Mlmodel, FormatsUtcTimeAsMlflow) {
  using namespace std::chrono;
  sys_time<microseconds> t = sys_days{2024y / 2 / 29} + 23h + 59min + 58s + 7us;
  EXPECT_EQ(FormatUtcTime(t), "2024-02-29 23:59:58.000007");
}

// --- malformed files: the file, the line and the field are named ---

class MalformedMlmodel : public ::testing::Test {
 protected:
  void ExpectRefused(const std::string& text, const std::string& problem) {
    WriteFile(dir_ / "MLmodel", text);
    EXPECT_ERROR(ReadMlmodel(dir_ / "MLmodel"), ErrorCode::kInvalidParameterValue,
                 Eq(fmt::format("Invalid MLmodel file '{}': {}", (dir_ / "MLmodel").string(),
                                problem)));
  }
  TempDir dir_;
};

constexpr const char* kValidTail =
    "flavors:\n"
    "  mltrack.als:\n"
    "    data: factors.bin\n"
    "utc_time_created: '2026-11-22 05:21:19.123456'\n";

TEST_F(MalformedMlmodel, YamlSyntaxError) {
  ExpectRefused("flavors:\n  mltrack.als: {data: x\nutc_time_created: '2026-11-22 05:21:19.123456'\n",
                "line 3: YAML syntax error: end of map flow not found");
}

TEST_F(MalformedMlmodel, NotAMap) {
  ExpectRefused("- a\n- b\n", "line 1: it must be a YAML map of fields");
}

TEST_F(MalformedMlmodel, MissingFlavors) {
  ExpectRefused("artifact_path: model\nutc_time_created: '2026-11-22 05:21:19.123456'\n",
                "missing required field 'flavors'");
}

TEST_F(MalformedMlmodel, MissingTime) {
  ExpectRefused("flavors:\n  mltrack.als:\n    data: x\n",
                "missing required field 'utc_time_created'");
}

TEST_F(MalformedMlmodel, FlavorsOfTheWrongType) {
  ExpectRefused("artifact_path: model\nflavors:\n  - mltrack.als\n"
                "utc_time_created: '2026-11-22 05:21:19.123456'\n",
                "line 3: field 'flavors' must be a map of flavor name to settings, got a list");
}

TEST_F(MalformedMlmodel, FlavorSettingsOfTheWrongType) {
  ExpectRefused("flavors:\n  mltrack.als: 3\nutc_time_created: '2026-11-22 05:21:19.123456'\n",
                "line 2: field 'flavors.mltrack.als' must be a map, got a scalar");
}

TEST_F(MalformedMlmodel, RunIdOfTheWrongType) {
  ExpectRefused(std::string("run_id:\n  a: b\n") + kValidTail,
                "line 2: field 'run_id' must be a string, got a map");
}

TEST_F(MalformedMlmodel, BadUuid) {
  ExpectRefused(std::string(kValidTail) + "model_uuid: not-a-uuid\n",
                "line 5: field 'model_uuid' must be 32 hex digits, got 'not-a-uuid'");
}

TEST_F(MalformedMlmodel, BadTime) {
  ExpectRefused("flavors:\n  mltrack.als:\n    data: x\nutc_time_created: 2026-11-22\n",
                "line 4: field 'utc_time_created' must have the form 'YYYY-MM-DD HH:MM:SS.ffffff', "
                "got '2026-11-22'");
}

TEST_F(MalformedMlmodel, SignatureInputsNotJson) {
  WriteFile(dir_ / "MLmodel", std::string(kValidTail) + "signature:\n  inputs: '[{\"type\": '\n");
  EXPECT_ERROR(ReadMlmodel(dir_ / "MLmodel"), ErrorCode::kInvalidParameterValue,
               HasSubstr("MLmodel': line 6: field 'signature.inputs' is not a valid schema: it is "
                         "not valid JSON ("));
}

TEST_F(MalformedMlmodel, UnknownColumnType) {
  ExpectRefused(std::string(kValidTail) +
                    "signature:\n  inputs: '[{\"type\": \"decimal\", \"name\": \"x\"}]'\n",
                "line 6: field 'signature.inputs' is not a valid schema: column 0 has unknown "
                "type 'decimal'");
}

TEST_F(MalformedMlmodel, TensorSchema) {
  ExpectRefused(std::string(kValidTail) +
                    "signature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {}}]'\n",
                "line 6: field 'signature.inputs' is not a valid schema: column 0 has type "
                "'tensor': only column-based schemas of basic types are supported");
}

TEST_F(MalformedMlmodel, SignatureWithoutInputs) {
  ExpectRefused(std::string(kValidTail) + "signature:\n  outputs: null\n",
                "line 6: missing required field 'signature.inputs'");
}

TEST_F(MalformedMlmodel, SavedInputExampleWithoutPath) {
  ExpectRefused(std::string(kValidTail) + "saved_input_example_info:\n  type: dataframe\n",
                "line 6: missing required field 'saved_input_example_info.artifact_path'");
}

TEST(Mlmodel, MissingFileIsResourceDoesNotExist) {
  TempDir dir;
  EXPECT_ERROR(ReadMlmodel(dir / "MLmodel"), ErrorCode::kResourceDoesNotExist,
               Eq(fmt::format("No MLmodel file at '{}'", (dir / "MLmodel").string())));
}

TEST(Mlmodel, RefusesToWriteWhatItCouldNotRead) {
  TempDir dir;
  ModelMeta meta = SampleMeta();
  meta.flavors.clear();
  EXPECT_ERROR(WriteMlmodel(dir / "MLmodel", meta), ErrorCode::kInvalidParameterValue,
               Eq("A model must have at least one flavor"));
  EXPECT_FALSE(fs::exists(dir / "MLmodel"));
  meta = SampleMeta();
  meta.model_uuid = "XYZ";
  EXPECT_ERROR(WriteMlmodel(dir / "MLmodel", meta), ErrorCode::kInvalidParameterValue,
               Eq("model_uuid must be 32 hex digits, got 'XYZ'"));
}

}  // namespace
}  // namespace mltrack::models
