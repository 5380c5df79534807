#include "support/scale_bundle.h"

#include <span>
#include <vector>

#include "models/bundle/array_file.h"
#include "models/bundle/mlmodel.h"

namespace mltrack::testing {
namespace {

namespace fs = std::filesystem;
using models::ModelMeta;
using models::Table;

class ScaleModel final : public models::Model {
 public:
  explicit ScaleModel(double scale) : scale_(scale) {}
  Table Predict(const Table& input) const override {
    const auto& x = std::get<std::vector<double>>(input.Find("x")->values);
    std::vector<double> y;
    for (double v : x) y.push_back(scale_ * v);
    Table out;
    out.AddColumn("y", std::move(y));
    return out;
  }
  std::string flavor() const override { return kScaleFlavor; }

 private:
  double scale_;
};

}  // namespace

models::FlavorLoader ScaleLoader() {
  return [](const fs::path& dir, const ModelMeta& meta) -> std::unique_ptr<models::Model> {
    std::string data = meta.flavors.at(kScaleFlavor).at("data").get<std::string>();
    return std::make_unique<ScaleModel>(models::ReadArrayFile<double>(dir / data).values.at(0));
  };
}

void WriteScaleBundle(const fs::path& dir, double scale) {
  fs::create_directories(dir);
  ModelMeta meta = models::NewModelMeta();
  meta.flavors[kScaleFlavor] = {{"data", "scale.bin"}, {"format_version", 1}};
  meta.flavors["python_function"] = {{"loader_module", "mltrack"}};
  meta.signature = models::Signature{
      .inputs = {models::ColumnSpec{.name = "x", .type = models::DataType::kDouble}},
      .outputs = models::Schema{models::ColumnSpec{.name = "y", .type = models::DataType::kDouble}}};
  models::WriteMlmodel(dir / "MLmodel", meta);
  std::vector<uint64_t> shape{1};
  std::vector<double> values{scale};
  models::WriteArrayFile(dir / "scale.bin", shape, std::span<const double>(values));
}

std::vector<double> PredictScale(const models::Model& model, const std::vector<double>& x) {
  Table input;
  input.AddColumn("x", x);
  return std::get<std::vector<double>>(model.Predict(input).Find("y")->values);
}

}  // namespace mltrack::testing
