#include "models/forest/forest_model.h"

#include <algorithm>
#include <bit>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "common/parallel.h"
#include "models/bundle/array_file.h"
#include "models/bundle/flavor_files.h"
#include "models/bundle/file_util.h"
#include "models/bundle/input_example.h"
#include "mltrack/error.h"

namespace mltrack::forest {

int Tree::depth() const {
  // An explicit stack rather than the builder's numbering, so that any acyclic tree works.
  if (feature.empty()) return 0;
  int deepest = 0;
  std::vector<std::pair<int32_t, int>> stack{{0, 0}};
  while (!stack.empty()) {
    auto [node, d] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, d);
    if (feature[node] >= 0) {
      stack.emplace_back(left[node], d + 1);
      stack.emplace_back(right[node], d + 1);
    }
  }
  return deepest;
}

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using models::DataType;
using data::FeatureColumn;

constexpr const char* kModelFile = "model.json";
constexpr const char* kNodesFile = "tree_nodes.bin";
constexpr const char* kOffsetsFile = "tree_offsets.bin";
constexpr const char* kThresholdsFile = "tree_thresholds.bin";
constexpr const char* kValuesFile = "tree_values.bin";
constexpr const char* kWeightsFile = "tree_weights.bin";
constexpr const char* kCategoriesFile = "tree_categories.bin";
constexpr int kNodeFields = 4;  // feature, left, right, category_set
// Rows per ParallelFor task: large enough to amortize handing out a task, small enough to
// balance 10,000 rows over a few cores.
constexpr size_t kRowsPerTask = 512;
// Far above any max_bins (256 categories are 4 words); bounds what a damaged file can ask for.
constexpr int64_t kMaxWordsPerSet = 1 << 16;

constexpr std::string_view kTitle = "random forest";  // "Invalid random forest bundle: ..."

[[noreturn]] void Damaged(std::string_view problem) { models::ThrowDamagedBundle(kTitle, problem); }

using models::ShapeText;

template <typename T>
models::Array<T> ReadTreeArray(const fs::path& dir, const char* file) {
  return models::ReadFlavorArray<T>(dir, file, kTitle);
}

template <typename T>
void ExpectShape(const models::Array<T>& array, const char* file,
                 const std::vector<uint64_t>& expected, std::string_view why) {
  models::ExpectArrayShape(array, file, expected, why, kTitle);
}

int64_t IntField(const json& model, const char* key, int64_t low, int64_t high) {
  return models::JsonIntField(model, key, low, high, kTitle);
}

const json& Field(const json& model, const char* key) {
  return models::JsonField(model, key, kTitle);
}

// Number of categorical splits of nodes [begin, end) of the nodes array: with words_per_set
// words each, the tree's share of tree_categories.bin (the file stores no per-tree offsets).
int64_t CategoricalSplits(std::span<const int32_t> nodes, int64_t begin, int64_t end) {
  int64_t count = 0;
  for (int64_t i = begin; i < end; ++i) count += nodes[i * kNodeFields + 3] >= 0;
  return count;
}

// Rows x value_width predictions of `rows` rows; `rows` is passed apart because a forest over
// zero features has zero columns. Each task takes a block of rows through one tree after the
// other (the tree's nodes stay in cache across the block); every row still sums its trees in
// tree order and divides as PredictRow does, so the results are PredictRow's, bit for bit, on
// any thread count.
std::vector<double> PredictRows(const RandomForestModel& model,
                                const std::vector<std::vector<double>>& columns, size_t rows,
                                int threads) {
  const size_t width = static_cast<size_t>(model.value_width());
  const size_t features = columns.size();
  const int words_per_set = model.words_per_set();
  const double trees = static_cast<double>(model.trees().size());
  std::vector<double> out(rows * width, 0.0);
  const size_t tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
  ParallelFor(tasks, ResolveThreads(threads), [&](size_t task) {
    const size_t first = task * kRowsPerTask, count = std::min(rows, first + kRowsPerTask) - first;
    std::vector<double> x(count * features);  // the block's rows, row-major
    for (size_t f = 0; f < features; ++f) {
      for (size_t r = 0; r < count; ++r) x[r * features + f] = columns[f][first + r];
    }
    double* block = out.data() + first * width;
    for (const Tree& tree : model.trees()) {
      for (size_t r = 0; r < count; ++r) {
        const double* leaf = tree.Leaf(x.data() + r * features, words_per_set,
                                       static_cast<int>(width));
        for (size_t k = 0; k < width; ++k) block[r * width + k] += leaf[k];
      }
    }
    for (size_t i = 0; i < count * width; ++i) block[i] /= trees;
  });
  return out;
}

}  // namespace

