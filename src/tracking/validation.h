// MLflow's input validation for the tracking API: names, lengths, batch limits. Messages follow
// MLflow's wording so that users and clients see the same text from mltrack.
#pragma once

#include <string_view>
#include <vector>

#include "mltrack/entities.h"

namespace mltrack::tracking {

// Each throws Error(kInvalidParameterValue) with MLflow's message.
void ValidateMetricName(std::string_view name);
void ValidateParamName(std::string_view name);
void ValidateTagName(std::string_view name);
void ValidateMetric(const Metric& metric);
void ValidateParam(const Param& param);
void ValidateTag(const Tag& tag);
void ValidateExperimentTag(const Tag& tag);
void ValidateExperimentName(std::string_view name);
void ValidateRunId(std::string_view run_id);
void ValidateExperimentId(std::string_view experiment_id);
// Counts, per-entity validity and duplicate param keys of one log_batch.
void ValidateBatch(const std::vector<Metric>& metrics, const std::vector<Param>& params,
                   const std::vector<Tag>& tags);
// 1..max, else "Invalid value N for parameter 'max_results' supplied. It must be at most M".
void ValidateMaxResults(int max_results, int max);

}  // namespace mltrack::tracking
