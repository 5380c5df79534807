// The routes the web app (`mlt ui`, ui/) needs beyond MLflow's REST API: MLflow's own UI routes
// for artifact bytes, and mltrack's additions under /ajax-api/2.0/mltrack/ (each also under
// /api/2.0/mltrack/). Errors are MLflow's JSON bodies {"error_code": ..., "message": ...};
// "Missing value for required parameter '<name>'. See the API docs for more information about
// request parameters." is written <missing '<name>'> below. GET fields come from the query
// string (lists as repeated keys), POST fields from a JSON body (Content-Type: application/json).
//
// GET /get-artifact?run_uuid=<id>&path=<relative path>    (also /ajax-api/2.0/mlflow/get-artifact;
//     run_id is accepted for run_uuid)
//   200  the bytes of one artifact file of the run, streamed with Content-Length, wherever the
//        run's artifact URI points: this server's proxied destination (mlflow-artifacts:/...) or
//        a local folder (a path or file:// URI). Headers: X-Content-Type-Options: nosniff;
//        Content-Security-Policy: sandbox (an artifact opened directly runs no script);
//        Content-Type from the name as MLflow guesses it, with text types (text/plain,
//        text/html, text/css) sent as "text/plain; charset=utf-8" and images as their type
//        ("image/png"); any other type also gets Content-Disposition: attachment.
//   400  <missing 'run_uuid'>, <missing 'path'>;
//        "Invalid artifact path '../x': it escapes its root folder" (NormalizeRelativePath: `..`,
//        absolute paths, backslashes), "... through the symbolic link '<link>'" (a link that
//        leads out of the run's artifact folder);
//        "Artifact '<path>' is not a regular file" (a pipe, socket or device)
//   404  "Run with id=<id> not found"; "Artifact '<path>' does not exist";
//        "Artifact '<path>' is a folder, not a file"
//
// GET /model-versions/get-artifact?name=<model>&version=<v>&path=<relative path>
//     (also /ajax-api/2.0/mlflow/model-versions/get-artifact)
//   200  a file of the version's artifacts, as /get-artifact answers. The version's source is
//        followed: runs:/<run>/<path> to that folder of the run's artifacts, models:/... to the
//        version it names, an artifact URI (mlflow-artifacts:/..., file://..., a path) to that
//        folder.
//   400  <missing 'name'>, <missing 'version'>, <missing 'path'>, the path errors above, the
//        registry's errors for a malformed version
//   404  "Model Version (name=<name>, version=<v>) not found" (also for an unknown model),
//        "Artifact '<path>' does not exist"
//
// GET /ajax-api/2.0/mltrack/runs/columns?experiment_ids=<id>[&experiment_ids=<id>...]
//   200  {"params": [...], "metrics": [...], "tags": [...]}: the distinct param, metric and tag
//        keys of the active runs of those experiments, each list sorted (byte order) and always
//        present.
//   400  <missing 'experiment_ids'>
//   404  "No Experiment with id=<id> exists" (also for an id that is not a number)
//
// POST /ajax-api/2.0/mltrack/runs/child-counts   {"run_ids": ["<id>", ...]}
//   200  {"counts": {"<run id>": <n>, ...}}: for each listed run with n > 0 children, n, a child
//        being an active run whose tag mlflow.parentRunId holds the id. Unknown ids, and runs
//        without children, are left out.
//   400  "Malformed JSON in request body: <parser's message with its position>",
//        "Bad Request. Content-Type must be one of ['application/json'].", <missing 'run_ids'>,
//        "Invalid value <value> for parameter 'run_ids' supplied:  Hint: Value was of type
//        '<type>'. See the API docs ..." (not a list), "... supplied: Every item must be a
//        string. See ..." , "At most 1000 run_ids may be given, got <n>"
//
// GET /ajax-api/2.0/mltrack/runs/export-csv?experiment_ids=<id>[...]&filter=<filter>
//     &order_by=<clause>[...]&columns=<column>[...]&run_view_type=ACTIVE_ONLY|DELETED_ONLY|ALL
//   200  text/csv; charset=utf-8, Content-Disposition: attachment; filename="runs.csv": every
//        run the same runs/search would return (all pages), in its order, streamed. The first
//        row holds the column ids; then one row per run. Columns:
//          attributes.run_id, attributes.run_name, attributes.status, attributes.user_id,
//          attributes.experiment_id, attributes.start_time, attributes.end_time (ISO 8601 UTC
//          with milliseconds: 2026-11-26T14:03:07.123Z), attributes.duration (end - start in
//          seconds, "12.5"; empty while running), params.<key>, metrics.<key> (the latest
//          value; NaN, Infinity, -Infinity as MLflow writes them), tags.<key>; a missing value
//          is an empty cell. Without `columns`: run_id, run_name, status, start_time, duration,
//          user_id, then every param key and every metric key the exported runs have, sorted.
//        Rows end with CRLF; a cell holding a comma, a double quote, CR or LF is quoted (RFC
//        4180, quotes doubled). A text cell that starts with =, +, -, @, tab or CR gets a
//        leading ' so that spreadsheets do not run it as a formula, unless the whole cell is a
//        decimal number ("-1.5").
//   400  <missing 'experiment_ids'>, runs/search's filter and order_by errors
//        ("Invalid filter '<text>': ... at position <P>"),
//        "Invalid column '<column>': expected attributes.<name>, params.<key>, metrics.<key> or
//        tags.<key>", "Invalid column 'attributes.<name>': valid attributes are <list>"
//   404  "No Experiment with id=<id> exists" (also for an id that is not a number)
//
// GET /ajax-api/2.0/mltrack/artifacts/mlmodel?run_id=<id>&path=<folder holding MLmodel>
// GET /ajax-api/2.0/mltrack/model-versions/mlmodel?name=<model>&version=<v>
//   200  {"mlmodel": <the MLmodel file as JSON>}, with signature.inputs, signature.outputs and
//        signature.params (JSON strings in the YAML, as MLflow writes them) parsed: arrays, or
//        null when absent. path may be empty (an MLmodel at the root of the artifacts).
//   400  <missing 'run_id'>, <missing 'name'>, <missing 'version'>, the path errors above;
//        "Invalid MLmodel file '<path>/MLmodel': line <n>: <problem>" for a malformed file
//        (the path relative to the artifacts: no server folder is revealed)
//   404  "Run with id=<id> not found", the registry's errors, "No MLmodel file at
//        '<path>/MLmodel'"
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/http_server.h"
#include "registry/registry_store.h"
#include "tracking/sqlite_tracking_store.h"

namespace mltrack::server {

struct UiHandlerOptions {
  // The folder behind the artifact proxy (mlflow-artifacts: URIs resolve into it).
  std::filesystem::path artifacts_destination;
  // The tracking URI of `store`, for following a registered version's runs:/ source.
  std::string tracking_uri;
  // Runs read per store search while exporting CSV (1..50,000).
  int export_page_size = 10000;
};

// Adds the routes above to `server`.
void RegisterUiHandlers(http::Server& server,
                        std::shared_ptr<tracking::SqliteTrackingStore> store,
                        std::shared_ptr<registry::RegistryStore> registry,
                        UiHandlerOptions options);

}  // namespace mltrack::server