RandomForestModel::RandomForestModel(Task task, data::FeatureEncoder features,
                                     data::LabelEncoder labels, std::string label_column,
                                     int words_per_set, std::vector<Tree> trees,
                                     std::vector<double> feature_importances)
    : task_(task),
      features_(std::move(features)),
      labels_(std::move(labels)),
      label_column_(std::move(label_column)),
      words_per_set_(words_per_set),
      value_width_(task == Task::kClassification ? static_cast<int>(labels_.classes().size())
                                                 : 1),
      trees_(std::move(trees)),
      feature_importances_(std::move(feature_importances)) {}

int RandomForestModel::max_depth() const {
  int deepest = 0;
  for (const Tree& tree : trees_) deepest = std::max(deepest, tree.depth());
  return deepest;
}

size_t RandomForestModel::total_nodes() const {
  size_t n = 0;
  for (const Tree& tree : trees_) n += tree.num_nodes();
  return n;
}

void RandomForestModel::PredictRow(const double* x, double* out) const {
  const int width = value_width_;
  std::fill(out, out + width, 0.0);
  // Trees in order, so a row's sum does not depend on how rows were spread over threads.
  for (const Tree& tree : trees_) {
    const double* leaf = tree.Leaf(x, words_per_set_, width);
    for (int k = 0; k < width; ++k) out[k] += leaf[k];
  }
  const double trees = static_cast<double>(trees_.size());
  for (int k = 0; k < width; ++k) out[k] /= trees;
}

std::vector<double> RandomForestModel::PredictColumns(
    const std::vector<std::vector<double>>& columns, int threads) const {
  if (columns.size() != features_.columns().size()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("The random forest takes {} feature columns, got {}",
                            features_.columns().size(), columns.size()));
  }
  const size_t rows = columns.empty() ? 0 : columns[0].size();
  for (size_t f = 0; f < columns.size(); ++f) {
    if (columns[f].size() != rows) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Feature column {} has {} rows, expected {}", f, columns[f].size(),
                              rows));
    }
  }
  return PredictRows(*this, columns, rows, threads);
}

models::Table RandomForestModel::Predict(const models::Table& input) const {
  std::vector<std::vector<double>> columns = features_.EncodeColumns(input);
  const size_t rows = input.num_rows();
  return OutputTable(PredictRows(*this, columns, rows, 0), rows);
}

models::Table RandomForestModel::OutputTable(const std::vector<double>& predictions,
                                             size_t rows) const {
  models::Table out;
  if (task_ == Task::kRegression) {
    out.AddColumn("prediction", std::vector<double>(predictions.begin(),
                                                    predictions.begin() + rows));
    return out;
  }
  const int k = value_width_;
  const auto& names = labels_.classes();
  std::vector<size_t> best(rows);
  for (size_t i = 0; i < rows; ++i) {
    const double* p = predictions.data() + i * k;
    best[i] = static_cast<size_t>(std::max_element(p, p + k) - p);  // first of ties
  }
  out.AddColumn("prediction", labels_.Take(best));
  for (int c = 0; c < k; ++c) {
    std::vector<double> column(rows);
    for (size_t i = 0; i < rows; ++i) column[i] = predictions[i * k + c];
    out.AddColumn(fmt::format("probability_{}", names[c]), std::move(column));
  }
  return out;
}

models::Schema RandomForestModel::OutputSchema() const {
  models::Schema schema;
  schema.push_back({.name = "prediction",
                    .type = task_ == Task::kRegression ? DataType::kDouble
                                                       : labels_.PredictionType()});
  if (task_ == Task::kClassification) {
    for (const auto& label : labels_.classes()) {
      schema.push_back({.name = fmt::format("probability_{}", label), .type = DataType::kDouble});
    }
  }
  return schema;
}

