// The Open Inference Protocol (KServe v2) as the scoring server speaks it: request bodies
//   {"id": "...", "inputs": [{"name": "x", "shape": [n] | [n, 1], "datatype": "FP64", "data":
//    [...]}, ...], "parameters": {...}, "outputs": [{"name": "prediction"}, ...]}
// decoded into the same ScoringRequest /invocations makes (one column per input tensor), and
// answers {"model_name", "model_version" (registered versions only), "id", "outputs": [{"name",
// "shape", "datatype", "data"}]}.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "models/bundle/signature.h"
#include "serving/request_codec.h"

namespace mltrack::serving {

// The protocol's datatype of a column type: BOOL, INT32, INT64, FP32, FP64, otherwise BYTES.
const char* V2Datatype(models::DataType type);

// Tensor metadata of a schema for GET /v2/models/<name>: [{"name", "datatype", "shape": [-1]}];
// unnamed columns are called `unnamed` (one column) or `unnamed`_i.
nlohmann::json V2TensorSpecs(const models::Schema& schema, const char* unnamed);

// What an inference request asks besides its inputs.
struct V2Extras {
  nlohmann::json id = nullptr;       // echoed in the answer
  nlohmann::json outputs = nullptr;  // the outputs asked for; null: all
};

// Decodes an inference request body into the scoring request, and its id and outputs into
// `extras`. Throws Error(kBadRequest) "Invalid input. ..." naming the tensor and the problem
// (not JSON, nested deeper than 64 levels, no inputs, a shape other than [n] or [n, 1], a value
// count that differs from the shape, a value of the wrong datatype, an unknown datatype,
// parameters that are not an object).
ScoringRequest DecodeV2Request(std::string_view body, V2Extras& extras);

// The answer for the table a scorer returned, with the outputs `extras` asks for (Error
// kBadRequest naming an output the model does not have).
std::string EncodeV2Response(const models::Table& table, const V2Extras& extras,
                             const std::string& model_name, const std::string& model_version);

}  // namespace mltrack::serving
