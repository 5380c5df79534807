#include "models/bundle/input_example.h"

#include <cmath>
#include <variant>

#include "models/bundle/file_util.h"

namespace mltrack::models {

using nlohmann::json;

json TableToSplitJson(const Table& table, size_t max_rows) {
  size_t rows = std::min(table.num_rows(), max_rows);
  json columns = json::array();
  for (const auto& column : table.columns()) columns.push_back(column.name);
  json data = json::array();
  for (size_t i = 0; i < rows; ++i) {
    json row = json::array();
    for (const auto& column : table.columns()) {
      std::visit(
          [&](const auto& values) {
            using T = typename std::decay_t<decltype(values)>::value_type;
            if constexpr (std::is_same_v<T, double>) {
              if (std::isfinite(values[i])) {
                row.push_back(values[i]);
              } else {
                row.push_back(nullptr);
              }
            } else if constexpr (std::is_same_v<T, bool>) {
              row.push_back(static_cast<bool>(values[i]));
            } else {
              row.push_back(values[i]);
            }
          },
          column.values);
    }
    data.push_back(std::move(row));
  }
  return json{{"columns", std::move(columns)}, {"data", std::move(data)}};
}

void WriteInputExample(const std::filesystem::path& bundle_dir, const Table& example,
                       ModelMeta& meta) {
  InputExampleInfo info;
  info.artifact_path = "input_example.json";
  info.type = "dataframe";
  info.pandas_orient = "split";
  WriteFileAtomically(bundle_dir / info.artifact_path, TableToSplitJson(example).dump());
  meta.saved_input_example_info = info;
}

}  // namespace mltrack::models