void RandomForestModel::Save(const fs::path& dir, models::ModelMeta meta,
                             const std::optional<models::Table>& input_example) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot create the bundle folder '{}': {}", dir.string(),
                            ec.message()));
  }
  const size_t n = total_nodes();
  const size_t width = static_cast<size_t>(value_width_);
  const size_t w = static_cast<size_t>(words_per_set_);
  std::vector<int32_t> nodes;
  std::vector<int64_t> offsets{0};
  std::vector<double> thresholds, values, weights;
  std::vector<int64_t> words;
  nodes.reserve(n * kNodeFields);
  thresholds.reserve(n);
  values.reserve(n * width);
  weights.reserve(n);
  for (const Tree& tree : trees_) {
    // The file gives each tree (its categorical splits) x words_per_set words. A tree whose
    // category_words is exactly that long is written as it is (loading gives the same Tree);
    // otherwise its sets are rewritten one per categorical split, in node order.
    size_t splits = 0;
    for (int32_t set : tree.category_set) splits += set >= 0;
    const bool as_is = tree.category_words.size() == splits * w;
    for (size_t i = 0; i < tree.num_nodes(); ++i) {
      nodes.insert(nodes.end(),
                   {tree.feature[i], tree.left[i], tree.right[i], tree.category_set[i]});
      thresholds.push_back(tree.threshold[i]);
      weights.push_back(tree.weight[i]);
      values.insert(values.end(), tree.value.begin() + i * width,
                    tree.value.begin() + (i + 1) * width);
    }
    if (as_is) {
      for (uint64_t word : tree.category_words) words.push_back(std::bit_cast<int64_t>(word));
    } else {
      const size_t tree_start = nodes.size() - tree.num_nodes() * kNodeFields;
      int32_t next = 0;
      for (size_t i = 0; i < tree.num_nodes(); ++i) {
        int32_t set = tree.category_set[i];
        if (set < 0) continue;
        for (size_t k = 0; k < w; ++k) {
          words.push_back(std::bit_cast<int64_t>(tree.category_words[set + k]));
        }
        nodes[tree_start + i * kNodeFields + 3] = next;
        next += static_cast<int32_t>(w);
      }
    }
    offsets.push_back(static_cast<int64_t>(nodes.size() / kNodeFields));
  }
  const uint64_t num_nodes = n, num_trees = trees_.size();
  models::WriteArrayFile(dir / kNodesFile, std::vector<uint64_t>{num_nodes, kNodeFields},
                         std::span<const int32_t>(nodes));
  models::WriteArrayFile(dir / kOffsetsFile, std::vector<uint64_t>{num_trees + 1},
                         std::span<const int64_t>(offsets));
  models::WriteArrayFile(dir / kThresholdsFile, std::vector<uint64_t>{num_nodes},
                         std::span<const double>(thresholds));
  models::WriteArrayFile(dir / kValuesFile, std::vector<uint64_t>{num_nodes, width},
                         std::span<const double>(values));
  models::WriteArrayFile(dir / kWeightsFile, std::vector<uint64_t>{num_nodes},
                         std::span<const double>(weights));
  models::WriteArrayFile(dir / kCategoriesFile, std::vector<uint64_t>{words.size()},
                         std::span<const int64_t>(words));
  // nlohmann writes doubles in the shortest form that parses back to the same value, and
  // objects with sorted keys: the same model gives the same bytes.
  json model = {{"format_version", kForestFormatVersion},
                {"task", TaskName(task_)},
                {"label", label_column_},
                {"features", features_.ToJson()},
                {"num_trees", trees_.size()},
                {"words_per_set", words_per_set_},
                {"value_width", value_width_},
                {"max_depth", max_depth()},
                {"feature_importances", feature_importances_}};
  if (task_ == Task::kClassification) model["labels"] = labels_.ToJson();
  models::WriteFileAtomically(dir / kModelFile, model.dump(1) + "\n");
  meta.flavors[kForestFlavor] = {
      {"data", kModelFile},
      {"trees", json::array({kNodesFile, kOffsetsFile, kThresholdsFile, kValuesFile,
                             kWeightsFile, kCategoriesFile})},
      {"format_version", kForestFormatVersion}};
  meta.signature = models::Signature{.inputs = features_.InputSchema(), .outputs = OutputSchema()};
  if (input_example) models::WriteInputExample(dir, *input_example, meta);
  models::WriteMlmodel(dir / models::kMlmodelFileName, meta);
}

