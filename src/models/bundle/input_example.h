// The input example a bundle carries (input_example.json): a few rows of what the model takes,
// in pandas' "split" orient as MLflow writes it: {"columns": [...], "data": [[...], ...]}.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "models/bundle/mlmodel.h"
#include "models/bundle/signature.h"

namespace mltrack::models {

// The first `max_rows` rows of `table` in split orient; NaN is written as null.
nlohmann::json TableToSplitJson(const Table& table, size_t max_rows = SIZE_MAX);

// Writes input_example.json into `bundle_dir` (atomically) and records it in `meta`
// (saved_input_example_info: artifact_path input_example.json, type dataframe, orient split).
void WriteInputExample(const std::filesystem::path& bundle_dir, const Table& example,
                       ModelMeta& meta);

}  // namespace mltrack::models
