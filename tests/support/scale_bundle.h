// A tiny flavor for tests that load models: "test.scale" predicts y = scale * x, the scale read
// from the bundle's array file. Real bundle code end to end (MLmodel, array file, flavor table).
#pragma once

#include <filesystem>

#include "models/bundle/flavor_registry.h"

namespace mltrack::testing {

inline constexpr const char* kScaleFlavor = "test.scale";

// The loader of the "test.scale" flavor.
models::FlavorLoader ScaleLoader();

// Writes a bundle folder at `dir` (created): an MLmodel with the flavors test.scale (data
// scale.bin) and python_function, a signature x:double -> y:double, and scale.bin.
void WriteScaleBundle(const std::filesystem::path& dir, double scale);

// y for an input column x, through model->Predict.
std::vector<double> PredictScale(const models::Model& model, const std::vector<double>& x);

}  // namespace mltrack::testing