std::unique_ptr<models::Model> RandomForestModel::Load(const fs::path& dir,
                                                       const models::ModelMeta& meta) {
  // model.json: the encoders and the sizes every array is checked against.
  json model = models::ReadFlavorModelJson(dir, meta, kForestFlavor, kForestFormatVersion, kTitle);
  const json& task_name = Field(model, "task");
  if (task_name != "classification" && task_name != "regression") {
    Damaged(fmt::format("'{}' field 'task' is {}; expected \"classification\" or \"regression\"",
                        kModelFile, task_name.dump()));
  }
  const Task task = task_name == "regression" ? Task::kRegression : Task::kClassification;
  const json& label = Field(model, "label");
  if (!label.is_string()) {
    Damaged(fmt::format("'{}' field 'label' must be a string, got {}", kModelFile, label.dump()));
  }
  data::FeatureEncoder features;
  data::LabelEncoder labels;
  try {
    features = data::FeatureEncoder::FromJson(Field(model, "features"));
    if (task == Task::kClassification) {
      labels = data::LabelEncoder::FromJson(Field(model, "labels"));
    }
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidParameterValue) throw;
    Damaged(fmt::format("'{}': {}", kModelFile, e.what()));
  }
  const int64_t num_trees = IntField(model, "num_trees", 1, INT32_MAX);
  const int64_t w = IntField(model, "words_per_set", 0, kMaxWordsPerSet);
  const int64_t width = IntField(model, "value_width", 1, INT32_MAX);
  const int64_t classes = static_cast<int64_t>(labels.classes().size());
  if (task == Task::kClassification ? (classes < 2 || width != classes) : width != 1) {
    Damaged(fmt::format("'{}' field 'value_width' is {}, expected {}", kModelFile, width,
                        task == Task::kClassification
                            ? fmt::format("the class count {} (at least 2)", classes)
                            : std::string("1 for regression")));
  }
  const int64_t max_depth = IntField(model, "max_depth", 0, INT32_MAX);
  const size_t num_features = features.columns().size();
  const json& importances = Field(model, "feature_importances");
  if (!importances.is_array() || importances.size() != num_features ||
      !std::all_of(importances.begin(), importances.end(),
                   [](const json& v) { return v.is_number(); })) {
    Damaged(fmt::format("'{}' field 'feature_importances' must be {} numbers, one per feature "
                        "column",
                        kModelFile, num_features));
  }
  std::vector<double> feature_importances = importances.get<std::vector<double>>();

  // The arrays, their shapes against model.json and each other.
  auto nodes = ReadTreeArray<int32_t>(dir, kNodesFile);
  if (nodes.shape.size() != 2 || nodes.shape[1] != kNodeFields) {
    Damaged(fmt::format("'{}' has shape {}, expected [N, {}] (feature, left, right, "
                        "category_set of every node)",
                        kNodesFile, ShapeText(nodes.shape), kNodeFields));
  }
  const uint64_t n = nodes.shape[0];
  auto offsets = ReadTreeArray<int64_t>(dir, kOffsetsFile);
  ExpectShape(offsets, kOffsetsFile, {static_cast<uint64_t>(num_trees) + 1},
              fmt::format("num_trees {} + 1", num_trees));
  auto thresholds = ReadTreeArray<double>(dir, kThresholdsFile);
  ExpectShape(thresholds, kThresholdsFile, {n}, fmt::format("{} nodes", n));
  auto values = ReadTreeArray<double>(dir, kValuesFile);
  ExpectShape(values, kValuesFile, {n, static_cast<uint64_t>(width)},
              fmt::format("{} nodes, value_width {}", n, width));
  auto weights = ReadTreeArray<double>(dir, kWeightsFile);
  ExpectShape(weights, kWeightsFile, {n}, fmt::format("{} nodes", n));
  auto categories = ReadTreeArray<int64_t>(dir, kCategoriesFile);
  if (categories.shape.size() != 1) {
    Damaged(fmt::format("'{}' has shape {}, expected [C] (every tree's category words)",
                        kCategoriesFile, ShapeText(categories.shape)));
  }
  const auto& o = offsets.values;
  for (int64_t t = 0; t < num_trees; ++t) {
    if (o[t] < 0 || o[t + 1] <= o[t] || o[t + 1] - o[t] > INT32_MAX) {
      Damaged(fmt::format("'{}' gives tree {} the nodes [{}, {}): offsets must start at 0 and "
                          "increase",
                          kOffsetsFile, t, o[t], o[t + 1]));
    }
  }
  if (o[0] != 0 || static_cast<uint64_t>(o[num_trees]) != n) {
    Damaged(fmt::format("'{}' spans the nodes [{}, {}), expected [0, {}) (the nodes of '{}')",
                        kOffsetsFile, o[0], o[num_trees], n, kNodesFile));
  }
  int64_t needed_words = 0;
  for (int64_t t = 0; t < num_trees; ++t) {
    needed_words += CategoricalSplits(nodes.values, o[t], o[t + 1]) * w;
  }
  if (needed_words != static_cast<int64_t>(categories.values.size())) {
    Damaged(fmt::format("'{}' holds {} words; the trees' categorical splits of {} words each "
                        "need {}",
                        kCategoriesFile, categories.values.size(), w, needed_words));
  }

  // Every node, tree by tree. Invariant of the builder: children are numbered after their
  // parent (left, right > node). Checking it also rules out cycles, so Leaf() always ends.
  std::vector<Tree> trees(num_trees);
  int64_t word = 0;  // the tree's first word in tree_categories.bin
  for (int64_t t = 0; t < num_trees; ++t) {
    const int64_t begin = o[t], size = o[t + 1] - o[t];
    const int64_t words = CategoricalSplits(nodes.values, begin, o[t + 1]) * w;
    Tree& tree = trees[t];
    tree.feature.resize(size);
    tree.left.resize(size);
    tree.right.resize(size);
    tree.category_set.resize(size);
    for (int64_t i = 0; i < size; ++i) {
      const int32_t* node = nodes.values.data() + (begin + i) * kNodeFields;
      const int32_t f = node[0], left = node[1], right = node[2], set = node[3];
      auto bad = [&](std::string_view problem) {
        Damaged(fmt::format("'{}' node {} of tree {} {}", kNodesFile, i, t, problem));
      };
      if (f < 0) {
        if (f != -1 || left != -1 || right != -1 || set != -1) {
          bad(fmt::format("is a leaf (feature {}) with children {} and {} and category set {}; "
                          "a leaf has -1 for all four",
                          f, left, right, set));
        }
      } else {
        if (static_cast<size_t>(f) >= num_features) {
          bad(fmt::format("splits on feature {} out of range (the encoder has {} feature columns)",
                          f, num_features));
        }
        for (int32_t child : {left, right}) {
          if (child < 0 || child >= size) {
            bad(fmt::format("has child {} out of range (the tree has {} nodes)", child, size));
          }
          if (child <= i) {
            bad(fmt::format("has child {}, which does not come after it (children are numbered "
                            "after their parent)",
                            child));
          }
        }
        const FeatureColumn& column = features.columns()[f];
        if (column.categorical && (set < 0 || int64_t{set} + w > words)) {
          bad(fmt::format("splits on the categorical feature '{}' with category set {} out of "
                          "range (the tree has {} category words, {} per set)",
                          column.name, set, words, w));
        }
        if (!column.categorical && set != -1) {
          bad(fmt::format("has category set {} on the numeric feature '{}'; expected -1", set,
                          column.name));
        }
      }
      tree.feature[i] = f;
      tree.left[i] = left;
      tree.right[i] = right;
      tree.category_set[i] = set;
    }
    auto slice = [&](const std::vector<double>& all, int64_t per_node) {
      return std::vector<double>(all.begin() + begin * per_node,
                                 all.begin() + (begin + size) * per_node);
    };
    tree.threshold = slice(thresholds.values, 1);
    tree.value = slice(values.values, width);
    tree.weight = slice(weights.values, 1);
    tree.category_words.resize(words);
    for (int64_t k = 0; k < words; ++k) {
      tree.category_words[k] = std::bit_cast<uint64_t>(categories.values[word + k]);
    }
    word += words;
  }
  auto forest = std::make_unique<RandomForestModel>(
      task, std::move(features), std::move(labels), label.get<std::string>(),
      static_cast<int>(w), std::move(trees), std::move(feature_importances));
  if (forest->max_depth() != max_depth) {
    Damaged(fmt::format("'{}' field 'max_depth' is {}, but the trees are {} deep", kModelFile,
                        max_depth, forest->max_depth()));
  }
  return forest;
}

void RegisterForestFlavor(models::FlavorRegistry& registry) {
  if (registry.Find(kForestFlavor)) return;
  try {
    registry.Register(kForestFlavor, &RandomForestModel::Load);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kResourceAlreadyExists) throw;  // registered meanwhile
  }
}

}  // namespace mltrack::forest
