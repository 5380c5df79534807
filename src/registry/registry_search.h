// Search filters and order_by of the registry's two search endpoints, compiled to parameterized
// SQL over `registered_models rm` and `model_versions mv`. The grammar is the tracking search
// grammar (tracking/search_ast.h: AND, OR, parentheses, IS NULL, and its error messages); the
// keys are MLflow's:
//   registered models  filter: name, tags.<key>          order_by: name, last_updated_timestamp
//                      (alias timestamp), creation_timestamp
//   model versions     filter: name, run_id, source_path, version_number (numeric), tags.<key>
//                      order_by: name, version_number, creation_timestamp, last_updated_timestamp
// LIKE is case-sensitive and ILIKE is not, as in MLflow. Every user value is a bound parameter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/sqlite.h"

namespace mltrack::registry {

// MLflow's limits of max_results: SearchRegisteredModels at most 1000, SearchModelVersions at
// most 200,000.
inline constexpr int kMaxRegisteredModelResults = 1000;
inline constexpr int kMaxModelVersionResults = 200000;

// A WHERE condition (never empty: "1" for a blank filter). Throws Error(kInvalidParameterValue).
sqlite::SqlFragment CompileRegisteredModelFilter(std::string_view filter);
sqlite::SqlFragment CompileModelVersionFilter(std::string_view filter);

// An ORDER BY list (without the keywords) ending in the tie-breakers MLflow adds: name ASC for
// models; name ASC, version DESC for versions. An empty `order_by` of versions means MLflow's
// default "last_updated_timestamp DESC, name ASC, version_number DESC". Throws
// Error(kInvalidParameterValue): the parser's message for an unknown key or bad syntax, and
//   "Invalid order by key '<key>' specified. Valid keys are [...]" for a tag or a filter-only
//   attribute (run_id, source_path),
//   "`order_by` contains duplicate fields: ['<clause>', ...]"
std::string CompileRegisteredModelOrder(const std::vector<std::string>& order_by);
std::string CompileModelVersionOrder(const std::vector<std::string>& order_by);

// 1..max, else Error(kInvalidParameterValue) with MLflow's messages:
//   "Invalid value for max_results. It must be a positive integer, but got <N>"
//   "Invalid value for request parameter max_results. It must be at most <max>, but got value <N>"
void ValidateSearchMaxResults(int64_t max_results, int max);

}  // namespace mltrack::registry
