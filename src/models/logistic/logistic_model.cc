#include "models/logistic/logistic_model.h"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "models/bundle/array_file.h"
#include "models/bundle/file_util.h"
#include "models/bundle/input_example.h"
#include "models/logistic/logistic_objective.h"
#include "mltrack/error.h"

namespace mltrack::logistic {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using models::DataType;

constexpr const char* kModelFile = "model.json";
constexpr const char* kCoefficientsFile = "coefficients.bin";

[[noreturn]] void Damaged(const fs::path& dir, std::string_view problem) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Cannot load the logistic regression at '{}': {}", dir.string(), problem));
}

}  // namespace

LogisticModel::LogisticModel(data::FeatureEncoder features, data::LabelEncoder labels,
                             std::string label_column, std::vector<double> coefficients,
                             std::vector<double> intercepts)
    : features_(std::move(features)),
      labels_(std::move(labels)),
      label_column_(std::move(label_column)),
      coefficients_(std::move(coefficients)),
      intercepts_(std::move(intercepts)) {}

void LogisticModel::PredictProbabilities(const data::DenseMatrix& x,
                                         std::vector<double>& probabilities) const {
  logistic::PredictProbabilities(x, coefficients_, intercepts_, classes(), probabilities, 1);
}

models::Table LogisticModel::OutputTable(const std::vector<double>& probabilities,
                                         size_t rows) const {
  const int k = classes();
  const auto& names = labels_.classes();
  std::vector<size_t> best(rows);
  for (size_t i = 0; i < rows; ++i) {
    const double* p = probabilities.data() + i * k;
    best[i] = static_cast<size_t>(std::max_element(p, p + k) - p);  // first of ties
  }
  models::Table out;
  out.AddColumn("prediction", labels_.Take(best));
  for (int c = 0; c < k; ++c) {
    std::vector<double> column(rows);
    for (size_t i = 0; i < rows; ++i) column[i] = probabilities[i * k + c];
    out.AddColumn(fmt::format("probability_{}", names[c]), std::move(column));
  }
  return out;
}

models::Table LogisticModel::Predict(const models::Table& input) const {
  data::DenseMatrix x = features_.Encode(input);
  std::vector<double> probabilities;
  PredictProbabilities(x, probabilities);
  return OutputTable(probabilities, x.rows);
}

models::Schema LogisticModel::OutputSchema() const {
  models::Schema schema;
  schema.push_back({.name = "prediction", .type = labels_.PredictionType()});
  for (const auto& label : labels_.classes()) {
    schema.push_back({.name = fmt::format("probability_{}", label), .type = DataType::kDouble});
  }
  return schema;
}

void LogisticModel::Save(const fs::path& dir, models::ModelMeta meta,
                         const std::optional<models::Table>& input_example) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot create the bundle folder '{}': {}", dir.string(), ec.message()));
  }
  const size_t d = features_.width();
  const size_t blocks = intercepts_.size();
  std::vector<double> table(blocks * (d + 1));
  for (size_t k = 0; k < blocks; ++k) {
    std::copy_n(coefficients_.data() + k * d, d, table.data() + k * (d + 1));
    table[k * (d + 1) + d] = intercepts_[k];
  }
  std::vector<uint64_t> shape{blocks, d + 1};
  models::WriteArrayFile(dir / kCoefficientsFile, shape, std::span<const double>(table));
  json model = {{"format_version", kLogisticFormatVersion},
                {"family", blocks == 1 ? "binomial" : "multinomial"},
                {"label", label_column_},
                {"labels", labels_.ToJson()},
                {"features", features_.ToJson()}};
  models::WriteFileAtomically(dir / kModelFile, model.dump(1) + "\n");
  meta.flavors[kLogisticFlavor] = {{"data", kModelFile},
                                   {"coefficients", kCoefficientsFile},
                                   {"format_version", kLogisticFormatVersion}};
  meta.signature = models::Signature{.inputs = features_.InputSchema(), .outputs = OutputSchema()};
  if (input_example) models::WriteInputExample(dir, *input_example, meta);
  models::WriteMlmodel(dir / models::kMlmodelFileName, meta);
}

std::unique_ptr<models::Model> LogisticModel::Load(const fs::path& dir,
                                                   const models::ModelMeta& meta) {
  const json& flavor = meta.flavors.at(kLogisticFlavor);
  if (!flavor.is_object() || !flavor.contains("format_version") ||
      flavor["format_version"] != kLogisticFormatVersion) {
    Damaged(dir, fmt::format("its MLmodel names format_version {} of flavor {}; this mltrack "
                             "reads version {}",
                             flavor.is_object() && flavor.contains("format_version")
                                 ? flavor["format_version"].dump()
                                 : "(none)",
                             kLogisticFlavor, kLogisticFormatVersion));
  }
  json model;
  try {
    model = json::parse(models::ReadWholeFile(dir / kModelFile));
  } catch (const json::parse_error& e) {
    Damaged(dir, fmt::format("{} is not valid JSON: {}", kModelFile, e.what()));
  }
  if (!model.is_object() || model.value("format_version", json()) != kLogisticFormatVersion ||
      !model.contains("labels") || !model.contains("features") ||
      !model.value("label", json()).is_string()) {
    Damaged(dir, fmt::format("{} lacks format_version {}, label, labels or features", kModelFile,
                             kLogisticFormatVersion));
  }
  data::FeatureEncoder features = data::FeatureEncoder::FromJson(model["features"]);
  data::LabelEncoder labels = data::LabelEncoder::FromJson(model["labels"]);
  auto table = models::ReadArrayFile<double>(dir / kCoefficientsFile);
  const size_t d = features.width();
  const size_t classes = labels.classes().size();
  const size_t blocks = classes == 2 ? 1 : classes;
  if (classes < 2 || table.shape.size() != 2 || table.shape[0] != blocks ||
      table.shape[1] != d + 1) {
    Damaged(dir, fmt::format("{} has shape {}, expected [{}, {}] for {} classes and {} features",
                             kCoefficientsFile, json(table.shape).dump(), blocks, d + 1, classes,
                             d));
  }
  std::vector<double> coefficients(blocks * d), intercepts(blocks);
  for (size_t k = 0; k < blocks; ++k) {
    std::copy_n(table.values.data() + k * (d + 1), d, coefficients.data() + k * d);
    intercepts[k] = table.values[k * (d + 1) + d];
  }
  return std::make_unique<LogisticModel>(std::move(features), std::move(labels),
                                         model["label"].get<std::string>(), std::move(coefficients),
                                         std::move(intercepts));
}

void RegisterLogisticFlavor(models::FlavorRegistry& registry) {
  if (registry.Find(kLogisticFlavor)) return;
  try {
    registry.Register(kLogisticFlavor, &LogisticModel::Load);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kResourceAlreadyExists) throw;  // registered meanwhile
  }
}

}  // namespace mltrack::logistic
